"""Trustmary's contact objects in the unified model (docs/providers/trustmary.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.mapping import clean_text, parse_datetime
from gateway.domain.records import ContactRecord, Provider


def to_record(record: Mapping[str, Any]) -> ContactRecord:
    """A Trustmary contact object in the unified model."""
    email = clean_text(record.get("email"))
    name = clean_text(record.get("name"))
    first = last = None
    if name:
        first, _, rest = name.partition(" ")
        last = rest.strip() or None
    phone = clean_text(record.get("phone"))
    return ContactRecord(
        provider=Provider.TRUSTMARY,
        remote_id=str(record["id"]),
        email=email,
        emails=[email] if email else [],
        first_name=first or None,
        last_name=last,
        name=name,
        phones=[phone] if phone else [],
        company=clean_text(record.get("company")),
        type=clean_text(record.get("type")),
        status=clean_text(record.get("status")),
        external_id=clean_text(record.get("eid")),
        created_at=parse_datetime(record.get("created_at")),
        updated_at=parse_datetime(record.get("updated_at")),
        raw=record,
    )
