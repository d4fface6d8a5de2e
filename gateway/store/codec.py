"""Provider records as JSON, for the record cache: exactly what was read, read back."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from gateway.domain.records import (
    ActivityKind,
    ActivityRecord,
    ContactRecord,
    ContactStatus,
    ContactType,
    DoNotContactEntry,
    DoNotContactReason,
    Lifecycle,
    OwnerRef,
    PostalAddress,
    Provider,
    TagRef,
    UtmTag,
)

_DATES = ("created_at", "updated_at", "last_active_at")


def encode(record: ContactRecord) -> dict[str, Any]:
    """`record` as JSON-ready data."""
    data: dict[str, Any] = {}
    for item in fields(record):
        if item.name == "fetched_at":  # kept beside the record, not in it
            continue
        value = getattr(record, item.name)
        if item.name in _DATES:
            value = value.isoformat() if value is not None else None
        elif item.name == "tags":
            value = [[t.name, t.kind, t.id] for t in value]
        elif item.name in ("address", "owner"):
            value = asdict(value) if value is not None else None
        elif item.name == "inline_activity":
            value = [
                {
                    "id": a.id,
                    "kind": a.kind.value,
                    "type": a.type,
                    "label": a.label,
                    "timestamp": a.timestamp.isoformat(),
                    "details": dict(a.details),
                }
                for a in value
            ]
        elif item.name == "do_not_contact_entries":
            value = [
                {
                    **asdict(e),
                    "reason": e.reason.value if e.reason is not None else None,
                    "added_at": _iso(e.added_at),
                }
                for e in value
            ]
        elif item.name == "utm_tags":
            value = [{**asdict(u), "added_at": _iso(u.added_at)} for u in value]
        elif item.name == "raw":
            value = dict(value)
        elif item.name in ("provider", "type", "status", "lifecycle"):
            value = value.value if value is not None else None
        data[item.name] = value
    return data


def decode(data: dict[str, Any]) -> ContactRecord:
    """The record `encode` made `data` from.

    Data cached before a field existed decodes with that field's default.
    """
    values = dict(data)
    provider = Provider(values.pop("provider"))
    for name in _DATES:
        raw = values.get(name)
        values[name] = datetime.fromisoformat(raw) if raw else None
    values["tags"] = [TagRef(name, kind, tag_id) for name, kind, tag_id in values.get("tags", [])]
    values["type"] = ContactType.of(values.get("type"))
    values["status"] = ContactStatus.of(values.get("status"))
    lifecycle = values.get("lifecycle")
    values["lifecycle"] = Lifecycle(lifecycle) if lifecycle else None
    address, owner = values.get("address"), values.get("owner")
    values["address"] = PostalAddress(**address) if address else None
    values["owner"] = OwnerRef(**owner) if owner else None
    values["inline_activity"] = [
        ActivityRecord(
            provider,
            values["remote_id"],
            id=a["id"],
            kind=ActivityKind(a["kind"]),
            type=a["type"],
            label=a["label"],
            timestamp=datetime.fromisoformat(a["timestamp"]),
            details=a["details"],
        )
        for a in values.get("inline_activity", [])
    ]
    values["do_not_contact_entries"] = [
        DoNotContactEntry(
            **{
                **e,
                "reason": DoNotContactReason.of(e.get("reason")),
                "added_at": _date(e.get("added_at")),
            }
        )
        for e in values.get("do_not_contact_entries", [])
    ]
    values["utm_tags"] = [
        UtmTag(**{**u, "added_at": _date(u.get("added_at"))}) for u in values.get("utm_tags", [])
    ]
    return ContactRecord(provider=provider, **values)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
