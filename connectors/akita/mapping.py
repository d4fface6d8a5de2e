"""Akita's JSON to and from the unified model (docs/providers/akita.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.mapping import clean_text, parse_datetime
from gateway.domain.records import ContactRecord, ContactWrite, Provider, TagRef


def missing_ids(contact: ContactWrite) -> list[str]:
    """The ids Akita requires that `contact` lacks, by their GraphQL names."""
    return [
        name
        for name, value in (
            ("externalId", contact.external_id),
            ("accountExternalId", contact.account_external_id),
        )
        if not (value and value.strip())
    ]


def contact_body(
    contact: ContactWrite, tag_ids: Mapping[str, int]
) -> tuple[dict[str, Any], list[str]]:
    """The `POST /contacts` body for `contact`, and the tags it leaves out (unknown names)."""
    body: dict[str, Any] = {
        "internal_id": contact.external_id,
        "internal_account_id": contact.account_external_id,
    }
    dropped: list[str] = []
    if contact.first_name is not None:
        body["first_name"] = contact.first_name
    if contact.last_name is not None:
        body["last_name"] = contact.last_name
    # With only one part given, a `name` would overwrite the stored full name with half of it.
    if contact.first_name is not None and contact.last_name is not None:
        body["name"] = contact.full_name
    if contact.email is not None:
        body["emails"] = [{"label": "Email", "value": contact.email}]
    if contact.phones is not None:
        body["phones"] = [{"label": "Phone", "value": phone} for phone in contact.phones]
    if contact.urls is not None:
        body["urls"] = [{"label": "Website", "value": url} for url in contact.urls]
    if contact.tags is not None:
        ids: list[int] = []
        for index, name in enumerate(contact.tags):
            tag_id = tag_ids.get(name)
            if tag_id is None:
                dropped.append(f"tags[{index}]")
            else:
                ids.append(tag_id)
        # An empty list is sent only when asked for: unknown names alone must not clear tags.
        if ids or not contact.tags:
            body["tags"] = ids
    return body, dropped


def to_record(
    record: Mapping[str, Any], tag_ids: Mapping[str, int], *, company: str | None = None
) -> ContactRecord:
    """An Akita contact (as in a write's answer) in the unified model."""
    emails = _values(record.get("emails"))
    names = {tag_id: name for name, tag_id in tag_ids.items()}
    tags: list[TagRef] = []
    for item in record.get("tags") or []:
        tag_id = item.get("id") if isinstance(item, dict) else item
        if isinstance(tag_id, int) and not isinstance(tag_id, bool):
            tags.append(TagRef(names.get(tag_id, str(tag_id)), "tag", str(tag_id)))
    return ContactRecord(
        provider=Provider.AKITA,
        remote_id=str(record["id"]),
        email=emails[0] if emails else None,
        emails=emails,
        first_name=clean_text(record.get("first_name")),
        last_name=clean_text(record.get("last_name")),
        name=clean_text(record.get("name")),
        phones=_values(record.get("phones")),
        urls=_values(record.get("urls")),
        company=company,
        tags=tags,
        external_id=clean_text(record.get("internal_id")),
        account_external_id=clean_text(record.get("internal_account_id")),
        # Akita's "YYYY-MM-DD HH:MM:SS" is UTC without an offset.
        created_at=parse_datetime(record.get("created_at")),
        updated_at=parse_datetime(record.get("updated_at")),
        raw=record,
    )


def _values(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [
        str(item["value"])
        for item in items
        if isinstance(item, dict) and item.get("value") is not None
    ]
