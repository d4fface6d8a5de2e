"""Interakt: write-only members and leads, upserted by email (docs/providers/interakt.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import HTTPConnector, OneByOneWrites, basic_auth
from connectors.errors import ConnectorError
from connectors.interakt.mapping import is_member, request_for
from connectors.interakt.settings import InteraktSettings
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    ContactChange,
    ContactRecord,
    ContactWrite,
    Lifecycle,
    PostalAddress,
    Provider,
    WriteResult,
    WriteStatus,
)

NO_EMAIL = "Interakt silently ignores writes without an email"
STORED = "stored (Interakt does not say whether the contact was new)"
CHANGE_STORED = "sent (Interakt does not say whether it stored the change)"
KEYED_BY_EMAIL = (
    "Interakt keys contacts by email and cannot change one (a new email would be a new contact)"
)
NO_CLEARING = "Interakt ignores null values: it cannot clear a field"
HALF_NAME = "Interakt keeps one name: it is written only when both first and last name are given"


class InteraktConnector(OneByOneWrites, HTTPConnector[InteraktSettings]):
    """Interakt's REST API: `POST /members` and `POST /leads`, both upserts by email.

    Member or lead: as the input's `lifecycle` says. Without it, an input with
    an `external_id` is a user who signed up for the customer's service, so it
    is written as a member (`POST /members`, with `user_id` = `external_id`);
    an input without one is written as a lead (`POST /leads`). A lead has no
    user id, so a lead's `external_id` is dropped.

    Interakt documents no read endpoint, so the gateway only writes to it.
    It silently ignores a write without an email (such inputs are skipped,
    never sent) and answers `200 {}` whether it stored the contact or not and
    whether the contact was new, so a stored write is reported as UPDATED.
    It silently drops null and object values, so custom fields holding those
    are not sent and are reported dropped. Interakt has no tags.
    """

    provider = Provider.INTERAKT
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
            "urls",
            "lifecycle",
            "signed_up_at",
            "address.city",
            "address.country",
        }
    )

    def auth_headers(self) -> Mapping[str, str]:
        return basic_auth(self.settings.app_id, self.settings.api_key.get())

    # -- writes ---------------------------------------------------------------

    async def upsert(self, contact: ContactWrite) -> WriteResult:
        if not (contact.email and contact.email.strip()):
            return self.skipped(NO_EMAIL)
        path, payload, dropped = request_for(contact)
        dropped += self.unwritable(contact)
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

    async def plan(self, contact: ContactWrite, existing: ContactRecord | None) -> WriteResult:
        """What `upsert` would report: UPDATED whenever it would send, since Interakt
        answers alike whether the contact was new."""
        if not (contact.email and contact.email.strip()):
            return self.skipped(NO_EMAIL)
        _, _, dropped = request_for(contact)
        dropped += self.unwritable(contact)
        message = STORED
        if {"first_name", "last_name"} & set(dropped):
            message += f"; {HALF_NAME}"
        return WriteResult(
            self.provider, WriteStatus.UPDATED, message=message, dropped_fields=tuple(dropped)
        )

    async def edit(self, contact: ContactRecord, change: ContactChange) -> WriteResult:
        """An upsert by the email the contact was written with, with the fields given,
        to the record it was written as: a member or a lead (Interakt keeps them apart,
        so the other endpoint would make a second record). Neither the email nor a
        cleared field can be sent."""
        email = contact.email or (contact.remote_id if "@" in contact.remote_id else None)
        if not email:
            return self.failed("the gateway does not know the email this contact has in Interakt")
        dropped: list[str] = []
        notes: list[str] = []
        if change.has("email") and normalize_email(change.get("email")) != normalize_email(email):
            dropped.append("email")
            notes.append(KEYED_BY_EMAIL)
        kept: dict[str, Any] = {}
        clearing = False
        # The lifecycle picks the endpoint, which is the record's own.
        editable = self.writable_fields - {"email", "lifecycle"}
        for name in change.given():
            value = change.get(name)
            if name == "email":
                continue
            if name == "address" and value is not None:
                parts: dict[str, str] = {}
                for part, part_value in change.address().items():
                    field = f"address.{part}"
                    if field in editable and part_value is not None:
                        parts[part] = part_value
                    else:
                        dropped.append(field)
                        clearing = clearing or (field in editable)
                if parts:
                    kept["address"] = PostalAddress(**parts)
            elif name not in editable and name != "address":
                dropped.append(name)
            elif value is None:
                dropped.append(name)
                clearing = True
            else:
                kept[name] = value
        if clearing:
            notes.append(NO_CLEARING)
        if not kept:
            return self.skipped(
                "; ".join(notes) or "nothing given that Interakt can change", dropped=dropped
            )
        member = is_member(contact)
        if member:
            kept.setdefault("external_id", contact.external_id)
        lifecycle = Lifecycle.MEMBER if member else Lifecycle.LEAD
        path, payload, unsent = request_for(ContactWrite(email=email, lifecycle=lifecycle, **kept))
        try:
            await self.request("POST", path, json=payload)
        except ConnectorError as exc:
            return self.failed(exc, dropped=[*dropped, *unsent])
        if {"first_name", "last_name"} & set(unsent):
            notes.append(HALF_NAME)
        return WriteResult(
            self.provider,
            WriteStatus.UPDATED,
            remote_id=contact.remote_id,
            message="; ".join([CHANGE_STORED, *notes]),
            dropped_fields=(*dropped, *unsent),
        )
