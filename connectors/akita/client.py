"""Akita: write-only contacts keyed by the customer's own user and account ids."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from connectors.base import HTTPConnector, with_field_errors
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
    clean_text,
    parse_datetime,
)

# An account by its id and company name, and what writing it left: the name Akita
# stored, or why it refused.
AccountKey = tuple[str | None, str | None]
Account = str | ConnectorError | None


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
        body = _json(response)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return with_field_errors(body["message"], body.get("errors"))
        return super().error_message(response)

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactInput) -> WriteResult:
        return (await self.upsert_many([contact]))[0]

    async def upsert_many(self, contacts: Sequence[ContactInput]) -> list[WriteResult]:
        """One `POST /contacts` per contact; each distinct account (id and company)
        is written once, before the contacts, however many of them name it."""
        accounts: list[AccountKey] = list(
            dict.fromkeys(
                (c.account_external_id, c.company)
                for c in contacts
                if c.company is not None and not _missing_ids(c)
            )
        )
        written = await asyncio.gather(*(self._write_account(i, n) for i, n in accounts))
        stored = dict(zip(accounts, written, strict=True))
        return list(await asyncio.gather(*(self._write_contact(c, stored) for c in contacts)))

    async def _write_account(self, account_id: str | None, name: str | None) -> Account:
        try:
            response = await self.request(
                "POST", "/accounts", json={"internal_id": account_id, "name": name}
            )
        except ConnectorError as exc:
            return exc
        stored = _data(response).get("name")
        return stored if isinstance(stored, str) else None

    async def _write_contact(
        self, contact: ContactInput, accounts: Mapping[AccountKey, Account]
    ) -> WriteResult:
        missing = _missing_ids(contact)
        if missing:
            return self.skipped(f"Akita needs {' and '.join(missing)}")
        payload, dropped = self.payload(contact)
        notes: list[str] = []
        company = accounts.get((contact.account_external_id, contact.company))
        if isinstance(company, ConnectorError):
            dropped.append("company")
            notes.append(f"company not stored: {company.message}")
            company = None

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
        return body, dropped + self.unwritable(contact)

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

    # -- tags and health ----------------------------------------------------------

    async def list_tags(self) -> list[Tag]:
        """The tags configured in `settings.tag_ids` (Akita cannot list its tags)."""
        return [
            Tag(self.provider, name, kind="tag", id=str(tag_id))
            for name, tag_id in sorted(self.settings.tag_ids.items())
        ]

    async def check_health(self) -> Health:
        """An empty `POST /contacts`: a good key earns a 422 (nothing stored), a bad one a 401."""
        return await self.timed_health("/contacts", method="POST", json={}, healthy=(BadInput,))


def _missing_ids(contact: ContactInput) -> list[str]:
    """The ids Akita requires that `contact` lacks, by their GraphQL names."""
    return [
        name
        for name, value in (
            ("externalId", contact.external_id),
            ("accountExternalId", contact.account_external_id),
        )
        if not (value and value.strip())
    ]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _data(response: httpx.Response) -> dict[str, Any]:
    body = _json(response)
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _joined(message: str, notes: list[str]) -> str:
    return "; ".join([message, *notes])


def _values(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [
        str(item["value"])
        for item in items
        if isinstance(item, dict) and item.get("value") is not None
    ]
