"""Lunar Send's contacts in the unified model (docs/providers/lunarsend.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.mapping import clean_text, parse_datetime
from gateway.domain.records import (
    ActivityKind,
    ActivityRecord,
    ContactRecord,
    ContactWrite,
    Provider,
)


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


def edited_name(existing: ContactRecord, contact: ContactWrite) -> str | None:
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
