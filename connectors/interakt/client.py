"""Interakt: write-only members and leads, upserted by email."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from connectors.base import HTTPConnector, basic_auth
from connectors.errors import ConnectorError
from connectors.types import (
    Capability,
    ContactInput,
    Health,
    Provider,
    WriteResult,
    WriteStatus,
)

NO_EMAIL = "Interakt silently ignores writes without an email"
STORED = "stored (Interakt does not say whether the contact was new)"
HALF_NAME = "Interakt keeps one name: it is written only when both first and last name are given"


class InteraktConnector(HTTPConnector):
    """Interakt's REST API: `POST /members` and `POST /leads`, both upserts by email.

    Member or lead: an input with an `external_id` is a user who signed up for
    the customer's service, so it is written as a member (`POST /members`,
    with `user_id` = `external_id`); an input without one is written as a
    lead (`POST /leads`).

    Interakt documents no read endpoint, so the gateway only writes to it.
    It silently ignores a write without an email (such inputs are skipped,
    never sent) and answers `200 {}` whether it stored the contact or not and
    whether the contact was new, so a stored write is reported as UPDATED.
    It silently drops null and object values, so custom fields holding those
    are not sent and are reported dropped. Interakt has no tags.
    """

    provider = Provider.INTERAKT
    capabilities = frozenset({Capability.WRITE})
    writable_fields = frozenset(
        {
            "email",
            "first_name",
            "last_name",
            "phones",
            "company",
            "job_title",
            "external_id",
            "account_external_id",
            "custom_fields",
        }
    )
    required_credentials = ("app_id", "api_key")

    def auth_headers(self) -> Mapping[str, str]:
        assert self.settings.app_id is not None
        assert self.settings.api_key is not None
        return basic_auth(self.settings.app_id, self.settings.api_key.get())

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactInput) -> WriteResult:
        if not (contact.email and contact.email.strip()):
            return self.skipped(NO_EMAIL)
        path, payload, dropped = self.payload(contact)
        try:
            await self.request("POST", path, json=payload)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)
        message = STORED
        if {"first_name", "last_name"} & set(dropped):
            message += f"; {HALF_NAME}"
        return WriteResult(
            self.provider, WriteStatus.UPDATED, message=message, dropped_fields=tuple(dropped)
        )

    def payload(self, contact: ContactInput) -> tuple[str, dict[str, Any], list[str]]:
        """The path (members or leads), the body, and the given fields it leaves out."""
        member = contact.external_id is not None
        body: dict[str, Any] = {"email": (contact.email or "").strip()}
        dropped: list[str] = []
        if member:
            body["user_id"] = contact.external_id
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
        if contact.custom_fields is not None:
            custom: dict[str, Any] = {}
            for key, value in contact.custom_fields.items():
                if value is None or isinstance(value, Mapping):
                    dropped.append(f"custom_fields.{key}")
                else:
                    custom[key] = _custom_value(key, value)
            if custom or not contact.custom_fields:
                body["custom_fields"] = custom
        return ("/members" if member else "/leads"), body, dropped + self.unwritable(contact)

    # -- health ---------------------------------------------------------------

    async def check_health(self) -> Health:
        """An empty `POST /members`: Interakt ignores it (no email) but checks the credentials."""
        return await self.timed_health("/members", method="POST", json={})


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
