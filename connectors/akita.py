"""Akita: write-only contacts keyed by the customer's own user and account ids."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.base import HTTPConnector
from connectors.errors import BadInput, ConnectorError
from connectors.types import (
    Capability,
    Contact,
    ContactInput,
    Health,
    Provider,
    Tag,
    TagRef,
    WriteResult,
    WriteStatus,
)


class AkitaConnector(HTTPConnector):
    """Akita's REST API: `POST /contacts` and `POST /accounts`, both upserts.

    Akita documents no read endpoint, so the gateway only writes to it. A
    contact is keyed by `internal_id` (`ContactInput.external_id`) and belongs
    to an account keyed by `internal_account_id`
    (`ContactInput.account_external_id`); both are required, so an input
    without them is skipped. The company is stored as the account's name.
    Tags are sent as Akita tag Api IDs, looked up by name in
    `settings.tag_ids`, because Akita's tag names cannot be read.
    """

    provider = Provider.AKITA
    capabilities = frozenset({Capability.WRITE, Capability.TAGS})
    writable_fields = frozenset(
        {
            "external_id",
            "account_external_id",
            "first_name",
            "last_name",
            "email",
            "phones",
            "company",
            "tags",
        }
    )
    required_credentials = ("api_key",)

    def auth_headers(self) -> Mapping[str, str]:
        key = self.settings.api_key
        return {"Authorization": f"Bearer {key.get()}"} if key is not None else {}

    def error_message(self, response: httpx.Response) -> str:
        """Laravel's `{"message", "errors": {field: [messages]}}`, flattened to one line."""
        try:
            body = response.json()
        except ValueError:
            return super().error_message(response)
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return super().error_message(response)
        message = str(body["message"])
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            parts = []
            for field, messages in errors.items():
                texts = messages if isinstance(messages, list) else [messages]
                parts.append(f"{field}: {' '.join(str(t) for t in texts)}")
            message = f"{message} ({'; '.join(parts)})"
        return message

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactInput) -> WriteResult:
        missing = [
            name
            for name, value in (
                ("externalId", contact.external_id),
                ("accountExternalId", contact.account_external_id),
            )
            if not (value and value.strip())
        ]
        if missing:
            return self.skipped(f"Akita needs {' and '.join(missing)}")

        payload, dropped = self.payload(contact)
        notes: list[str] = []
        company: str | None = None
        if contact.company is not None:
            try:
                response = await self.request(
                    "POST",
                    "/accounts",
                    json={"internal_id": contact.account_external_id, "name": contact.company},
                )
            except ConnectorError as exc:
                dropped.append("company")
                notes.append(f"company not stored: {exc.message}")
            else:
                account = _data(response)
                company = account.get("name") if isinstance(account.get("name"), str) else None

        try:
            response = await self.request("POST", "/contacts", json=payload)
        except ConnectorError as exc:
            return self.failed(_joined(exc.message, notes), dropped=dropped)
        record = _data(response)
        status = WriteStatus.CREATED if response.status_code == 201 else WriteStatus.UPDATED
        remote_id = str(record["id"]) if record.get("id") is not None else None
        if remote_id is None:
            notes.append("Akita answered without a contact id")
        return WriteResult(
            self.provider,
            status,
            remote_id=remote_id,
            message="; ".join(notes) or None,
            dropped_fields=tuple(dropped),
            contact=self.to_contact(record, company=company) if remote_id else None,
        )

    def payload(self, contact: ContactInput) -> tuple[dict[str, Any], list[str]]:
        """The `POST /contacts` body for `contact`, and the given fields it leaves out."""
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
        if contact.tags is not None:
            ids: list[int] = []
            for index, name in enumerate(contact.tags):
                tag_id = self.settings.tag_ids.get(name)
                if tag_id is None:
                    dropped.append(f"tags[{index}]")
                else:
                    ids.append(tag_id)
            # An empty list is sent only when asked for: unknown names alone must not clear tags.
            if ids or not contact.tags:
                body["tags"] = ids
        for name in contact.given():
            if name not in self.writable_fields:
                dropped.append(name)
        return body, dropped

    # -- mapping ----------------------------------------------------------------

    def to_contact(self, record: Mapping[str, Any], *, company: str | None = None) -> Contact:
        """Map an Akita contact record (as in a write's answer) to the unified model."""
        emails = _values(record.get("emails"))
        names = {tag_id: name for name, tag_id in self.settings.tag_ids.items()}
        tags: list[TagRef] = []
        for item in record.get("tags") or []:
            tag_id = item.get("id") if isinstance(item, dict) else item
            if isinstance(tag_id, int) and not isinstance(tag_id, bool):
                tags.append(TagRef(names.get(tag_id, str(tag_id)), "tag", str(tag_id)))
        return Contact(
            provider=self.provider,
            remote_id=str(record["id"]),
            email=emails[0] if emails else None,
            emails=emails,
            first_name=_str(record.get("first_name")),
            last_name=_str(record.get("last_name")),
            name=_str(record.get("name")),
            phones=_values(record.get("phones")),
            urls=_values(record.get("urls")),
            company=company,
            tags=tags,
            external_id=_str(record.get("internal_id")),
            account_external_id=_str(record.get("internal_account_id")),
            created_at=_timestamp(record.get("created_at")),
            updated_at=_timestamp(record.get("updated_at")),
            raw=record,
        )

    # -- tags and health ----------------------------------------------------------

    async def list_tags(self) -> list[Tag]:
        """The tags configured in `settings.tag_ids` (Akita cannot list its tags)."""
        return [
            Tag(self.provider, name, kind="tag", id=str(tag_id))
            for name, tag_id in sorted(self.settings.tag_ids.items())
        ]

    async def check_health(self) -> Health:
        """An empty `POST /contacts`: a good key earns a 422 (nothing stored), a bad one a 401."""
        started = time.monotonic()
        try:
            await self.request("POST", "/contacts", json={}, retry=False)
        except BadInput:
            pass
        except ConnectorError as exc:
            return Health(self.provider, ok=False, message=exc.message)
        return Health(self.provider, ok=True, latency_ms=(time.monotonic() - started) * 1000)


def _data(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _joined(message: str, notes: list[str]) -> str:
    return "; ".join([message, *notes])


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _values(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [
        str(item["value"])
        for item in items
        if isinstance(item, dict) and item.get("value") is not None
    ]


def _timestamp(value: Any) -> datetime | None:
    """Akita's `"YYYY-MM-DD HH:MM:SS"` (UTC) as an aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
