"""Interakt's API: write-only upserts of members and leads, keyed by email.

Endpoints (under `/interakt/api/v1`, HTTP Basic `APP_ID:API_KEY`):
    POST /members   upsert a member by email (compared case-insensitively)
    POST /leads     upsert a lead by email; members and leads are separate stores

Both answer 200 `{}`, also when the request is silently ignored: a body
without `email` (missing, or not a non-empty string) stores nothing. Errors are
`{"error": "..."}`: 400 for a body that is not a JSON object, 401
`{"error": "Unauthorized"}` for a bad credential.

What is stored (docs/providers/interakt.md):
- Every top-level key other than `email` and `custom_fields` is an attribute,
  merged into what the record already holds. A null or object value is dropped
  (that attribute alone), silently; strings, numbers, booleans and arrays are kept.
- `custom_fields`, when an object, is merged into the record's custom data
  under the same value rules (decision); any other `custom_fields` is dropped.
- A key ending in `_at` whose value is a unix timestamp (a non-negative
  integer, or a string of ASCII digits) is stored as an ISO 8601 UTC
  date-time (`"2009-11-07T00:18:00Z"`); any other value is stored as sent.
- Leads: `phone` is accepted as `phone_number` (`phone_number` wins when both come).
- The email keeps the casing of the write that created the record (decision).

Nothing can be read back (Interakt documents no read endpoint). The sandbox's
`records()` lists members then leads as
`{"kind", "email", "attributes", "custom_data", "created_at", "updated_at"}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from sandbox.credentials import INTERAKT_API_KEY, INTERAKT_APP_ID
from sandbox.emulator import (
    Emulator,
    ProviderError,
    _Route,
    basic_credentials,
    same_secret,
    whole_number,
)
from sandbox.seed import SeedData

# datetime cannot hold timestamps past 9999-12-31T23:59:59Z.
MAX_TIMESTAMP = 253402300799

_MISSING = object()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: Any) -> int | None:
    stamp: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        stamp = value
    elif isinstance(value, str):
        stamp = whole_number(value)
    return stamp if stamp is not None and 0 <= stamp <= MAX_TIMESTAMP else None


def _stored(key: str, value: Any) -> Any:
    """The value Interakt keeps for `key`, or `_MISSING` when it drops it."""
    if value is None or isinstance(value, dict):
        return _MISSING
    if key.endswith("_at"):
        stamp = _timestamp(value)
        if stamp is not None:
            return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _accepted(values: dict[str, Any]) -> dict[str, Any]:
    kept = {k: _stored(k, v) for k, v in values.items()}
    return {k: v for k, v in kept.items() if v is not _MISSING}


class InteraktEmulator(Emulator):
    """Interakt: member and lead upserts by email, no reads."""

    key = "interakt"
    root = "/api/v1"

    def __init__(self, *, rng_seed: int = 0) -> None:
        super().__init__(rng_seed=rng_seed)
        self.members: dict[str, dict[str, Any]] = {}
        self.leads: dict[str, dict[str, Any]] = {}

    # -- Emulator hooks -------------------------------------------------------

    def authenticate(self, request: Request) -> bool:
        given = basic_credentials(request)
        if given is None:
            return False
        app_id, api_key = given
        return same_secret(app_id, INTERAKT_APP_ID) and same_secret(api_key, INTERAKT_API_KEY)

    def error_body(self, error: ProviderError) -> Any:
        return {"error": error.message}

    def unauthorized_body(self) -> Any:
        return {"error": "Unauthorized"}

    def routes(self) -> list[_Route]:
        return [
            self.route("POST", "/members", self.upsert_member),
            self.route("POST", "/leads", self.upsert_lead),
        ]

    def records(self) -> list[dict[str, Any]]:
        return [{"kind": "member", **m} for m in self.members.values()] + [
            {"kind": "lead", **lead} for lead in self.leads.values()
        ]

    def load_seed(self, data: SeedData) -> None:
        """Interakt is write-only for the gateway, so the seed puts nobody here."""
        self.members.clear()
        self.leads.clear()

    # -- handlers -------------------------------------------------------------

    async def upsert_member(self, request: Request) -> dict[str, Any]:
        body = await self.json_body(request, expect=dict)
        self._upsert(self.members, body)
        return {}

    async def upsert_lead(self, request: Request) -> dict[str, Any]:
        body = await self.json_body(request, expect=dict)
        phone = body.pop("phone", _MISSING)
        if phone is not _MISSING and _stored("phone_number", body.get("phone_number")) is _MISSING:
            body["phone_number"] = phone
        self._upsert(self.leads, body)
        return {}

    @staticmethod
    def _upsert(store: dict[str, dict[str, Any]], body: dict[str, Any]) -> None:
        email = body.get("email")
        if not isinstance(email, str) or not email.strip():
            return
        attributes = _accepted(
            {k: v for k, v in body.items() if k not in ("email", "custom_fields")}
        )
        custom = body.get("custom_fields")
        custom_data = _accepted(custom) if isinstance(custom, dict) else {}

        now = _now()
        key = email.strip().lower()
        record = store.get(key)
        if record is None:
            store[key] = {
                "email": email.strip(),
                "attributes": attributes,
                "custom_data": custom_data,
                "created_at": now,
                "updated_at": now,
            }
            return
        record["attributes"].update(attributes)
        record["custom_data"].update(custom_data)
        record["updated_at"] = now
