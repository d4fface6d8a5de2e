"""What every emulator owes its clients, parametrized over the five providers.

Each provider's error shape, 401 body and 429 message are written out here from
docs/providers, not taken from the emulators: a bad credential, a malformed body, an
unknown path and a rate limit all answer in the provider's own shape, and
none of them changes what is stored. Provider-specific behaviour lives in the
`test_<provider>.py` files beside this one.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox import credentials
from sandbox.app import Sandbox
from tests.support import SANDBOX_URL

Headers = dict[str, str]
# (method, path under the provider's root, JSON body or None); `{id}` and `{email}`
# stand for the id and email of the provider's first stored record.
Call = tuple[str, str, Any]


def basic(raw: str) -> Headers:
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def laravel(status: int, message: str) -> Any:
    return {"message": message}


def plain(status: int, message: str) -> Any:
    return {"error": message}


def mautic(status: int, message: str) -> Any:
    return {"errors": [{"code": status, "message": message, "details": []}]}


LUNARSEND_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


def lunarsend(status: int, message: str) -> Any:
    code = "rate_limited" if status == 429 else LUNARSEND_CODES[status]
    return {"error": code, "message": message}


@dataclass(frozen=True)
class Provider:
    key: str
    auth: Headers
    bad_auth: tuple[Headers, ...]  # beyond no header at all and a non-ASCII one
    calls: tuple[Call, ...]  # every endpoint, in an order where each call would succeed
    object_bodies: tuple[tuple[str, str], ...]  # endpoints reading a JSON object
    array_bodies: tuple[tuple[str, str], ...]  # endpoints reading a JSON array
    create: Callable[[int], Call]  # the n-th of distinct writes that each store a record
    error: Callable[[int, str], Any]
    unauthorized: Any
    too_many: str  # the 429 message under a limit of 2 an hour
    wrong_method: tuple[str, str]

    def __str__(self) -> str:
        return self.key


AKITA_KEY = credentials.AKITA_API_KEY
INTERAKT = (credentials.INTERAKT_APP_ID, credentials.INTERAKT_API_KEY)
TRUSTMARY_KEY = credentials.TRUSTMARY_API_KEY
ADAPTIX = (credentials.ADAPTIX_USERNAME, credentials.ADAPTIX_PASSWORD)
LUNARSEND_KEY = credentials.LUNARSEND_API_KEY

PROVIDERS = (
    Provider(
        key="akita",
        auth={"Authorization": f"Bearer {AKITA_KEY}"},
        bad_auth=(
            {"Authorization": "Bearer wrong-key"},
            {"Authorization": f"Bearer {AKITA_KEY}x"},
            {"Authorization": f"Basic {AKITA_KEY}"},
            {"Authorization": AKITA_KEY},
        ),
        calls=(
            ("POST", "/contacts", {"internal_id": "a", "internal_account_id": "1"}),
            ("POST", "/accounts", {"internal_id": "1", "name": "Acme"}),
        ),
        object_bodies=(("POST", "/contacts"), ("POST", "/accounts")),
        array_bodies=(),
        create=lambda n: (
            "POST",
            "/contacts",
            {"internal_id": f"c{n}", "internal_account_id": "1"},
        ),
        error=laravel,
        unauthorized={"message": "Unauthenticated."},
        too_many="Too Many Attempts.",
        # Akita documents no read endpoint.
        wrong_method=("GET", "/contacts"),
    ),
    Provider(
        key="interakt",
        auth=basic(":".join(INTERAKT)),
        bad_auth=(
            basic(f"{INTERAKT[0]}:wrong"),
            basic(f"wrong:{INTERAKT[1]}"),
            basic(f"{INTERAKT[1]}:{INTERAKT[0]}"),
            basic("".join(INTERAKT)),
            basic(":".join(INTERAKT) + ":"),
            {"Authorization": f"Bearer {INTERAKT[1]}"},
            {"Authorization": "Basic not-base64!"},
        ),
        calls=(
            ("POST", "/members", {"email": "ann@b.test", "name": "Ann"}),
            ("POST", "/leads", {"email": "ann@b.test", "name": "Ann"}),
        ),
        object_bodies=(("POST", "/members"), ("POST", "/leads")),
        array_bodies=(),
        create=lambda n: ("POST", "/members", {"email": f"m{n}@b.test"}),
        error=plain,
        unauthorized={"error": "Unauthorized"},
        too_many="Too many requests.",
        wrong_method=("GET", "/members"),
    ),
    Provider(
        key="trustmary",
        auth={"Authorization": f"Apikey {TRUSTMARY_KEY}"},
        bad_auth=(
            {"Authorization": "Apikey wrong-key"},
            {"Authorization": f"Basic {TRUSTMARY_KEY}"},
            {"Authorization": TRUSTMARY_KEY},
            {"Authorization": f"Apikey {TRUSTMARY_KEY}x"},
        ),
        calls=(
            ("GET", "/contacts", None),
            ("GET", "/lists", None),
            ("POST", "/contacts", {"email": "intruder@example.test"}),
            ("DELETE", "/contacts", {"email": "{email}"}),
        ),
        object_bodies=(("POST", "/contacts"), ("DELETE", "/contacts")),
        array_bodies=(),
        create=lambda n: ("POST", "/contacts", {"email": f"new{n}@example.test"}),
        error=plain,
        unauthorized={"error": "Unauthorized"},
        too_many="Too many requests.",
        wrong_method=("PUT", "/contacts"),
    ),
    Provider(
        key="adaptix",
        auth=basic(":".join(ADAPTIX)),
        bad_auth=(
            basic(f"{ADAPTIX[0]}:wrong"),
            basic(f"admin:{ADAPTIX[1]}"),
            basic(ADAPTIX[0]),
            {"Authorization": f"Bearer {ADAPTIX[1]}"},
            {"Authorization": "Basic !!!"},
        ),
        calls=(
            ("GET", "/contacts/{id}", None),
            ("GET", "/contacts?search=ids:{id}&limit=5", None),
            ("POST", "/contacts/new", {"email": "intruder@example.test"}),
            ("POST", "/contacts/batch/new", [{"email": "intruder@example.test"}]),
            ("PATCH", "/contacts/{id}/edit", {"firstname": "Intruder"}),
            ("PATCH", "/contacts/batch/edit", [{"id": "{id}", "firstname": "Intruder"}]),
            ("PUT", "/contacts/{id}/edit", {"firstname": "Intruder"}),
            ("POST", "/contacts/{id}/points/plus/5", None),
            ("POST", "/contacts/{id}/dnc/email/add", None),
            ("DELETE", "/contacts/{id}/delete", None),
            ("DELETE", "/contacts/batch/delete?ids=2", None),
        ),
        object_bodies=(
            ("POST", "/contacts/new"),
            ("PATCH", "/contacts/1/edit"),
            ("PUT", "/contacts/1/edit"),
            ("POST", "/contacts/1/utm/add"),
        ),
        array_bodies=(
            ("POST", "/contacts/batch/new"),
            ("PATCH", "/contacts/batch/edit"),
            ("PUT", "/contacts/batch/edit"),
        ),
        create=lambda n: ("POST", "/contacts/new", {"email": f"new{n}@example.test"}),
        error=mautic,
        unauthorized={
            "errors": [
                {"message": "API authorization denied.", "code": 401, "type": "access_denied"}
            ]
        },
        too_many="You exceeded the rate limit of 2 API calls per hour.",
        wrong_method=("POST", "/contacts/1"),
    ),
    Provider(
        key="lunarsend",
        auth={"x-api-key": LUNARSEND_KEY},
        bad_auth=(
            {"x-api-key": "wrong-key"},
            {"x-api-key": ""},
            {"x-api-key": f"{LUNARSEND_KEY}x"},
            {"Authorization": f"Bearer {LUNARSEND_KEY}"},
        ),
        calls=(
            ("GET", "/contacts?searchby=company&search=Acme%20Corp", None),
            ("POST", "/contacts", {"first_name": "Eve", "email": "eve@example.com"}),
            ("POST", "/contacts/edit", {"contactID": "{id}", "updateFields": {"name": "Eve"}}),
            ("DELETE", "/contacts", {"contact_id": "{id}"}),
        ),
        object_bodies=(("POST", "/contacts"), ("POST", "/contacts/edit"), ("DELETE", "/contacts")),
        array_bodies=(),
        create=lambda n: ("POST", "/contacts", {"first_name": "New", "email": f"new{n}@x.test"}),
        error=lunarsend,
        unauthorized={"error": "unauthorized", "message": "Missing or invalid API key."},
        too_many="Rate limit exceeded: 2 requests per 3600 seconds.",
        wrong_method=("PUT", "/contacts"),
    ),
)


def base(provider: Provider) -> str:
    return f"/{provider.key}{credentials.ROOTS[provider.key]}"


async def stored(client: httpx.AsyncClient, provider: Provider) -> list[dict[str, Any]]:
    response = await client.get(f"/{provider.key}/_sandbox/records")
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()["records"]
    return result


def fill(value: Any, records: list[dict[str, Any]]) -> Any:
    """`value` with `{id}` and `{email}` replaced by the first record's, in every string."""
    if isinstance(value, str):
        first = records[0] if records else {}
        return value.replace("{id}", str(first.get("id"))).replace(
            "{email}", str(first.get("email"))
        )
    if isinstance(value, list | tuple):
        return type(value)(fill(v, records) for v in value)
    if isinstance(value, dict):
        return {k: fill(v, records) for k, v in value.items()}
    return value


async def send(
    client: httpx.AsyncClient, provider: Provider, call: Call, headers: Any
) -> httpx.Response:
    method, path, body = call
    return await client.request(method, base(provider) + path, json=body, headers=headers)


# -- credentials ---------------------------------------------------------------

NON_ASCII = httpx.Headers({"Authorization": "Basic \xe9t\xe9", "x-api-key": "\xe9"}, "latin-1")

BAD_AUTH = [
    pytest.param(provider, headers, id=f"{provider}-{n}")
    for provider in PROVIDERS
    for n, headers in enumerate(({}, NON_ASCII, *provider.bad_auth))
]


@pytest.mark.parametrize(("provider", "headers"), BAD_AUTH)
async def test_bad_credentials_are_401_and_change_nothing(
    sandbox_http: httpx.AsyncClient, provider: Provider, headers: Any
) -> None:
    before = await stored(sandbox_http, provider)
    for call in provider.calls:
        response = await send(sandbox_http, provider, fill(call, before), headers)
        assert (response.status_code, response.json()) == (401, provider.unauthorized), call
    assert await stored(sandbox_http, provider) == before


@pytest.mark.parametrize("provider", PROVIDERS, ids=str)
async def test_good_credentials_are_taken_on_every_endpoint(
    sandbox_http: httpx.AsyncClient, provider: Provider
) -> None:
    records = await stored(sandbox_http, provider)
    for call in provider.calls:
        response = await send(sandbox_http, provider, fill(call, records), provider.auth)
        assert response.status_code < 300, (call, response.text)
    # So the refusals above had something to refuse.
    assert await stored(sandbox_http, provider) != records


# -- bodies, paths, methods ----------------------------------------------------

NOT_JSON = "Request body is not valid JSON."
MALFORMED = [
    (b'{"email": "a@b.test",', NOT_JSON),
    (b'{"email": "a@b.test", "n": NaN}', NOT_JSON),
    (b'{"email": "a@b.test", "n": -Infinity}', NOT_JSON),
    # Parses as infinity, which could not be sent back.
    (b'{"email": "a@b.test", "n": 1e400}', NOT_JSON),
    # An unpaired surrogate could be stored but never sent back out as UTF-8.
    (b'{"email": "a@b.test", "name": "\\ud800"}', NOT_JSON),
    (b'{"email": "a@b.test", "name": "\xff"}', NOT_JSON),
    (b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "Request body is nested too deeply."),
]
WRONG_TYPE = {
    "object": (b"", b'"text"', b"3", b"[1]"),
    "array": (b"", b'"text"', b"3", b'{"email": "a@b.test"}'),
}
BODY_ENDPOINTS = [
    pytest.param(provider, method, path, expect, id=f"{provider}-{method}-{path}")
    for provider in PROVIDERS
    for expect, endpoints in (("object", provider.object_bodies), ("array", provider.array_bodies))
    for method, path in endpoints
]


@pytest.mark.parametrize(("provider", "method", "path", "expect"), BODY_ENDPOINTS)
async def test_malformed_body_is_400_and_stores_nothing(
    sandbox_http: httpx.AsyncClient, provider: Provider, method: str, path: str, expect: str
) -> None:
    # One test per endpoint, every bad body in turn: a seeded sandbox per body is slow.
    wrong_type = f"Request body must be {'an object' if expect == 'object' else 'an array'}."
    bodies = [*MALFORMED, *((content, wrong_type) for content in WRONG_TYPE[expect])]
    headers = {**provider.auth, "Content-Type": "application/json"}
    before = await stored(sandbox_http, provider)
    for content, message in bodies:
        response = await sandbox_http.request(
            method, base(provider) + path, content=content, headers=headers
        )
        answer = (response.status_code, response.json())
        assert answer == (400, provider.error(400, message)), content[:60]
    assert await stored(sandbox_http, provider) == before


@pytest.mark.parametrize("provider", PROVIDERS, ids=str)
async def test_unknown_path_and_method_answer_in_the_error_shape(
    sandbox_http: httpx.AsyncClient, provider: Provider
) -> None:
    missing = await sandbox_http.get(base(provider) + "/nothing/here", headers=provider.auth)
    assert (missing.status_code, missing.json()) == (404, provider.error(404, "Not found."))
    method, path = provider.wrong_method
    wrong = await sandbox_http.request(method, base(provider) + path, headers=provider.auth)
    expected = provider.error(405, "Method not allowed.")
    assert (wrong.status_code, wrong.json()) == (405, expected)


# -- controls ------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS, ids=str)
async def test_rate_limit_is_429_with_retry_after_and_stores_nothing(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient, provider: Provider
) -> None:
    emulator = sandbox.emulators[provider.key]
    assert emulator.controls.rate_limit is None  # off until a test or benchmark sets it
    limit = {"rate_limit": {"requests": 2, "per_seconds": 3600}}
    assert (await sandbox_http.post(f"/{provider.key}/_sandbox/controls", json=limit)).is_success
    before = await stored(sandbox_http, provider)

    allowed = [
        await send(sandbox_http, provider, provider.create(n), provider.auth) for n in (1, 2)
    ]
    refused = await send(sandbox_http, provider, provider.create(3), provider.auth)

    assert all(r.is_success for r in allowed)
    assert (refused.status_code, refused.json()) == (429, provider.error(429, provider.too_many))
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert len(await stored(sandbox_http, provider)) == len(before) + 2
    # New controls take effect at once.
    higher = {"rate_limit": {"requests": 100, "per_seconds": 3600}}
    await sandbox_http.post(f"/{provider.key}/_sandbox/controls", json=higher)
    assert (await send(sandbox_http, provider, provider.create(3), provider.auth)).is_success


@pytest.mark.parametrize(
    "controls",
    [
        b'{"latency_ms": -1}',
        b'{"latency_ms": 1e400}',  # an endless sleep in front of every request
        b'{"error_rate": 1.5}',
        b'{"rate_limit": {"requests": 0, "per_seconds": 1}}',
        b'{"rate_limit": {"requests": 1e400, "per_seconds": 1}}',
        b'{"rate_limit": {"requests": 1, "per_seconds": 1e400}}',
        b'{"rate_limit": {"per_seconds": 1}}',
        b"[]",
        b"{not json",
    ],
)
async def test_controls_that_make_no_sense_are_400_and_change_nothing(
    sandbox_http: httpx.AsyncClient, controls: bytes
) -> None:
    url = "/lunarsend/_sandbox/controls"
    before = (await sandbox_http.get(url)).json()
    response = await sandbox_http.post(url, content=controls)
    assert response.status_code == 400
    assert response.json()["error"].startswith("bad controls: ")
    assert (await sandbox_http.get(url)).json() == before


# -- the sandbox as a whole ----------------------------------------------------


async def test_index_lists_each_providers_base_url_and_credentials(
    sandbox_http: httpx.AsyncClient,
) -> None:
    index = (await sandbox_http.get("/")).json()
    assert index == {
        key: {"base_url": f"{SANDBOX_URL}/{key}{credentials.ROOTS[key]}", **creds}
        for key, creds in credentials.describe().items()
    }


@pytest.mark.parametrize("provider", PROVIDERS, ids=str)
async def test_the_same_seed_gives_the_same_records(
    sandbox_http: httpx.AsyncClient, provider: Provider
) -> None:
    transport = httpx.ASGITransport(app=Sandbox(seed=0).app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as other:
        assert await stored(other, provider) == await stored(sandbox_http, provider)
