"""Lunar Send CRM (v1): one search term a call, create, a narrow edit, delete
(docs/providers/lunarsend.md).

Lunar Send reads by one field value (`searchby` / `search`), so many keys cost
one call each, bounded by the connector's concurrency and paced under the
documented 2 requests a second (`settings.rate_limit`). An existing contact
can only have its name, email and phone edited; everything else given for it
is reported as dropped, never claimed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.base import HTTPConnector, OneByOneWrites
from connectors.errors import BadInput, ConnectorError, NotFound, ProviderError
from connectors.lunarsend.mapping import (
    create_dropped,
    edit_plan,
    to_record,
)
from connectors.lunarsend.settings import LunarSendSettings
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    ContactChange,
    ContactRecord,
    ContactWrite,
    Health,
    Provider,
    SearchField,
    WriteResult,
    WriteStatus,
)

CONFLICT = 409
NEEDS_EMAIL = "Lunar Send needs an email to store a contact"
NEEDS_FIRST_NAME = "Lunar Send needs a first name to create a contact"
NOTHING_EDITABLE = "nothing Lunar Send can change was given"
_SEARCHABLE = {SearchField.EMAIL: "email", SearchField.COMPANY: "company"}


class LunarSendConnector(OneByOneWrites, HTTPConnector[LunarSendSettings]):
    """Lunar Send's contacts API (`x-api-key` header).

    Lunar Send allows 2 requests a second: configure `settings.rate_limit`
    (`rate_limit = {requests = 2, per_seconds = 1}`) so the gateway paces itself
    instead of earning 429s.
    """

    provider = Provider.LUNARSEND
    # An upsert looks the email up, then creates or edits (for estimates of bulk jobs).
    calls_per_write = 2
    search_fields = frozenset(_SEARCHABLE)
    notes_from = "record"
    # `company`, `job_title` and `notes` only when the contact is created.
    writable_fields = frozenset(
        {"email", "first_name", "last_name", "phones", "company", "job_title", "notes"}
    )

    def auth_headers(self) -> Mapping[str, str]:
        return {"x-api-key": self.settings.api_key.get()}

    # -- reads ----------------------------------------------------------------

    async def fetch_by_ids(self, ids: Sequence[str]) -> Mapping[str, ContactRecord]:
        """One search by id per distinct id (Lunar Send has no many-id read)."""
        return await self._find_each("id", dict.fromkeys(i.strip() for i in ids if i.strip()))

    async def fetch_by_emails(
        self, emails: Sequence[str], *, brief: bool = False
    ) -> Mapping[str, ContactRecord]:
        """One search by email per distinct email, keyed by the normalized email (its
        records are as short as they come: `brief` changes nothing)."""
        return await self._find_each(
            "email", dict.fromkeys(filter(None, map(normalize_email, emails)))
        )

    async def search(self, by: SearchField, value: str) -> list[ContactRecord]:
        """Contacts whose email or company equals `value` (case-insensitive), one call."""
        field = _SEARCHABLE[by]
        return [to_record(r) for r in await self._search(field, value.strip())]

    async def _find_each(self, field: str, values: Iterable[str]) -> dict[str, ContactRecord]:
        wanted = list(values)
        if len(wanted) == 1:  # the usual lookup: no task for one search
            contact = await self._find(field, wanted[0])
            return {wanted[0]: contact} if contact else {}
        found = await asyncio.gather(*(self._find(field, value) for value in wanted))
        return {value: contact for value, contact in zip(wanted, found, strict=True) if contact}

    async def _find(self, field: str, value: str) -> ContactRecord | None:
        for record in await self._search(field, value):
            stored = record.get(field)
            if isinstance(stored, str) and stored.strip().casefold() == value.casefold():
                return to_record(record)
        return None

    async def _search(self, field: str, value: str) -> list[dict[str, Any]]:
        body = await self.get_json("/contacts", params={"searchby": field, "search": value})
        records = body.get("data") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ProviderError("answered without a data list", provider=self.provider, status=200)
        return [r for r in records if isinstance(r, dict) and r.get("id") is not None]

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactWrite) -> WriteResult:
        """Create the contact, or edit its name, email and phone when the email exists."""
        if not contact.email or not contact.email.strip():
            return self.skipped(NEEDS_EMAIL)
        email = contact.email.strip()
        dropped = create_dropped(contact, self.writable_fields)
        try:
            existing = await self._find("email", email)
            if existing is None:
                try:
                    return await self._create(contact, email, dropped)
                except BadInput as exc:
                    # Lunar Send cannot upsert: a write sent at the same time created
                    # the contact between the lookup and the create (409). It is there:
                    # this write edits it, as it would have had it come second.
                    if exc.status != CONFLICT:
                        raise
                    existing = await self._find("email", email)
                    if existing is None:
                        raise
            return await self._edit(existing, _upserted(contact, email), upsert=True)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)

    async def plan(self, contact: ContactWrite, existing: ContactRecord | None) -> WriteResult:
        """What `upsert` would report, from the same rules (no call made)."""
        if not contact.email or not contact.email.strip():
            return self.skipped(NEEDS_EMAIL)
        email = contact.email.strip()
        if existing is None:
            if not contact.first_name or not contact.first_name.strip():
                return self.skipped(NEEDS_FIRST_NAME)
            dropped = create_dropped(contact, self.writable_fields)
            return WriteResult(self.provider, WriteStatus.CREATED, dropped_fields=tuple(dropped))
        fields, dropped, notes = edit_plan(existing, _upserted(contact, email))
        message = "; ".join(notes) or None
        if not fields and dropped:
            return self.skipped(message or NOTHING_EDITABLE, dropped=dropped)
        return WriteResult(
            self.provider,
            WriteStatus.UPDATED,
            message=message if fields else "already up to date",
            dropped_fields=tuple(dropped),
        )

    async def edit(self, contact: ContactRecord, change: ContactChange) -> WriteResult:
        """`POST /contacts/edit` with the name, email and phone given; everything else
        is reported dropped."""
        try:
            return await self._edit(contact, change, upsert=False)
        except NotFound:
            return self.failed("not found")
        except ConnectorError as exc:
            return self.failed(exc, dropped=edit_plan(contact, change)[1])

    async def _create(self, contact: ContactWrite, email: str, dropped: list[str]) -> WriteResult:
        if not contact.first_name or not contact.first_name.strip():
            return self.skipped(NEEDS_FIRST_NAME)
        payload: dict[str, Any] = {"first_name": contact.first_name.strip(), "email": email}
        optional = {
            "last_name": contact.last_name,
            "phone": contact.phones[0] if contact.phones else None,
            "company": contact.company,
            "job_title": contact.job_title,
            "notes": contact.notes,
        }
        payload.update({key: value for key, value in optional.items() if value is not None})
        response = await self.request("POST", "/contacts", json=payload)
        remote_id = self._answered_id(self.decode(response))
        if remote_id is None:
            return self.failed("Lunar Send answered without the new contact's id", dropped=dropped)
        return WriteResult(
            self.provider, WriteStatus.CREATED, remote_id=remote_id, dropped_fields=tuple(dropped)
        )

    async def _edit(
        self, existing: ContactRecord, change: ContactChange, *, upsert: bool
    ) -> WriteResult:
        fields, dropped, notes = edit_plan(existing, change)
        message = "; ".join(notes) or None
        if not fields:
            if dropped or not upsert:
                return self.skipped(message or NOTHING_EDITABLE, dropped=dropped)
            return WriteResult(
                self.provider,
                WriteStatus.UPDATED,
                remote_id=existing.remote_id,
                message="already up to date",
                contact=existing,
            )
        body = {"contactID": existing.remote_id, "updateFields": fields}
        response = await self.request("POST", "/contacts/edit", json=body)
        remote_id = self._answered_id(self.decode(response)) or existing.remote_id
        return WriteResult(
            self.provider,
            WriteStatus.UPDATED,
            remote_id=remote_id,
            message=message,
            dropped_fields=tuple(dropped),
        )

    @staticmethod
    def _answered_id(body: Any) -> str | None:
        if isinstance(body, dict) and body.get("id") is not None:
            return str(body["id"])
        return None

    async def delete(self, contact: ContactRecord) -> WriteResult:
        """Delete the contact by its Lunar Send id."""
        try:
            response = await self.request(
                "DELETE", "/contacts", json={"contact_id": contact.remote_id}
            )
        except NotFound:
            return self.failed("not found")
        except ConnectorError as exc:
            return self.failed(exc)
        answer = self.decode(response)
        if not isinstance(answer, str) or "deleted" not in answer.lower():
            return self.failed(f"Lunar Send answered the delete with {answer!r}")
        return WriteResult(self.provider, WriteStatus.DELETED, remote_id=contact.remote_id)

    async def check_health(self) -> Health:
        """A search for an address no contact can have: cheap, and refused without a key."""
        return await self.timed_health(
            "/contacts", params={"searchby": "email", "search": "healthcheck@example.invalid"}
        )


def _upserted(contact: ContactWrite, email: str) -> ContactChange:
    """The change an upsert makes to a contact that exists (an empty phone list leaves
    the phone alone, as it does on a create)."""
    change = dict(ContactChange.of_write(contact).values, email=email)
    if not contact.phones:
        change.pop("phones", None)
    return ContactChange(change)
