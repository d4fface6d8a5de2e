"""Interakt's members and leads from the unified model (docs/providers/interakt.md)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from gateway.domain.records import ContactRecord, ContactWrite, Lifecycle


def request_for(contact: ContactWrite) -> tuple[str, dict[str, Any], list[str]]:
    """The path (members or leads), the body, and the given fields it leaves out.

    A member or a lead as `lifecycle` says; without it, an input with an
    `external_id` is a member (`user_id`), one without a lead. The address's city
    and country, the first url and the sign-up time go as Interakt's standard
    attributes `city`, `country`, `url` and `signedup_at` (a unix timestamp).
    """
    member = is_member(contact)
    body: dict[str, Any] = {"email": (contact.email or "").strip()}
    dropped: list[str] = []
    if member:
        if contact.external_id is not None:
            body["user_id"] = contact.external_id
    elif contact.external_id is not None:
        dropped.append("external_id")  # a lead has no user id
    # Interakt keeps one name and cannot be read: a single part sent would replace
    # a stored full name with half of it, so it is sent only with both parts.
    if contact.first_name is not None and contact.last_name is not None:
        body["name"] = contact.full_name
    elif contact.first_name is not None or contact.last_name is not None:
        dropped.append("first_name" if contact.first_name is not None else "last_name")
    if contact.phones:
        body["phone" if member else "phone_number"] = contact.phones[0]
        dropped += [f"phones[{index}]" for index in range(1, len(contact.phones))]
    if contact.company is not None:
        body["company"] = contact.company
    if contact.job_title is not None:
        body["job_title"] = contact.job_title
    if contact.account_external_id is not None:
        body["account_id"] = contact.account_external_id
    if contact.urls:
        body["url"] = contact.urls[0]
        dropped += [f"urls[{index}]" for index in range(1, len(contact.urls))]
    if contact.address is not None:
        for part in ("city", "country"):
            value = getattr(contact.address, part)
            if value is not None:
                body[part] = value
    if contact.signed_up_at is not None:
        body["signedup_at"] = _unix(contact.signed_up_at)
    if contact.custom_fields is not None:
        custom: dict[str, Any] = {}
        for key, value in contact.custom_fields.items():
            if value is None or isinstance(value, Mapping):
                dropped.append(f"custom_fields.{key}")
            else:
                custom[key] = _custom_value(key, value)
        if custom or not contact.custom_fields:
            body["custom_fields"] = custom
    return ("/members" if member else "/leads"), body, dropped


def is_member(contact: ContactWrite | ContactRecord) -> bool:
    """Whether `contact` is (or was written as) a member: as its `lifecycle` says, else
    when it carries the customer's own user id."""
    if contact.lifecycle is not None:
        return contact.lifecycle is Lifecycle.MEMBER
    return contact.external_id is not None


def _custom_value(key: str, value: Any) -> Any:
    """Dates as unix time, which Interakt stores as a date-time for keys ending in `_at`."""
    if isinstance(value, datetime):
        return _unix(value)
    if isinstance(value, date):
        return _unix(datetime(value.year, value.month, value.day))
    if key.endswith("_at") and isinstance(value, str):
        if value.isdigit():
            return int(value)
        try:
            return _unix(datetime.fromisoformat(value))
        except ValueError:
            return value
    if key.endswith("_at") and isinstance(value, float):
        return int(value)
    return value


def _unix(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())
