"""Trustmary's contact objects in the unified model (docs/providers/trustmary.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from connectors.mapping import clean_text, parse_datetime
from gateway.domain.records import ContactRecord, ContactStatus, ContactType, Provider

E = TypeVar("E")

# The values Trustmary documents for `type` and `status`; any other is OTHER.
TYPES = {"customer": ContactType.CUSTOMER, "employee": ContactType.EMPLOYEE}
STATUSES = {
    "active": ContactStatus.ACTIVE,
    "error": ContactStatus.ERROR,
    "deleted": ContactStatus.DELETED,
    "unsubscribed": ContactStatus.UNSUBSCRIBED,
}


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
        type=_known(record.get("type"), TYPES, ContactType.OTHER),
        status=_known(record.get("status"), STATUSES, ContactStatus.OTHER),
        external_id=clean_text(record.get("eid")),
        created_at=parse_datetime(record.get("created_at")),
        updated_at=parse_datetime(record.get("updated_at")),
        raw=record,
    )


def _known(value: Any, table: Mapping[str, E], other: E) -> E | None:
    text = clean_text(value)
    return table.get(text.lower(), other) if text else None
