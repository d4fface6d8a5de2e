"""Lunar Send emulator: a small CRM with create, search, a narrow edit and delete.

The docs give no paths; docs/providers/lunarsend.md decides them, under `/lunarsend/api`:
    POST   /contacts                        create, answers {"id"}
    GET    /contacts?searchby=&search=      {"data": [...]}, equality, case-insensitive
    POST   /contacts/edit                   {"contactID", "updateFields"}: name, email, phone only
    DELETE /contacts                        {"contact_id"}: "Document deleted successfully"

Contacts are kept in creation order, with an index by email (compared
case-insensitively, one contact per email), so the per-email search and the
duplicate check on create are lookups.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from sandbox.credentials import LUNARSEND_API_KEY
from sandbox.emulator import Emulator, ProviderError, RateLimit, _Route, iso_millis, same_secret
from sandbox.seed import SeedData

CREATE_FIELDS = ("first_name", "last_name", "email", "company", "phone", "job_title", "notes")
EDIT_FIELDS = ("name", "email", "phone")
DELETED = "Document deleted successfully"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class LunarSendContact:
    id: str
    first_name: str
    last_name: str | None
    email: str
    phone: str | None
    company: str | None
    job_title: str | None
    notes: str | None
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# `searchby` takes any contact field.
SEARCH_FIELDS = tuple(f.name for f in dataclasses.fields(LunarSendContact))


def _bad(message: str) -> ProviderError:
    return ProviderError(400, message, code="bad_request")


def _email(value: Any, name: str = "email") -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise _bad(f"{name} must be a valid email address.")
    return value.strip()


def _phone(value: Any) -> str | None:
    # Documented as Integer, sent as a string in the docs' own example: take both.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _bad("phone must be a string or an integer.")


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _bad(f"{name} must be a string.")
    return value


class LunarSendEmulator(Emulator):
    """Lunar Send's v1 contacts API over an in-memory store kept in creation order."""

    key = "lunarsend"
    root = "/api"

    def __init__(self, *, rng_seed: int = 0) -> None:
        super().__init__(rng_seed=rng_seed)
        # Ids get their own generator so injected faults never shift them.
        self._ids = random.Random(f"lunarsend-{rng_seed}")
        self._contacts: dict[str, LunarSendContact] = {}
        self._by_email: dict[str, str] = {}  # casefolded email -> id

    # -- Emulator hooks -------------------------------------------------------

    def authenticate(self, request: Request) -> bool:
        return same_secret(request.headers.get("x-api-key", ""), LUNARSEND_API_KEY)

    def error_body(self, error: ProviderError) -> Any:
        # Every error raised here and in the base carries its code (bad_request, not_found...).
        return {"error": error.code or "error", "message": error.message}

    def unauthorized_body(self) -> Any:
        return {"error": "unauthorized", "message": "Missing or invalid API key."}

    def rate_limit_message(self, limit: RateLimit) -> str:
        return f"Rate limit exceeded: {limit.requests} requests per {limit.per_seconds:g} seconds."

    def routes(self) -> list[_Route]:
        return [
            self.route("POST", "/contacts", self.create_contact),
            self.route("GET", "/contacts", self.search_contacts),
            self.route("POST", "/contacts/edit", self.edit_contact),
            self.route("DELETE", "/contacts", self.delete_contact),
        ]

    def records(self) -> Any:
        return [contact.as_json() for contact in self._contacts.values()]

    def load_seed(self, data: SeedData) -> None:
        for person in data.in_provider(self.key):
            record = person.records[self.key]
            notes = None
            if record.company and person.index % 3 == 0:
                notes = f"Met at {record.company} demo"
            self._store(
                LunarSendContact(
                    id=self._new_id(),
                    first_name=record.first_name,
                    last_name=record.last_name,
                    email=record.email,
                    phone=record.phone,
                    company=record.company,
                    job_title=record.job_title,
                    notes=notes,
                    created_at=iso_millis(record.created_at),
                )
            )

    # -- store ----------------------------------------------------------------

    def _new_id(self) -> str:
        while True:
            candidate = str(self._ids.randrange(10**19, 10**20))
            if candidate not in self._contacts:
                return candidate

    def _store(self, contact: LunarSendContact) -> None:
        self._contacts[contact.id] = contact
        self._by_email[contact.email.casefold()] = contact.id

    def _owner_of(self, email: str) -> LunarSendContact | None:
        contact_id = self._by_email.get(email.casefold())
        return self._contacts[contact_id] if contact_id is not None else None

    def _contact(self, contact_id: Any, name: str) -> LunarSendContact:
        if not isinstance(contact_id, str) or not contact_id:
            raise _bad(f"{name} is required and must be a string.")
        contact = self._contacts.get(contact_id)
        if contact is None:
            raise ProviderError(404, f"Contact {contact_id} not found.", code="not_found")
        return contact

    # -- handlers -------------------------------------------------------------

    async def create_contact(self, request: Request) -> Any:
        body = await self.json_body(request)
        unknown = sorted(set(body) - set(CREATE_FIELDS))
        if unknown:
            raise _bad(f"Unknown field: {unknown[0]}.")
        first_name = _text(body, "first_name")
        if not first_name or not first_name.strip():
            raise _bad("first_name is required.")
        if "email" not in body:
            raise _bad("email is required.")
        email = _email(body["email"])
        contact = LunarSendContact(
            id="",  # given below, once the contact is known to be stored
            first_name=first_name,
            last_name=_text(body, "last_name"),
            email=email,
            phone=_phone(body.get("phone")),
            company=_text(body, "company"),
            job_title=_text(body, "job_title"),
            notes=_text(body, "notes"),
            created_at=iso_millis(datetime.now(UTC)),
        )
        if self._owner_of(email) is not None:
            raise ProviderError(409, "A contact with this email already exists.", code="conflict")
        # A refused create draws no id, so the ids that follow stay deterministic.
        contact.id = self._new_id()
        self._store(contact)
        return {"id": contact.id}

    async def search_contacts(self, request: Request) -> Any:
        searchby = request.query_params.get("searchby")
        search = request.query_params.get("search")
        if searchby not in SEARCH_FIELDS:
            raise _bad(f"searchby must be one of: {', '.join(SEARCH_FIELDS)}.")
        if not search:
            raise _bad("search is required.")
        if searchby in ("id", "email"):
            # Both are unique (ids are digits): a lookup, not a scan of every contact.
            contact = self._contacts.get(search) if searchby == "id" else self._owner_of(search)
            found = [contact] if contact is not None else []
        else:
            term = search.casefold()
            found = [
                contact
                for contact in self._contacts.values()
                if (value := getattr(contact, searchby)) is not None and value.casefold() == term
            ]
        return {"data": [contact.as_json() for contact in found]}

    async def edit_contact(self, request: Request) -> Any:
        body = await self.json_body(request)
        contact_id = _alias(body, "contactID", "contact_id")
        fields = _alias(body, "updateFields", "update_fields")
        if not isinstance(fields, dict):
            raise _bad("updateFields is required and must be an object.")
        unknown = sorted(set(fields) - set(EDIT_FIELDS))
        if unknown:
            raise _bad(f"Field {unknown[0]} cannot be updated; only name, email and phone can.")
        changes: dict[str, Any] = {}
        if "name" in fields:
            name = fields["name"]
            if not isinstance(name, str) or not name.strip():
                raise _bad("name must be a non-empty string.")
            first, _, last = name.strip().partition(" ")
            changes["first_name"] = first
            changes["last_name"] = last.strip() or None
        if "email" in fields:
            changes["email"] = _email(fields["email"])
        if "phone" in fields:
            changes["phone"] = _phone(fields["phone"])
        contact = self._contact(contact_id, "contactID")
        if "email" in changes:
            owner = self._owner_of(changes["email"])
            if owner is not None and owner is not contact:
                raise ProviderError(409, "Another contact already has this email.", code="conflict")
        del self._by_email[contact.email.casefold()]
        for name, value in changes.items():
            setattr(contact, name, value)
        self._by_email[contact.email.casefold()] = contact.id
        return {"id": contact.id}

    async def delete_contact(self, request: Request) -> Any:
        body = await self.json_body(request)
        contact = self._contact(body.get("contact_id"), "contact_id")
        del self._contacts[contact.id]
        del self._by_email[contact.email.casefold()]
        return DELETED


def _alias(body: dict[str, Any], name: str, alias: str) -> Any:
    """`body[name]`, also accepted as `body[alias]`; both given must agree."""
    if name in body and alias in body and body[name] != body[alias]:
        raise _bad(f"{name} and {alias} disagree.")
    return body[name] if name in body else body.get(alias)
