"""Lunar Send CRM (v1): one search term a call, create, a narrow edit, delete.

Lunar Send reads by one field value (`searchby` / `search`), so many keys cost
one call each, bounded by the connector's concurrency and paced under the
documented 2 requests a second (`settings.rate_limit`). An existing contact
can only have its name, email and phone edited; everything else given for it
is reported as dropped, never claimed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
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
    normalize_email,
)

EDIT_ONLY_MESSAGE = "Lunar Send only lets name, email and phone be edited"
NEEDS_FIRST_NAME = "Lunar Send needs a first name to create a contact"
_SEARCHABLE = {SearchField.EMAIL: "email", SearchField.COMPANY: "company"}
# ContactInput fields Lunar Send has nowhere to store, on create or edit.
_NEVER_STORED = ("external_id", "account_external_id", "tags", "custom_fields")


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

    # Documented: 2 requests a second. Pacing at exactly that lets timer and network
    # jitter land a third call inside the provider's one-second window, so spare 0.1s.

    def auth_headers(self) -> Mapping[str, str]:
        assert self.settings.api_key is not None
        return {"x-api-key": self.settings.api_key.get()}

    # -- reads ----------------------------------------------------------------

    async def fetch_by_ids(self, ids: Sequence[str]) -> Mapping[str, Contact]:
        """One search by id per distinct id (Lunar Send has no many-id read)."""
        wanted = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        found = await asyncio.gather(*(self._find("id", i) for i in wanted))
        return {i: contact for i, contact in zip(wanted, found, strict=True) if contact}

    async def fetch_by_emails(self, emails: Sequence[str]) -> Mapping[str, Contact]:
        """One search by email per distinct email, keyed by the normalized email."""
        wanted = list(dict.fromkeys(e for e in map(normalize_email, emails) if e))
        found = await asyncio.gather(*(self._find("email", e) for e in wanted))
        return {e: contact for e, contact in zip(wanted, found, strict=True) if contact}

    async def search(self, by: SearchField, value: str) -> list[Contact]:
        """Contacts whose email or company equals `value` (case-insensitive), one call.

        Raises:
            Unsupported: for text and tag search, which Lunar Send cannot do.
        """
        field = _SEARCHABLE.get(by)
        if field is None:
            self.unsupported(f"search contacts by {by.value}")
        return [self.to_contact(r) for r in await self._search(field, value.strip())]

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
        dropped += [name for name in _NEVER_STORED if _given(getattr(contact, name))]
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
        not_editable = [
            name for name in ("company", "job_title") if getattr(contact, name) is not None
        ]
        dropped = not_editable + dropped
        message = EDIT_ONLY_MESSAGE if not_editable else None
        fields: dict[str, Any] = {}
        if contact.first_name is not None or contact.last_name is not None:
            first = contact.first_name if contact.first_name is not None else existing.first_name
            last = contact.last_name if contact.last_name is not None else existing.last_name
            fields["name"] = " ".join(p for p in (first, last) if p)
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
        email = _text(record.get("email"))
        first, last = _text(record.get("first_name")), _text(record.get("last_name"))
        phone = _text(record.get("phone"))
        created_at = parse_timestamp(record.get("created_at"))
        notes = _text(record.get("notes"))
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
            company=_text(record.get("company")),
            job_title=_text(record.get("job_title")),
            created_at=created_at,
            inline_activity=inline,
            raw=record,
        )


def _given(value: Any) -> bool:
    if value is None:
        return False
    return not (isinstance(value, (tuple, list, dict, Mapping)) and not value)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 string (or a unix time in seconds or milliseconds) as aware UTC."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
