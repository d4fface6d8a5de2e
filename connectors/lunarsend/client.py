"""Lunar Send CRM (v1): one search term a call, create, a narrow edit, delete.

Lunar Send reads by one field value (`searchby` / `search`), so many keys cost
one call each, bounded by the connector's concurrency and paced under the
documented 2 requests a second (`settings.rate_limit`). An existing contact
can only have its name, email and phone edited; everything else given for it
is reported as dropped, never claimed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import HTTPConnector
from connectors.errors import ConnectorError, NotFound, ProviderError
from connectors.types import (
    Activity,
    Capability,
    Contact,
    ContactInput,
    Health,
    Provider,
    SearchField,
    WriteResult,
    WriteStatus,
    clean_text,
    normalize_email,
    parse_datetime,
)

EDIT_ONLY_MESSAGE = "Lunar Send only lets name, email and phone be edited"
NEEDS_FIRST_NAME = "Lunar Send needs a first name to create a contact"
NAME_SPLIT_MESSAGE = (
    "Lunar Send edits a name as one text split at its first space, "
    "which would not give this first and last name"
)
_SEARCHABLE = {SearchField.EMAIL: "email", SearchField.COMPANY: "company"}


class LunarSendConnector(HTTPConnector):
    """Lunar Send's contacts API (`x-api-key` header).

    Lunar Send allows 2 requests a second: configure `settings.rate_limit`
    (`rate_limit = {requests = 2, per_seconds = 1}`) so the gateway paces itself
    instead of earning 429s.
    """

    provider = Provider.LUNARSEND
    capabilities = frozenset(
        {
            Capability.READ_BY_ID,
            Capability.READ_BY_EMAIL,
            Capability.SEARCH,
            Capability.WRITE,
            Capability.DELETE,
            Capability.NOTES,
        }
    )
    writable_fields = frozenset(
        {"email", "first_name", "last_name", "phones", "company", "job_title"}
    )
    required_credentials = ("api_key",)

    def auth_headers(self) -> Mapping[str, str]:
        assert self.settings.api_key is not None
        return {"x-api-key": self.settings.api_key.get()}

    # -- reads ----------------------------------------------------------------

    async def fetch_by_ids(self, ids: Sequence[str]) -> Mapping[str, Contact]:
        """One search by id per distinct id (Lunar Send has no many-id read)."""
        return await self._find_each("id", dict.fromkeys(i.strip() for i in ids if i.strip()))

    async def fetch_by_emails(self, emails: Sequence[str]) -> Mapping[str, Contact]:
        """One search by email per distinct email, keyed by the normalized email."""
        return await self._find_each(
            "email", dict.fromkeys(filter(None, map(normalize_email, emails)))
        )

    async def search(self, by: SearchField, value: str) -> list[Contact]:
        """Contacts whose email or company equals `value` (case-insensitive), one call.

        Raises:
            Unsupported: for text and tag search, which Lunar Send cannot do.
        """
        field = _SEARCHABLE.get(by)
        if field is None:
            self.unsupported(f"search contacts by {by.value}")
        return [self.to_contact(r) for r in await self._search(field, value.strip())]

    async def _find_each(self, field: str, values: Iterable[str]) -> dict[str, Contact]:
        wanted = list(values)
        found = await asyncio.gather(*(self._find(field, value) for value in wanted))
        return {value: contact for value, contact in zip(wanted, found, strict=True) if contact}

    async def _find(self, field: str, value: str) -> Contact | None:
        for record in await self._search(field, value):
            stored = record.get(field)
            if isinstance(stored, str) and stored.strip().casefold() == value.casefold():
                return self.to_contact(record)
        return None

    async def _search(self, field: str, value: str) -> list[dict[str, Any]]:
        body = await self.get_json("/contacts", params={"searchby": field, "search": value})
        records = body.get("data") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ProviderError("answered without a data list", provider=self.provider, status=200)
        return [r for r in records if isinstance(r, dict) and r.get("id") is not None]

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactInput) -> WriteResult:
        """Create the contact, or edit its name, email and phone when the email exists."""
        if not contact.email or not contact.email.strip():
            return self.skipped("Lunar Send needs an email to store a contact")
        email = contact.email.strip()
        dropped = [f"phones[{i}]" for i in range(1, len(contact.phones or ()))]
        dropped += self.unwritable(contact)
        try:
            existing = await self._find("email", email)
            if existing is None:
                return await self._create(contact, email, dropped)
            return await self._edit(existing, contact, email, dropped)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)

    async def _create(self, contact: ContactInput, email: str, dropped: list[str]) -> WriteResult:
        if not contact.first_name or not contact.first_name.strip():
            return self.skipped(NEEDS_FIRST_NAME)
        payload: dict[str, Any] = {"first_name": contact.first_name.strip(), "email": email}
        optional = {
            "last_name": contact.last_name,
            "phone": contact.phones[0] if contact.phones else None,
            "company": contact.company,
            "job_title": contact.job_title,
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
        self, existing: Contact, contact: ContactInput, email: str, dropped: list[str]
    ) -> WriteResult:
        refused = [name for name in ("company", "job_title") if getattr(contact, name) is not None]
        notes = [EDIT_ONLY_MESSAGE] if refused else []
        fields: dict[str, Any] = {}
        name_given = [n for n in ("first_name", "last_name") if getattr(contact, n) is not None]
        if name_given:
            name = _edited_name(existing, contact)
            if name is None:
                refused = name_given + refused
                notes.append(NAME_SPLIT_MESSAGE)
            else:
                fields["name"] = name
        dropped = refused + dropped
        message = "; ".join(notes) or None
        if email != existing.email:
            fields["email"] = email
        if contact.phones:
            fields["phone"] = contact.phones[0]
        if not fields:
            if dropped:
                return self.skipped(
                    message or "nothing Lunar Send can store was given", dropped=dropped
                )
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

    async def delete(self, contact: Contact) -> WriteResult:
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
        return WriteResult(
            self.provider, WriteStatus.UPDATED, remote_id=contact.remote_id, message="deleted"
        )

    async def check_health(self) -> Health:
        """A search for an address no contact can have: cheap, and refused without a key."""
        return await self.timed_health(
            "/contacts", params={"searchby": "email", "search": "healthcheck@example.invalid"}
        )

    # -- mapping ----------------------------------------------------------------

    def to_contact(self, record: Mapping[str, Any]) -> Contact:
        """A Lunar Send contact in the unified model; its `notes` become a note activity."""
        remote_id = str(record["id"])
        email = clean_text(record.get("email"))
        first, last = clean_text(record.get("first_name")), clean_text(record.get("last_name"))
        phone = clean_text(record.get("phone"))
        created_at = parse_timestamp(record.get("created_at"))
        notes = clean_text(record.get("notes"))
        inline = []
        if notes and created_at is not None:
            inline.append(
                Activity(
                    provider=self.provider,
                    contact_remote_id=remote_id,
                    id=f"{remote_id}:notes",
                    kind="note",
                    type="note",
                    label=None,
                    timestamp=created_at,
                    details={"text": notes},
                )
            )
        return Contact(
            provider=self.provider,
            remote_id=remote_id,
            email=email,
            emails=[email] if email else [],
            first_name=first,
            last_name=last,
            name=" ".join(p for p in (first, last) if p) or None,
            phones=[phone] if phone else [],
            company=clean_text(record.get("company")),
            job_title=clean_text(record.get("job_title")),
            created_at=created_at,
            inline_activity=inline,
            raw=record,
        )


def _edited_name(existing: Contact, contact: ContactInput) -> str | None:
    """The `name` an edit sends, or None when Lunar Send's split at the first space
    would store other first and last names than the ones meant."""
    first = contact.first_name if contact.first_name is not None else existing.first_name
    last = contact.last_name if contact.last_name is not None else existing.last_name
    first, last = (first or "").strip(), (last or "").strip()
    if not first or " " in first:
        return None
    return f"{first} {last}".rstrip()


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 string (or a unix time in seconds or milliseconds) as aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    return parse_datetime(value)
