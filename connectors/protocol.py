"""The connector seam: what the gateway may ask of a provider.

A caller checks `capabilities` before calling a method; a method a provider
has no API for raises `connectors.errors.Unsupported`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol

from connectors.types import (
    Activity,
    Capability,
    Contact,
    ContactInput,
    Health,
    Page,
    Provider,
    SearchField,
    Tag,
    WriteResult,
)


class Connector(Protocol):
    """An async client for one provider, mapping to and from the unified model.

    Attributes:
        provider: which provider this connector speaks to.
        capabilities: what it can do; methods outside it raise `Unsupported`.
        writable_fields: the `ContactInput` fields the provider can store.
    """

    provider: ClassVar[Provider]
    capabilities: ClassVar[frozenset[Capability]]
    writable_fields: ClassVar[frozenset[str]]

    async def fetch_by_ids(self, ids: Sequence[str]) -> Mapping[str, Contact]:
        """Fetch contacts by the provider's ids, in as few calls as the API allows.

        Returns:
            The contacts found, keyed by remote id; missing ids are left out.
        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...

    async def fetch_by_emails(self, emails: Sequence[str]) -> Mapping[str, Contact]:
        """Fetch contacts by email, in as few calls as the API allows.

        Returns:
            The contacts found, keyed by the normalized email asked for.
        """
        ...

    async def search(self, by: SearchField, value: str) -> list[Contact]:
        """Every contact whose `by` field matches `value` (equality, case-insensitive)."""
        ...

    async def list_contacts(self, *, cursor: str | None, limit: int, brief: bool = False) -> Page:
        """One page of every contact, in a stable order. `cursor` None is the start.

        `brief`: the caller needs no tags, do-not-contact entries or full raw
        record, so a provider with a lighter listing may answer with it."""
        ...

    async def upsert(self, contact: ContactInput) -> WriteResult:
        """Create or update one contact. Never raises for a provider refusal:
        the result says FAILED or SKIPPED with the reason."""
        ...

    async def upsert_many(self, contacts: Sequence[ContactInput]) -> list[WriteResult]:
        """Create or update many contacts, one result per input, in input order."""
        ...

    async def delete(self, contact: Contact) -> WriteResult:
        """Delete one contact (the provider's record, as read or written before)."""
        ...

    async def list_tags(self) -> list[Tag]:
        """Every tag (or list) the provider knows about."""
        ...

    async def tag(
        self, contact: Contact, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> WriteResult:
        """Add and remove tags (by name) on one contact."""
        ...

    async def fetch_activity(
        self, remote_ids: Sequence[str], *, limit: int
    ) -> Mapping[str, list[Activity]]:
        """The newest `limit` activity items per contact, newest first."""
        ...

    async def set_do_not_contact(
        self, remote_id: str, *, channel: str, enabled: bool, comments: str | None = None
    ) -> WriteResult:
        """Add (enabled) or remove a do-not-contact entry on a channel."""
        ...

    async def add_points(self, remote_id: str, delta: int) -> WriteResult:
        """Add (positive) or subtract (negative) points."""
        ...

    async def check_health(self) -> Health:
        """One cheap authenticated call that tells whether the provider answers."""
        ...
