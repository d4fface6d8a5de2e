"""Lunar Send's contacts in the unified model (docs/providers/lunarsend.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.mapping import clean_text, parse_datetime
from gateway.domain.records import (
    ActivityKind,
    ActivityRecord,
    ContactChange,
    ContactRecord,
    ContactWrite,
    Provider,
)

EDITABLE = frozenset({"first_name", "last_name", "email", "phones"})
EDIT_ONLY_MESSAGE = "Lunar Send only lets name, email and phone be edited"
ONE_PHONE_MESSAGE = "Lunar Send keeps one phone"
NAME_SPLIT_MESSAGE = (
    "Lunar Send edits a name as one text split at its first space, "
    "which would not give this first and last name"
)
NEEDS_EMAIL = "Lunar Send keeps an email on every contact: it cannot be cleared"


def to_record(record: Mapping[str, Any]) -> ContactRecord:
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
            ActivityRecord(
                provider=Provider.LUNARSEND,
                contact_remote_id=remote_id,
                id=f"{remote_id}:notes",
                kind=ActivityKind.NOTE,
                type="note",
                label=None,
                timestamp=created_at,
                details={"text": notes},
            )
        )
    return ContactRecord(
        provider=Provider.LUNARSEND,
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


def edited_name(existing: ContactRecord, change: ContactChange) -> str | None:
    """The `name` an edit sends, or None when Lunar Send's split at the first space
    would store other first and last names than the ones meant (a first name cleared
    or holding a space)."""
    first = change.get("first_name") if change.has("first_name") else existing.first_name
    last = change.get("last_name") if change.has("last_name") else existing.last_name
    first, last = (first or "").strip(), (last or "").strip()
    if not first or " " in first:
        return None
    return f"{first} {last}".rstrip()


def edit_plan(
    existing: ContactRecord, change: ContactChange
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The `updateFields` of `POST /contacts/edit` for `change`, the given fields it
    cannot carry, and notes saying why. Used by upserts of a contact that exists and by
    edits alike, so both report the same."""
    fields: dict[str, Any] = {}
    notes: list[str] = []
    # What Lunar Send takes when it creates a contact and never lets be edited.
    refused = [name for name in ("company", "job_title", "notes") if change.has(name)]
    if refused:
        notes.append(EDIT_ONLY_MESSAGE)
    name_given = [n for n in ("first_name", "last_name") if change.has(n)]
    if name_given:
        name = edited_name(existing, change)
        if name is None:
            refused = name_given + refused
            notes.append(NAME_SPLIT_MESSAGE)
        else:
            fields["name"] = name
    if change.has("email"):
        email = change.get("email")
        if email is None:
            refused.append("email")
            notes.append(NEEDS_EMAIL)
        elif email != existing.email:
            fields["email"] = email
    phones = change.get("phones") or ()
    if change.has("phones"):
        fields["phone"] = phones[0] if phones else None
    dropped = refused + [f"phones[{i}]" for i in range(1, len(phones))]
    if len(phones) > 1:
        notes.append(ONE_PHONE_MESSAGE)
    others = [n for n in change.given() if n not in EDITABLE and n not in refused]
    if others and EDIT_ONLY_MESSAGE not in notes:
        notes.append(EDIT_ONLY_MESSAGE)
    return fields, dropped + others, notes


def create_dropped(contact: ContactWrite, writable: frozenset[str]) -> list[str]:
    """The given fields a create leaves out: phones past the first, and fields Lunar
    Send has nowhere to store."""
    dropped = [f"phones[{i}]" for i in range(1, len(contact.phones or ()))]
    return dropped + [name for name in contact.given() if name not in writable]


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 string (or a unix time in seconds or milliseconds) as aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    return parse_datetime(value)
