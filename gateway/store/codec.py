"""Provider records as JSON, for the record cache: exactly what was read, read back."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from gateway.domain.records import ActivityRecord, ContactRecord, Provider, TagRef

_DATES = ("created_at", "updated_at")


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
        elif item.name == "inline_activity":
            value = [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "type": a.type,
                    "label": a.label,
                    "timestamp": a.timestamp.isoformat(),
                    "details": dict(a.details),
                }
                for a in value
            ]
        elif item.name == "raw":
            value = dict(value)
        elif item.name == "provider":
            value = value.value
        data[item.name] = value
    return data


def decode(data: dict[str, Any]) -> ContactRecord:
    """The record `encode` made `data` from."""
    values = dict(data)
    provider = Provider(values.pop("provider"))
    for name in _DATES:
        raw = values.get(name)
        values[name] = datetime.fromisoformat(raw) if raw else None
    values["tags"] = [TagRef(name, kind, tag_id) for name, kind, tag_id in values.get("tags", [])]
    values["inline_activity"] = [
        ActivityRecord(
            provider,
            values["remote_id"],
            id=a["id"],
            kind=a["kind"],
            type=a["type"],
            label=a["label"],
            timestamp=datetime.fromisoformat(a["timestamp"]),
            details=a["details"],
        )
        for a in values.get("inline_activity", [])
    ]
    return ContactRecord(provider=provider, **values)
