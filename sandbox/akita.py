"""Akita's REST API: write-only upserts of contacts and accounts.

Endpoints (under `/akita/v1`, `Authorization: Bearer <api key>`):
    POST /contacts   upsert keyed by `internal_id`; 201 when created, 200 when updated
    POST /accounts   upsert keyed by `internal_id`; 201 when created, 200 when updated

Both answer `{"data": {...}}` with Akita's own integer `id` and `created_at` /
`updated_at` as `"YYYY-MM-DD HH:MM:SS"` (UTC). Validation is Laravel's: a 422
`{"message": "The given data was invalid.", "errors": {"field": ["..."]}}`
listing every failing field, and nothing is stored. Other errors are
`{"message": "..."}`; a bad credential is 401 `{"message": "Unauthenticated."}`.

Decisions beyond the provider notes (docs/providers/akita.md):
- `internal_id` / `internal_account_id` are required (missing, null or blank is
  "field is required"), strings or numbers; numbers are stored as strings.
- `first_name`, `last_name`, `name` must be strings when sent; `emails`,
  `phones`, `urls` arrays of objects with a required string `value` and an
  optional string `label`; `tags` an array of integer tag Api IDs among
  `sandbox.credentials.AKITA_TAG_IDS` (stored once each, in the order sent).
- An update merges field by field: a field not sent keeps its value, a field
  sent replaces it (a sent `tags` array replaces the contact's tags).
- Unknown keys are ignored, as Laravel ignores input without a rule.
- An account's `name` is required (it is the account's only attribute).

Nothing can be read back (Akita documents no read endpoint). The sandbox's
`records()` lists contacts then accounts, each as `{"kind": "contact" | "account", ...}`
followed by the fields of its `data` answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.credentials import AKITA_API_KEY, AKITA_TAG_IDS
from sandbox.emulator import (
    Emulator,
    ProviderError,
    RateLimit,
    _Route,
    authorization,
    same_secret,
)
from sandbox.seed import SeedData

INVALID = "The given data was invalid."
NAME_FIELDS = ("first_name", "last_name", "name")
CONTACT_INFO_FIELDS = ("emails", "phones", "urls")

Errors = dict[str, list[str]]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _label(attribute: str) -> str:
    """Laravel's displayable attribute name: `internal_id` -> `internal id`."""
    return attribute.replace("_", " ")


def _is_blank(value: Any) -> bool:
    """What Laravel's `required` refuses: null, blank strings, empty arrays."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | dict) and not value)


def _identifier(body: dict[str, Any], field: str, errors: Errors) -> str | None:
    """A required string-or-number identifier, as the string Akita keeps."""
    value = body.get(field)
    if _is_blank(value):
        errors[field] = [f"The {_label(field)} field is required."]
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    errors[field] = [f"The {_label(field)} must be a string."]
    return None


def _string(body: dict[str, Any], field: str, errors: Errors, *, required: bool = False) -> None:
    if field not in body:
        if required:
            errors[field] = [f"The {_label(field)} field is required."]
        return
    value = body[field]
    if required and _is_blank(value):
        errors[field] = [f"The {_label(field)} field is required."]
    elif not isinstance(value, str):
        errors[field] = [f"The {_label(field)} must be a string."]


def _contact_info(body: dict[str, Any], field: str, errors: Errors) -> None:
    if field not in body:
        return
    items = body[field]
    if not isinstance(items, list):
        errors[field] = [f"The {field} must be an array."]
        return
    for n, item in enumerate(items):
        where = f"{field}.{n}"
        if not isinstance(item, dict):
            errors[where] = [f"The {where} must be an array."]
            continue
        if "label" in item and not isinstance(item["label"], str):
            errors[f"{where}.label"] = [f"The {where}.label must be a string."]
        value = item.get("value")
        if _is_blank(value):
            errors[f"{where}.value"] = [f"The {where}.value field is required."]
        elif not isinstance(value, str):
            errors[f"{where}.value"] = [f"The {where}.value must be a string."]


def _tags(body: dict[str, Any], known: set[int], errors: Errors) -> None:
    if "tags" not in body:
        return
    tags = body["tags"]
    if not isinstance(tags, list):
        errors["tags"] = ["The tags must be an array."]
        return
    for n, tag in enumerate(tags):
        where = f"tags.{n}"
        if not isinstance(tag, int) or isinstance(tag, bool):
            errors[where] = [f"The {where} must be an integer."]
        elif tag not in known:
            errors[where] = [f"The selected {where} is invalid."]


class AkitaEmulator(Emulator):
    """Akita: contact and account upserts, no reads."""

    key = "akita"
    root = "/v1"

    def __init__(self, *, rng_seed: int = 0) -> None:
        super().__init__(rng_seed=rng_seed)
        self.tag_ids: set[int] = set(AKITA_TAG_IDS.values())
        self.contacts: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self._next_contact_id = 1
        self._next_account_id = 1

    # -- Emulator hooks -------------------------------------------------------

    def authenticate(self, request: Request) -> bool:
        scheme, token = authorization(request)
        return scheme == "bearer" and same_secret(token, AKITA_API_KEY)

    def error_body(self, error: ProviderError) -> Any:
        if error.status == 422:
            return {"message": error.message, "errors": error.details or {}}
        return {"message": error.message}

    def unauthorized_body(self) -> Any:
        return {"message": "Unauthenticated."}

    def rate_limit_message(self, limit: RateLimit) -> str:
        return "Too Many Attempts."

    def routes(self) -> list[_Route]:
        return [
            self.route("POST", "/contacts", self.upsert_contact),
            self.route("POST", "/accounts", self.upsert_account),
        ]

    def records(self) -> list[dict[str, Any]]:
        return [{"kind": "contact", **c} for c in self.contacts.values()] + [
            {"kind": "account", **a} for a in self.accounts.values()
        ]

    def load_seed(self, data: SeedData) -> None:
        """Akita is write-only for the gateway, so the seed puts nobody here.

        The stores start empty; the manual tags from `sandbox.credentials` stay.
        """
        self.contacts.clear()
        self.accounts.clear()

    # -- handlers -------------------------------------------------------------

    async def upsert_contact(self, request: Request) -> Response:
        body = await self.json_body(request, expect=dict)
        errors: Errors = {}
        internal_id = _identifier(body, "internal_id", errors)
        account_id = _identifier(body, "internal_account_id", errors)
        for field in NAME_FIELDS:
            _string(body, field, errors)
        for field in CONTACT_INFO_FIELDS:
            _contact_info(body, field, errors)
        _tags(body, self.tag_ids, errors)
        if errors or internal_id is None or account_id is None:
            raise ProviderError(422, INVALID, details=errors)

        fields: dict[str, Any] = {"internal_account_id": account_id}
        fields.update({f: body[f] for f in NAME_FIELDS if f in body})
        for f in CONTACT_INFO_FIELDS:
            if f in body:
                fields[f] = [_info_item(item) for item in body[f]]
        if "tags" in body:
            fields["tags"] = list(dict.fromkeys(body["tags"]))

        now = _now()
        contact = self.contacts.get(internal_id)
        if contact is None:
            contact = {"id": self._next_contact_id, "internal_id": internal_id}
            self._next_contact_id += 1
            contact.update(fields, created_at=now, updated_at=now)
            self.contacts[internal_id] = contact
            return self.json({"data": contact}, 201)
        contact.update(fields, updated_at=now)
        return self.json({"data": contact}, 200)

    async def upsert_account(self, request: Request) -> Response:
        body = await self.json_body(request, expect=dict)
        errors: Errors = {}
        internal_id = _identifier(body, "internal_id", errors)
        _string(body, "name", errors, required=True)
        if errors or internal_id is None:
            raise ProviderError(422, INVALID, details=errors)

        now = _now()
        account = self.accounts.get(internal_id)
        if account is None:
            account = {
                "id": self._next_account_id,
                "internal_id": internal_id,
                "name": body["name"],
                "created_at": now,
                "updated_at": now,
            }
            self._next_account_id += 1
            self.accounts[internal_id] = account
            return self.json({"data": account}, 201)
        account.update(name=body["name"], updated_at=now)
        return self.json({"data": account}, 200)


def _info_item(item: dict[str, Any]) -> dict[str, Any]:
    return {"label": item.get("label"), "value": item["value"]}
