"""Interakt: write-only members and leads, upserted by email (docs/providers/interakt.md)."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.base import HTTPConnector, OneByOneWrites, basic_auth
from connectors.errors import ConnectorError
from connectors.interakt.mapping import request_for
from connectors.interakt.settings import InteraktSettings
from gateway.domain.records import ContactWrite, Provider, WriteResult, WriteStatus

NO_EMAIL = "Interakt silently ignores writes without an email"
STORED = "stored (Interakt does not say whether the contact was new)"
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
