"""Trustmary emulator: contacts upserted by email, soft deletes, survey lists.

Endpoints under `/trustmary/v1` (docs/providers/trustmary.md):
    GET    /contacts?email=&offset=&includeAll=   {"contacts": [...]}, 1000 a page
    POST   /contacts                              upsert keyed by email
    DELETE /contacts                              {"email"}: marks the contact deleted
    GET    /lists                                 the lists with live counts
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from sandbox.credentials import TRUSTMARY_API_KEY
from sandbox.emulator import (
    Emulator,
    ProviderError,
    _Route,
    authorization,
    iso_millis,
    same_secret,
    whole_number,
)
from sandbox.seed import BASE_TIME, SeedData

PAGE_SIZE = 1000
CONTACT_TYPES = ("customer", "employee")
TEXT_FIELDS = ("name", "eid", "phone", "company")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID_ALPHABET = string.ascii_letters + string.digits


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TrustmaryList:
    id: str
    name: str
    type: str
    created_at: datetime
    updated_at: datetime


@dataclass
class TrustmaryContact:
    id: str
    email: str
    created_at: datetime
    updated_at: datetime
    eid: str | None = None
    name: str | None = None
    phone: str | None = None
    company: str | None = None
    type: str = "customer"
    status: str = "active"
    deleted_at: datetime | None = None
    lists: list[str] = field(default_factory=list)

    @property
    def deleted(self) -> bool:
        return self.status == "deleted"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "eid": self.eid,
            "name": self.name,
            "phone": self.phone,
            "company": self.company,
            "created_at": iso_millis(self.created_at),
            "updated_at": iso_millis(self.updated_at),
            "deleted_at": iso_millis(self.deleted_at) if self.deleted_at else None,
            # Set by survey sends, which the sandbox does not emulate.
            "last_action": None,
            "status": self.status,
            "type": self.type,
        }


@dataclass
class Upserted:
    """What one `POST /contacts` did."""

    contact: TrustmaryContact
    action: str
    lists_updated: int


class TrustmaryEmulator(Emulator):
    """Trustmary's contacts API over an in-memory store kept in creation order."""

    key = "trustmary"
    root = "/v1"

    def __init__(self, *, rng_seed: int = 0) -> None:
        super().__init__(rng_seed=rng_seed)
        # Ids get their own generator so injected faults never shift them.
        self._ids = random.Random(f"trustmary-{rng_seed}")
        self._contacts: dict[str, TrustmaryContact] = {}
        self._by_email: dict[str, str] = {}
        self._lists: dict[str, TrustmaryList] = {}

    # -- Emulator hooks -------------------------------------------------------

    def authenticate(self, request: Request) -> bool:
        scheme, key = authorization(request)
        return scheme in ("apikey", "bearer") and same_secret(key, TRUSTMARY_API_KEY)

    def error_body(self, error: ProviderError) -> Any:
        return {"error": error.message}

    def unauthorized_body(self) -> Any:
        return {"error": "Unauthorized"}

    def routes(self) -> list[_Route]:
        return [
            self.route("GET", "/contacts", self.list_contacts),
            self.route("POST", "/contacts", self.post_contact),
            self.route("DELETE", "/contacts", self.delete_contact),
            self.route("GET", "/lists", self.get_lists),
        ]

    def records(self) -> Any:
        return [
            {**contact.as_json(), "lists": list(contact.lists)}
            for contact in self._contacts.values()
        ]

    def load_seed(self, data: SeedData) -> None:
        list_time = BASE_TIME - timedelta(days=30)
        for seed_list in data.lists:
            self._lists[seed_list.id] = TrustmaryList(
                seed_list.id, seed_list.name, seed_list.type, list_time, list_time
            )
        for person in data.in_provider(self.key):
            record = person.records[self.key]
            self._store(
                TrustmaryContact(
                    id=self._new_id(),
                    email=record.email,
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                    eid=person.external_id if person.index % 2 == 0 else None,
                    name=f"{record.first_name} {record.last_name}",
                    phone=record.phone,
                    company=record.company,
                    type=person.contact_type,
                    lists=[list_id for list_id in person.lists if list_id in self._lists],
                )
            )

    # -- store ----------------------------------------------------------------

    def _new_id(self) -> str:
        while True:
            candidate = "".join(self._ids.choice(_ID_ALPHABET) for _ in range(9))
            if candidate not in self._contacts:
                return candidate

    def _store(self, contact: TrustmaryContact) -> None:
        self._contacts[contact.id] = contact
        self._by_email[contact.email.lower()] = contact.id

    def find(self, email: str) -> TrustmaryContact | None:
        """The contact with `email` (case-insensitive), deleted or not."""
        contact_id = self._by_email.get(email.lower())
        return self._contacts[contact_id] if contact_id else None

    def upsert(self, body: dict[str, Any]) -> Upserted:
        """Create or update the contact keyed by `body["email"]`.

        Validates the whole body before touching the store, so a refused
        import changes nothing.

        Args:
            body: the JSON object of a `POST /contacts`.

        Returns:
            The stored contact, the import action and how many lists it joined.

        Raises:
            ProviderError: 400 for a missing or invalid field or an unknown list id.
        """
        email = body.get("email")
        if not isinstance(email, str) or not email.strip():
            raise ProviderError(400, "email is required")
        email = email.strip()
        if not _EMAIL.match(email):
            raise ProviderError(400, f"Invalid email: {email}")
        texts: dict[str, str | None] = {}
        for name in TEXT_FIELDS:
            if name in body:
                value = body[name]
                if value is not None and not isinstance(value, str):
                    raise ProviderError(400, f"{name} must be a string")
                texts[name] = value
        contact_type = body.get("type")
        if "type" in body and contact_type not in CONTACT_TYPES:
            raise ProviderError(400, "type must be one of: customer, employee")
        add = self._list_ids(body, "addToLists")
        remove = self._list_ids(body, "removeFromLists")
        if set(add) & set(remove):
            raise ProviderError(400, "A list cannot be in both addToLists and removeFromLists")

        now = _now()
        contact = self.find(email)
        if contact is None:
            # The first spelling of an email is kept; later imports match it case-insensitively.
            contact = TrustmaryContact(
                id=self._new_id(), email=email, created_at=now, updated_at=now
            )
            self._store(contact)
            action = "IMPORT_CREATE"
        else:
            action = "IMPORT_UPDATE"
            # Decision (the docs are silent): importing a deleted contact's email
            # brings that contact back, same id and lists, rather than making a
            # second contact with the same email.
            contact.status = "active"
            contact.deleted_at = None
            contact.updated_at = now
        for name, value in texts.items():
            setattr(contact, name, value)
        if isinstance(contact_type, str):
            contact.type = contact_type
        contact.lists = [list_id for list_id in contact.lists if list_id not in remove]
        joined = [list_id for list_id in add if list_id not in contact.lists]
        contact.lists.extend(joined)
        return Upserted(contact, action, len(joined))

    def _list_ids(self, body: dict[str, Any], name: str) -> list[str]:
        value = body.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ProviderError(400, f"{name} must be an array of list ids")
        unknown = [item for item in value if item not in self._lists]
        if unknown:
            raise ProviderError(400, f"List not found: {unknown[0]}")
        return list(dict.fromkeys(value))

    # -- handlers -------------------------------------------------------------

    async def list_contacts(self, request: Request) -> Any:
        params = request.query_params
        offset = whole_number(params.get("offset", "0"))
        if offset is None:
            raise ProviderError(400, "offset must be a non-negative integer")
        include_param = params.get("includeAll", "false").lower()
        if include_param not in ("true", "false"):
            raise ProviderError(400, "includeAll must be true or false")
        contacts: list[TrustmaryContact]
        if "email" in params:
            email = params["email"].strip()
            if not email:
                raise ProviderError(400, "email must not be empty")
            found = self.find(email)
            contacts = [found] if found else []
        else:
            contacts = list(self._contacts.values())
        if include_param != "true":
            contacts = [contact for contact in contacts if not contact.deleted]
        page = contacts[offset : offset + PAGE_SIZE]
        return {"contacts": [contact.as_json() for contact in page]}

    async def post_contact(self, request: Request) -> Any:
        upserted = self.upsert(await self.json_body(request))
        return {
            "contact": upserted.contact.as_json(),
            "action": upserted.action,
            "listsUpdated": upserted.lists_updated,
        }

    async def delete_contact(self, request: Request) -> Any:
        body = await self.json_body(request)
        email = body.get("email")
        if not isinstance(email, str) or not email.strip():
            raise ProviderError(400, "email is required")
        contact = self.find(email.strip())
        if contact is None:
            raise ProviderError(404, "Contact not found")
        now = _now()
        # deleted_at is "the time of the last deletion", so deleting again moves it.
        contact.status = "deleted"
        contact.deleted_at = now
        contact.updated_at = now
        return {"contact": contact.as_json()}

    async def get_lists(self, request: Request) -> Any:
        counts = dict.fromkeys(self._lists, 0)
        for contact in self._contacts.values():
            # A deleted contact keeps its memberships (re-importing it restores
            # them) but is no longer a recipient, so it does not count.
            if contact.deleted:
                continue
            for list_id in contact.lists:
                counts[list_id] += 1
        return [
            {
                "id": item.id,
                "type": item.type,
                "count": counts[item.id],
                "name": item.name,
                "created_at": iso_millis(item.created_at),
                "updated_at": iso_millis(item.updated_at),
                "deleted_at": None,
            }
            for item in self._lists.values()
        ]
