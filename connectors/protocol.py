"""The connector seam: small protocols, one per thing a provider's API can do.

A connector class implements the protocols its provider has an API for and
nothing else; a caller asks `isinstance(connector, Writer)` before it writes.
`capabilities` derives the `Capability` list the schema shows from the same
protocols, so a capability is declared once: by implementing its protocol.

    Connector            every connector: `provider`
    IdReader             fetch_by_ids                         READ_BY_ID
    EmailReader          fetch_by_emails                      READ_BY_EMAIL
    BatchReader          many ids or emails in one call       READ_MANY
    ExternalIdReader     fetch_by_external_ids                -
    Searcher             search by `search_fields`            SEARCH
    Lister               list_contacts                        LIST
    Writer               upsert, upsert_many, writable_fields WRITE
    BatchWriter          a batch endpoint for upsert_many     WRITE_MANY
    Planner              plan: what an upsert would do        -
    IdWriter             upsert_by_ids onto known records     -
    Editor               edit: change or clear fields         -
    Deleter              delete                               DELETE
    TagLister            list_tags (`tag_kind` "tag"/"list")  TAGS, LISTS
    Tagger               tag, untag on one record             TAGS, LISTS
    ActivitySource       fetch_activity                       ACTIVITY
    ActivityFeed         activity_feed (every contact's)      -
    FieldLister          list_fields                          -
    NoteKeeper           notes as activity                    NOTES
    DoNotContactSetter   set_do_not_contact                   DO_NOT_CONTACT
    PointsKeeper         add_points                           POINTS
    SegmentReader        fetch_segments                       -
    CompanyReader        fetch_companies                      -
    UtmTagger            add_utm_tags, remove_utm_tag         -
    HealthChecker        check_health                         -

Methods never raise for a provider refusing a write: a write answers a
`WriteResult` (FAILED or SKIPPED with the reason). Reads raise
`connectors.errors.ConnectorError` when the provider failed after retries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol, runtime_checkable

from gateway.domain.activity import EVERYTHING, ActivityFilter, FeedPage
from gateway.domain.fields import FieldInfo
from gateway.domain.records import (
    ActivityRecord,
    Capability,
    CompanyLink,
    ContactChange,
    ContactRecord,
    ContactWrite,
    DoNotContactReason,
    Health,
    Page,
    Provider,
    SearchField,
    TagInfo,
    TagRef,
    UtmWrite,
    WriteResult,
)


@runtime_checkable
class Connector(Protocol):
    """An async client for one provider, mapping to and from the unified model."""

    provider: ClassVar[Provider]


@runtime_checkable
class IdReader(Protocol):
    async def fetch_by_ids(self, ids: Sequence[str]) -> Mapping[str, ContactRecord]:
        """Fetch contacts by the provider's ids, in as few calls as the API allows.

        Returns:
            The contacts found, keyed by remote id; missing ids are left out.
        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...


@runtime_checkable
class EmailReader(Protocol):
    async def fetch_by_emails(
        self, emails: Sequence[str], *, brief: bool = False
    ) -> Mapping[str, ContactRecord]:
        """Fetch contacts by email, in as few calls as the API allows.

        `brief`: the caller needs no tags, do-not-contact entries or full raw record
        (as for `Lister.list_contacts`), so a provider with a lighter answer may give it.

        Returns:
            The contacts found, keyed by the normalized email asked for.
        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...


@runtime_checkable
class BatchReader(Protocol):
    """`fetch_by_ids` / `fetch_by_emails` answer up to `read_batch_limit` keys a call."""

    read_batch_limit: ClassVar[int]


@runtime_checkable
class ExternalIdReader(Protocol):
    async def fetch_by_external_ids(self, ids: Sequence[str]) -> Mapping[str, ContactRecord]:
        """Fetch contacts by the customer's own user id, keyed by the id asked for."""
        ...


@runtime_checkable
class Searcher(Protocol):
    search_fields: ClassVar[frozenset[SearchField]]

    async def search(self, by: SearchField, value: str) -> list[ContactRecord]:
        """Every contact whose `by` field matches `value`; `by` is one of `search_fields`."""
        ...


@runtime_checkable
class Lister(Protocol):
    async def list_contacts(self, *, cursor: str | None, limit: int, brief: bool = False) -> Page:
        """One page of every contact, in a stable order. `cursor` None is the start.

        `brief`: the caller needs no tags, do-not-contact entries or full raw
        record, so a provider with a lighter listing may answer with it.
        """
        ...

    async def list_contacts_before(
        self, *, cursor: str | None, limit: int, brief: bool = False
    ) -> Page:
        """The contacts right before the one whose position is `cursor` (a position
        from `Page.positions`), in the listing's order; `cursor` None: the last ones.
        `next_cursor` is the first contact's position when more precede it."""
        ...


@runtime_checkable
class Writer(Protocol):
    """Creates and updates contacts; `writable_fields` are the `ContactWrite` fields it stores."""

    writable_fields: ClassVar[frozenset[str]]

    async def upsert(self, contact: ContactWrite) -> WriteResult:
        """Create or update one contact. Never raises for a provider refusal."""
        ...

    async def upsert_many(self, contacts: Sequence[ContactWrite]) -> list[WriteResult]:
        """Create or update many contacts, one result per input, in input order."""
        ...


@runtime_checkable
class BatchWriter(Protocol):
    """`upsert_many` sends up to `write_batch_limit` contacts a call."""

    write_batch_limit: ClassVar[int]


@runtime_checkable
class Planner(Protocol):
    async def plan(self, contact: ContactWrite, existing: ContactRecord | None) -> WriteResult:
        """What `upsert(contact)` would report, without writing: the status (CREATED,
        UPDATED or SKIPPED), the fields it would drop and its message.

        Args:
            contact: the write.
            existing: the provider's record of the contact as read now (or as the
                gateway knows it where the provider cannot be read); None when it
                holds none.
        Returns:
            A result with no remote id. It may read (field or list names); it never
            writes, and never raises for what a write would be refused for.
        """
        ...


@runtime_checkable
class IdWriter(Protocol):
    async def upsert_by_ids(self, items: Sequence[tuple[str, ContactWrite]]) -> list[WriteResult]:
        """Write upserts onto contacts the gateway knows by the provider's id (an input
        without an email, matched by its external id), one result per item in order;
        a contact whose id is gone is created again, as `upsert` would."""
        ...


@runtime_checkable
class Editor(Protocol):
    async def edit(self, contact: ContactRecord, change: ContactChange) -> WriteResult:
        """Change, or clear (None), the given fields of a contact the provider holds.

        Returns:
            UPDATED when something was changed, with `dropped_fields` naming what the
            provider cannot change; SKIPPED (with the reason) when nothing given can
            be, so nothing was sent; FAILED with the provider's words. Never raises
            for a provider refusal.
        """
        ...


@runtime_checkable
class Deleter(Protocol):
    async def delete(self, contact: ContactRecord) -> WriteResult:
        """Delete one contact (its record, as read before): DELETED, FAILED or SKIPPED."""
        ...


@runtime_checkable
class TagLister(Protocol):
    """Lists its tags; `tag_kind` is "tag", or "list" where tags are lists (Trustmary)."""

    tag_kind: ClassVar[str]

    async def list_tags(self) -> list[TagInfo]:
        """Every tag (or list) the provider knows about."""
        ...


@runtime_checkable
class Tagger(Protocol):
    async def tag(
        self, contact: ContactRecord, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> WriteResult:
        """Add and remove tags (by name) on one contact."""
        ...


@runtime_checkable
class ActivitySource(Protocol):
    async def fetch_activity(
        self, remote_ids: Sequence[str], *, limit: int, wanted: ActivityFilter = EVERYTHING
    ) -> Mapping[str, list[ActivityRecord]]:
        """The newest `limit` activity items per contact that `wanted` admits, newest first.

        The provider is asked to filter what it can; the rest is filtered locally,
        so every item answered is admitted and none admitted within the newest
        `limit` is left out.

        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...


@runtime_checkable
class ActivityFeed(Protocol):
    async def activity_feed(self, *, offset: int, limit: int, wanted: ActivityFilter) -> FeedPage:
        """Up to `limit` items of every contact's activity, newest first, from the
        `offset`-th on, that `wanted` admits; each item names its contact.

        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...


@runtime_checkable
class FieldLister(Protocol):
    async def list_fields(self) -> list[FieldInfo]:
        """Every contact field the provider has, in its own order.

        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...


@runtime_checkable
class NoteKeeper(Protocol):
    """Keeps notes on contacts: `notes_from` says where ("activity" or "record")."""

    notes_from: ClassVar[str]


@runtime_checkable
class DoNotContactSetter(Protocol):
    async def set_do_not_contact(
        self,
        remote_id: str,
        *,
        channel: str,
        enabled: bool,
        comments: str | None = None,
        reason: DoNotContactReason | None = None,
        channel_id: str | None = None,
    ) -> WriteResult:
        """Add (enabled) or remove a do-not-contact entry on a channel; `comments`,
        `reason` (None: the provider's default) and `channel_id` describe an entry added."""
        ...


@runtime_checkable
class PointsKeeper(Protocol):
    async def add_points(
        self,
        remote_id: str,
        delta: int,
        *,
        event_name: str | None = None,
        action_name: str | None = None,
    ) -> WriteResult:
        """Add (positive) or subtract (negative) points, with the names of the event and
        the action that earned them when given."""
        ...


@runtime_checkable
class SegmentReader(Protocol):
    async def fetch_segments(self, remote_ids: Sequence[str]) -> Mapping[str, list[TagRef]]:
        """The segments each contact is a member of (kind "segment"), in as few calls as
        the API allows; a contact the provider does not hold is left out.

        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...


@runtime_checkable
class CompanyReader(Protocol):
    async def fetch_companies(self, remote_ids: Sequence[str]) -> Mapping[str, list[CompanyLink]]:
        """The companies each contact is associated with, the primary one marked; a
        contact the provider does not hold is left out.

        Raises:
            ConnectorError: the provider failed after retries.
        """
        ...


@runtime_checkable
class UtmTagger(Protocol):
    async def add_utm_tags(self, remote_id: str, utm: UtmWrite) -> WriteResult:
        """Add one set of UTM parameters (a visit) to a contact."""
        ...

    async def remove_utm_tag(self, remote_id: str, utm_id: str) -> WriteResult:
        """Remove one set of UTM parameters, by the provider's id of it."""
        ...


@runtime_checkable
class ContactCounter(Protocol):
    async def count_contacts(self) -> int:
        """How many contacts the provider holds, in one call."""
        ...


@runtime_checkable
class HealthChecker(Protocol):
    async def check_health(self) -> Health:
        """One cheap authenticated call that tells whether the provider answers."""
        ...


# Each capability and the protocol that grants it.
_GRANTS: tuple[tuple[Capability, type], ...] = (
    (Capability.READ_BY_ID, IdReader),
    (Capability.READ_BY_EMAIL, EmailReader),
    (Capability.READ_MANY, BatchReader),
    (Capability.SEARCH, Searcher),
    (Capability.LIST, Lister),
    (Capability.WRITE, Writer),
    (Capability.WRITE_MANY, BatchWriter),
    (Capability.DELETE, Deleter),
    (Capability.TAGS, TagLister),
    (Capability.TAGS, Tagger),
    (Capability.ACTIVITY, ActivitySource),
    (Capability.NOTES, NoteKeeper),
    (Capability.DO_NOT_CONTACT, DoNotContactSetter),
    (Capability.POINTS, PointsKeeper),
)


def _members(protocol: type) -> set[str]:
    names = {n for n in vars(protocol) if not n.startswith("_")}
    return names | set(getattr(protocol, "__annotations__", {}))


def implements(connector: object, protocol: type) -> bool:
    """Whether `connector` (an instance or a class) has every member of `protocol`.

    `isinstance` answers this for instances; this also answers it for a class,
    which `issubclass` cannot for protocols with attributes.
    """
    return all(hasattr(connector, name) for name in _members(protocol))


def capabilities(connector: object) -> frozenset[Capability]:
    """The capabilities `connector` (an instance or a class) grants by its protocols."""
    found = {cap for cap, protocol in _GRANTS if implements(connector, protocol)}
    if getattr(connector, "tag_kind", None) == "list":
        found.add(Capability.LISTS)
    return frozenset(found)
