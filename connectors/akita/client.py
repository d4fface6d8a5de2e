"""Akita: write-only contacts keyed by the customer's own user and account ids
(docs/providers/akita.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from connectors.akita.mapping import contact_body, missing_ids, to_record
from connectors.akita.settings import AkitaSettings
from connectors.base import HTTPConnector, with_field_errors
from connectors.errors import ConnectorError
from connectors.http import ProviderAnswer
from gateway.domain.records import (
    ContactChange,
    ContactRecord,
    ContactWrite,
    Provider,
    TagInfo,
    WriteResult,
    WriteStatus,
)

NO_CLEARING = "Akita documents no way to clear a name or an account id"
KEYED_BY_ID = "Akita keys contacts by externalId: another one would be another contact"
NO_ACCOUNT_NAME = "Akita keeps the company as its account's name, which cannot be blank"
NOT_WRITTEN = "the gateway has not written this contact to Akita"
# Fields an edit sets as given, or clears (an empty list).
_LISTS = (("email", "emails"), ("phones", "phones"), ("urls", "urls"))

# An account by its id and company name, and what writing it left: the name Akita
# stored, or why it refused.
AccountKey = tuple[str | None, str | None]
Account = str | ConnectorError | None


class AkitaConnector(HTTPConnector[AkitaSettings]):
    """Akita's REST API: `POST /contacts` and `POST /accounts`, both upserts.

    Akita documents no read endpoint, so the gateway only writes to it. A
    contact is keyed by `internal_id` (`ContactWrite.external_id`) and belongs
    to an account keyed by `internal_account_id`
    (`ContactWrite.account_external_id`); both are required, so an input
    without them is skipped. The company is stored as the account's name.
    Tags are sent as Akita tag Api IDs, looked up by name in
    `settings.tag_ids`, because Akita's tag names cannot be read.
    """

    provider = Provider.AKITA
    tag_kind = "tag"
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
            "urls",
        }
    )

    def auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_key.get()}"}

    def error_message(self, response: ProviderAnswer) -> str:
        """Laravel's `{"message", "errors": {field: [messages]}}`, flattened to one line."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return with_field_errors(body["message"], body.get("errors"))
        return super().error_message(response)

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactWrite) -> WriteResult:
        return (await self.upsert_many([contact]))[0]

    async def upsert_many(self, contacts: Sequence[ContactWrite]) -> list[WriteResult]:
        """One `POST /contacts` per contact; each distinct account (id and company)
        is written once, before the contacts, however many of them name it."""
        accounts: list[AccountKey] = list(
            dict.fromkeys(
                (c.account_external_id, c.company)
                for c in contacts
                if c.company is not None and not missing_ids(c)
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

    async def plan(self, contact: ContactWrite, existing: ContactRecord | None) -> WriteResult:
        """What `upsert` would report. Akita cannot be read: `existing` is the record the
        gateway wrote, so a contact written by anyone else still reads CREATED here."""
        missing = missing_ids(contact)
        if missing:
            return self.skipped(f"Akita needs {' and '.join(missing)}")
        _, dropped = contact_body(contact, self.settings.tag_ids)
        dropped += self.unwritable(contact)
        if existing is None:
            message = f"{NOT_WRITTEN} (Akita cannot be read: it may hold it from elsewhere)"
            return WriteResult(
                self.provider, WriteStatus.CREATED, message=message, dropped_fields=tuple(dropped)
            )
        return WriteResult(self.provider, WriteStatus.UPDATED, dropped_fields=tuple(dropped))

    async def edit(self, contact: ContactRecord, change: ContactChange) -> WriteResult:
        """An upsert by the contact's `internal_id` with the fields given; a cleared email,
        phone list or url list is sent empty. Names, the account id and the company cannot be
        cleared, nor the `internal_id` changed."""
        if not contact.external_id:
            return self.failed(f"{NOT_WRITTEN} under an externalId")
        dropped = [n for n in change.given() if n not in self.writable_fields]
        notes: list[str] = []
        if change.has("external_id") and change.get("external_id") != contact.external_id:
            dropped.append("external_id")
            notes.append(KEYED_BY_ID)
        cleared = change.cleared()
        unclearable = [
            n for n in ("first_name", "last_name", "account_external_id") if n in cleared
        ]
        if unclearable:
            dropped += unclearable
            notes.append(NO_CLEARING)
        if "company" in cleared:
            dropped.append("company")
            notes.append(NO_ACCOUNT_NAME)
        changed = [n for n in change.given() if n not in dropped and n != "external_id"]
        if not changed:
            message = "; ".join(notes) or "nothing given that Akita can change"
            return self.skipped(message, dropped=dropped)
        account = change.get("account_external_id") or contact.account_external_id
        write = ContactWrite(
            external_id=contact.external_id,
            account_external_id=account,
            first_name=change.get("first_name"),
            last_name=change.get("last_name"),
            email=change.get("email"),
            phones=change.get("phones") or None,
            company=change.get("company"),
            urls=change.get("urls") or None,
        )
        empty = [key for name, key in _LISTS if change.has(name) and not change.get(name)]
        accounts: dict[AccountKey, Account] = {}
        if write.company is not None and not missing_ids(write):
            accounts[(account, write.company)] = await self._write_account(account, write.company)
        return await self._write_contact(write, accounts, empty=empty, dropped=dropped, notes=notes)

    async def _write_contact(
        self,
        contact: ContactWrite,
        accounts: Mapping[AccountKey, Account],
        *,
        empty: Sequence[str] = (),
        dropped: Sequence[str] = (),
        notes: Sequence[str] = (),
    ) -> WriteResult:
        """One `POST /contacts`; `empty` names body lists sent empty (cleared)."""
        missing = missing_ids(contact)
        if missing:
            return self.skipped(f"Akita needs {' and '.join(missing)}")
        payload, unsent = contact_body(contact, self.settings.tag_ids)
        payload.update({key: [] for key in empty})
        dropped = [*dropped, *unsent, *self.unwritable(contact)]
        notes = list(notes)
        company = accounts.get((contact.account_external_id, contact.company))
        if isinstance(company, ConnectorError):
            dropped.append("company")
            notes.append(f"company not stored: {company.message}")
            company = None

        try:
            response = await self.request("POST", "/contacts", json=payload)
        except ConnectorError as exc:
            failed = self.failed(exc, dropped=dropped)
            return replace(failed, message=self.mask(_joined(exc.message, notes)))
        record = _data(response)
        if not record:
            # Akita answers a stored contact with {"data": {...}}: anything else (a 200
            # with an HTML page, say) is no proof that it stored it. Writes to Akita are
            # upserts by internal_id, so trying again is safe.
            return self.failed(
                _joined(
                    f"Akita answered HTTP {response.status_code} without the documented "
                    "JSON: whether it stored the contact is unknown",
                    notes,
                ),
                dropped=dropped,
                retriable=True,
                outcome_unknown=True,
            )
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
            contact=to_record(record, self.settings.tag_ids, company=company)
            if remote_id
            else None,
        )

    # -- tags and health ----------------------------------------------------------

    async def list_tags(self) -> list[TagInfo]:
        """The tags configured in `settings.tag_ids` (Akita cannot list its tags)."""
        return [
            TagInfo(self.provider, name, kind="tag", id=str(tag_id))
            for name, tag_id in sorted(self.settings.tag_ids.items())
        ]


def _data(response: ProviderAnswer) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _joined(message: str, notes: list[str]) -> str:
    return "; ".join([message, *notes])
