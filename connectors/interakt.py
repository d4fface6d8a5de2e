"""Interakt: write-only members and leads, upserted by email."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx

from connectors.base import HTTPConnector
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

    def auth(self) -> httpx.Auth | None:
        key = self.settings.api_key
        if self.settings.app_id is None or key is None:
            return None
        return httpx.BasicAuth(self.settings.app_id, key.get())

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactInput) -> WriteResult:
        if not (contact.email and contact.email.strip()):
            return self.skipped(NO_EMAIL)
        path, payload, dropped = self.payload(contact)
        try:
            await self.request("POST", path, json=payload)
        except ConnectorError as exc:
            return self.failed(exc, dropped=dropped)
        return WriteResult(
            self.provider, WriteStatus.UPDATED, message=STORED, dropped_fields=tuple(dropped)
        )

    def payload(self, contact: ContactInput) -> tuple[str, dict[str, Any], list[str]]:
        """The path (members or leads), the body, and the given fields it leaves out."""
        member = contact.external_id is not None
        body: dict[str, Any] = {"email": contact.email}
        dropped: list[str] = []
        if member:
            body["user_id"] = contact.external_id
        # Interakt has one name field; with only one part given that part is the name.
        if contact.full_name is not None:
            body["name"] = contact.full_name
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
        for name in contact.given():
            if name not in self.writable_fields:
                dropped.append(name)
        return ("/members" if member else "/leads"), body, dropped

    # -- health ---------------------------------------------------------------

    async def check_health(self) -> Health:
        """An empty `POST /members`: Interakt ignores it (no email) but checks the credentials."""
        started = time.monotonic()
        try:
            await self.request("POST", "/members", json={}, retry=False)
        except ConnectorError as exc:
            return Health(self.provider, ok=False, message=exc.message)
        return Health(self.provider, ok=True, latency_ms=(time.monotonic() - started) * 1000)


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
