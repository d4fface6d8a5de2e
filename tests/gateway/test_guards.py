"""The gateway as an attacker meets it: who may call, what one request may cost, bad input.

Every case runs the gateway under uvicorn on 127.0.0.1 with its providers in the
in-process sandbox, and counts the provider calls a refused request made (none).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql import get_introspection_query

from connectors.settings import Secret
from gateway.cli import is_loopback, main
from gateway.config import (
    ApiKey,
    AuthSettings,
    GatewaySettings,
    JWTSettings,
    ServerSettings,
)
from gateway.domain.records import Provider
from resolvers.runtime.limits import Limits
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from tests.gateway.conftest import serve_gateway
from tests.support import SANDBOX_URL, gateway_settings

ADA = "ada.lovelace.0@stark.test"
LOOKUP = "query($e: String!) { contact(email: $e) { email sources { provider } } }"
UPSERT = """
mutation { upsertContact(input: {email: "guard.test@example.com", firstName: "G", lastName: "T"},
                         providers: [ADAPTIX]) { results { provider status } } }
"""
FRONTEND_KEY = "frontend-key-0123456789abcdef"
JOBS_KEY = "jobs-key-fedcba9876543210"
HS_SECRET = "a-shared-secret-of-at-least-32-characters!"


def settings(**changes: Any) -> GatewaySettings:
    return replace(gateway_settings(SANDBOX_URL), **changes)


@pytest.fixture
def sandbox_calls(sandbox: Sandbox) -> Any:
    def calls() -> int:
        return sum(sum(e.stats.requests.values()) for e in sandbox.emulators.values())

    return calls


def post(url: str, query: str, variables: Any = None, **headers: str) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=30)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


# -- who may call ---------------------------------------------------------------------

KEYS = AuthSettings(
    keys=(
        ApiKey("crm-frontend", hashlib.sha256(FRONTEND_KEY.encode()).digest(), frozenset({"read"})),
        ApiKey("jobs", hashlib.sha256(JOBS_KEY.encode()).digest(), frozenset({"read", "write"})),
    )
)


@pytest.fixture
def keyed(sandbox: Sandbox) -> Iterator[str]:
    with serve_gateway(sandbox, settings(auth=KEYS)) as url:
        yield url


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer wrong-key-0123456789", f"Basic {FRONTEND_KEY}", FRONTEND_KEY],
)
def test_no_or_wrong_credentials_are_401_and_reach_no_provider(
    keyed: str, sandbox_calls: Any, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = post(keyed, LOOKUP, {"e": ADA}, **headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert codes(response) == ["UNAUTHENTICATED"]
    assert sandbox_calls() == 0


def test_a_read_key_reads_and_may_not_write(keyed: str, sandbox_calls: Any) -> None:
    auth = {"Authorization": f"Bearer {FRONTEND_KEY}"}
    read = post(keyed, LOOKUP, {"e": ADA}, **auth)
    assert read.status_code == 200
    assert read.json()["data"]["contact"]["email"] == ADA
    before = sandbox_calls()

    write = post(keyed, UPSERT, **auth)
    assert codes(write) == ["FORBIDDEN"]
    assert "write" in write.json()["errors"][0]["message"]
    assert write.json()["data"] is None
    assert sandbox_calls() == before  # no provider was asked


def test_a_write_key_writes_and_the_log_names_the_key_never_the_secret(
    keyed: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="contact_gateway")
    response = post(keyed, UPSERT, Authorization=f"Bearer {JOBS_KEY}")
    assert response.json()["data"]["upsertContact"]["results"] == [
        {"provider": "ADAPTIX", "status": "CREATED"}
    ]
    lines = [r.getMessage() for r in caplog.records if r.name == "contact_gateway.access"]
    assert any("caller=jobs" in line for line in lines), lines
    assert JOBS_KEY not in caplog.text


def test_a_key_sees_the_write_operations_sent_with_its_own_name_only(keyed: str) -> None:
    """The journal tells whom an operation wrote and what each provider answered: with
    [auth] one key's operations are not another's to read."""
    jobs = {"Authorization": f"Bearer {JOBS_KEY}"}
    frontend = {"Authorization": f"Bearer {FRONTEND_KEY}"}
    written = post(keyed, UPSERT.replace("results {", "operationId results {"), **jobs)
    operation = written.json()["data"]["upsertContact"]["operationId"]
    one = "query($id: ID!) { writeOperation(id: $id) { id caller } }"
    listed = "{ writeOperations(first: 50) { nodes { id caller } } }"

    mine = post(keyed, one, {"id": operation}, **jobs).json()["data"]["writeOperation"]
    assert mine == {"id": operation, "caller": "jobs"}
    assert post(keyed, one, {"id": operation}, **frontend).json()["data"] == {
        "writeOperation": None
    }
    own = post(keyed, listed, **jobs).json()["data"]["writeOperations"]["nodes"]
    assert {"id": operation, "caller": "jobs"} in own
    assert {n["caller"] for n in own} == {"jobs"}
    assert post(keyed, listed, **frontend).json()["data"]["writeOperations"]["nodes"] == []

    started = post(
        keyed,
        'mutation { startBulkUpsert(inputs: [{email: "bulk.guard@example.com"}],'
        " providers: [ADAPTIX]) { id } }",
        **jobs,
    )
    job = started.json()["data"]["startBulkUpsert"]["id"]
    ask = "query($id: ID!) { bulkJob(id: $id) { id } }"
    assert post(keyed, ask, {"id": job}, **jobs).json()["data"]["bulkJob"] == {"id": job}
    assert post(keyed, ask, {"id": job}, **frontend).json()["data"]["bulkJob"] is None


def test_graphiql_is_served_without_credentials(keyed: str) -> None:
    page = httpx.get(f"{keyed}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "GraphiQL" in page.text


def test_a_key_given_as_its_digest_authenticates(sandbox: Sandbox) -> None:
    auth = AuthSettings(
        keys=(
            ApiKey(
                "digest", bytes.fromhex(hashlib.sha256(b"k" * 20).hexdigest()), frozenset({"read"})
            ),
        )
    )
    with serve_gateway(sandbox, settings(auth=auth)) as url:
        assert post(url, LOOKUP, {"e": ADA}, Authorization="Bearer " + "k" * 20).status_code == 200


def token(key: Any, algorithm: str, **claims: Any) -> str:
    body = {"sub": "svc-report", "scope": "read", "exp": time.time() + 60, **claims}
    return jwt.encode(body, key, algorithm=algorithm)


def test_jwts_are_checked_for_signature_expiry_issuer_and_audience(sandbox: Sandbox) -> None:
    auth = AuthSettings(
        jwt=JWTSettings("HS256", Secret(HS_SECRET), issuer="https://idp.test", audience="gw")
    )
    good = {"iss": "https://idp.test", "aud": "gw"}
    with serve_gateway(sandbox, settings(auth=auth)) as url:
        ok = post(
            url, LOOKUP, {"e": ADA}, Authorization="Bearer " + token(HS_SECRET, "HS256", **good)
        )
        assert ok.status_code == 200
        assert ok.json()["data"]["contact"]["email"] == ADA
        for bad in (
            token("another-secret-of-at-least-32-characters!", "HS256", **good),
            token(HS_SECRET, "HS256", **{**good, "exp": time.time() - 120}),
            token(HS_SECRET, "HS256", **{**good, "aud": "someone-else"}),
            token(HS_SECRET, "HS256", **{**good, "iss": "https://evil.test"}),
        ):
            assert post(url, LOOKUP, {"e": ADA}, Authorization=f"Bearer {bad}").status_code == 401
        # A token's scopes decide as a key's do: this one may only read.
        write = post(url, UPSERT, Authorization="Bearer " + token(HS_SECRET, "HS256", **good))
        assert codes(write) == ["FORBIDDEN"]


def test_rs256_tokens_are_checked_with_the_public_key_file(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    auth = AuthSettings(jwt=JWTSettings("RS256", Secret(pem.decode())))
    with serve_gateway(sandbox, settings(auth=auth)) as url:
        signed = token(private, "RS256", scope="read write")
        assert post(url, UPSERT, Authorization=f"Bearer {signed}").status_code == 200
        forged = token(HS_SECRET, "HS256", scope="read write")
        assert post(url, UPSERT, Authorization=f"Bearer {forged}").status_code == 401


def test_serve_refuses_a_public_address_without_auth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-anonymous" in capsys.readouterr().err
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("10.1.2.3")


# -- what one request may cost ------------------------------------------------------------


@pytest.fixture
def open_gateway(sandbox: Sandbox) -> Iterator[str]:
    with serve_gateway(sandbox) as url:
        yield url


def nested_accounts(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"account {{ contacts(first: 20) {{ edges {{ node {{ {inner} }} }} }} }}"
    return f'{{ contact(email: "{ADA}") {{ {inner} }} }}'


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        pytest.param(nested_accounts(12), "max_depth", id="nested-accounts"),
        pytest.param(
            f'{{ contact(email: "{ADA}") {{ {" ".join(f"a{i}: email" for i in range(40))} }} }}',
            "max_aliases",
            id="40-aliases",
        ),
        pytest.param(
            "{" + " ".join(f'a{i}: contact(email: "{ADA}") {{ id }}' for i in range(500)) + "}",
            "max_tokens",
            id="500-aliases",
        ),
        pytest.param(
            "{" + " ".join(f"p{i}: providers {{ name }}" for i in range(21)) + "}",
            "max_root_fields",
            id="21-root-fields",
        ),
        pytest.param(
            "{ contacts(first: 1000) { edges { node { activity(first: 50) { edges { node { id } } } } } } }",
            "max_provider_calls",
            id="costly",
        ),
    ],
)
def test_an_operation_over_a_limit_is_refused_before_any_provider_call(
    open_gateway: str, sandbox_calls: Any, query: str, limit: str
) -> None:
    response = post(open_gateway, query)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "OPERATION_LIMIT_EXCEEDED"
    assert error["extensions"]["limit"] == limit
    assert response.json()["data"] is None
    assert sandbox_calls() == 0


def test_the_call_budget_refusal_says_what_each_provider_would_cost(open_gateway: str) -> None:
    query = "{ contacts(first: 1000) { edges { node { activity(first: 50) { edges { node { id } } } } } } }"
    [error] = post(open_gateway, query).json()["errors"]
    estimate = error["extensions"]["estimatedProviderCalls"]
    assert estimate["ADAPTIX"] >= 2000  # two calls per contact's activity
    assert estimate["LUNARSEND"] == 1000  # one search per person


def test_a_page_size_sent_as_a_variable_is_costed_anew_each_time(
    open_gateway: str, sandbox_calls: Any
) -> None:
    # The same document (kept parsed and costed between requests), other variables.
    query = """query($n: Int!, $m: Int!) { contacts(first: $n) { edges { node {
        activity(first: $m) { edges { node { id } } } } } } }"""
    assert "errors" not in post(open_gateway, query, {"n": 2, "m": 1}).json()
    calls = sandbox_calls()
    assert calls > 0
    assert codes(post(open_gateway, query, {"n": 1000, "m": 50})) == ["OPERATION_LIMIT_EXCEEDED"]
    assert sandbox_calls() == calls
    assert "errors" not in post(open_gateway, query, {"n": 2, "m": 1}).json()
    # A long string sent as a variable is refused whatever the document's literals are.
    long_email = "a" * 2_001 + "@example.com"
    assert codes(post(open_gateway, LOOKUP, {"e": ADA})) == []
    assert codes(post(open_gateway, LOOKUP, {"e": long_email})) == ["BAD_USER_INPUT"]


def test_the_defaults_let_a_frontend_page_through(open_gateway: str) -> None:
    query = """{ contacts(first: 100) { edges { node {
        id email name tags { name kind } account { name } sources { provider remoteId }
        activity(first: 3) { edges { node { kind timestamp } } } } } pageInfo { endCursor } } }"""
    response = post(open_gateway, query)
    assert "errors" not in response.json(), response.json()
    assert len(response.json()["data"]["contacts"]["edges"]) == 100


def test_introspection_is_exempt_from_the_depth_limit_until_it_is_switched_off(
    sandbox: Sandbox, open_gateway: str
) -> None:
    assert post(open_gateway, get_introspection_query()).json()["data"]["__schema"]
    closed = settings(server=ServerSettings(introspection=False, graphiql=False))
    with serve_gateway(sandbox, closed) as url:
        refused = post(url, get_introspection_query())
        assert codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "introspection" in refused.json()["errors"][0]["message"]
        assert post(url, "{ __typename }").json() == {"data": {"__typename": "Query"}}
        assert httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}).status_code == 404


def test_a_body_past_the_limit_is_413(sandbox: Sandbox) -> None:
    with serve_gateway(sandbox, settings(limits=Limits(max_body_bytes=2_000))) as url:
        assert post(url, "{ providers { name } }").status_code == 200
        big = post(url, "{ providers { name } }" + " " * 3_000)
        assert big.status_code == 413
        # A chunked body has no length to refuse it by: it is cut off as it arrives.
        streamed = httpx.post(
            f"{url}/graphql",
            content=(part for part in [b'{"query": "', b" " * 3_000, b'{ __typename }"}']),
            headers={"Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        # Under the limit, a body sent in pieces is read whole.
        pieces = httpx.post(
            f"{url}/graphql",
            content=(part for part in [b'{"query": "', b" " * 500, b'{ __typename }"}']),
            headers={"Content-Type": "application/json"},
        )
        assert pieces.json() == {"data": {"__typename": "Query"}}


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"42",
        b'"query"',
        b"null",
        b"[]",
        b'{"query": "\xff"}',
        b"[" * 5_000 + b"]" * 5_000,
        b"{",
        b'{"query": "0", "operationName": true}',
        b'{"query": "{ __typename }", "operationName": 5}',
    ],
    ids=[
        "number",
        "string",
        "null",
        "array",
        "invalid-utf8",
        "deep",
        "truncated",
        "operation-name-bool",
        "operation-name-number",
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(
    open_gateway: str, sandbox_calls: Any, body: bytes
) -> None:
    response = httpx.post(
        f"{open_gateway}/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert sandbox_calls() == 0


def forged_cursor(state: bytes) -> str:
    return base64.urlsafe_b64encode(state).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(LOOKUP, {"e": 5}, id="wrong-variable-type"),
        pytest.param(
            "query($f: Int) { contacts(first: $f) { pageInfo { hasNextPage } } }",
            {"f": "many"},
            id="int-as-text",
        ),
        pytest.param(
            "mutation($i: ContactInput!) { upsertContact(input: $i) { results { status } } }",
            {"i": {"email": "a@b.test", "nickname": "x"}},
            id="unknown-input-field",
        ),
        pytest.param(LOOKUP, {"e": "a" * 70_000 + "@x.test"}, id="overlong-string"),
        pytest.param(
            "query($a: String) { contacts(first: 1, after: $a) { pageInfo { hasNextPage } } }",
            {"a": forged_cursor(b"[" * 300)},
            id="deeply-nested-cursor",
        ),
        pytest.param(
            "query($a: String) { contacts(first: 1, after: $a) { pageInfo { hasNextPage } } }",
            {"a": "A" * 5_000},
            id="overlong-cursor",
        ),
        pytest.param(
            "query($id: ID!) { contact(id: $id) { email } }",
            {"id": forged_cursor(b"Account:company:acme")},
            id="forged-id",
        ),
    ],
)
def test_bad_input_is_bad_user_input_and_reaches_no_provider(
    open_gateway: str, sandbox_calls: Any, query: str, variables: Any
) -> None:
    response = post(open_gateway, query, variables)
    assert response.status_code == 200
    assert codes(response) == ["BAD_USER_INPUT"], response.json()
    assert sandbox_calls() == 0


# -- CORS -----------------------------------------------------------------------------


def test_cors_answers_preflights_for_the_listed_origins_only(
    sandbox: Sandbox, open_gateway: str
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
    }
    # Not configured: no browser origin is allowed.
    closed = httpx.options(
        f"{open_gateway}/graphql", headers={"Origin": "https://app.example.com", **preflight}
    )
    assert "access-control-allow-origin" not in closed.headers
    with serve_gateway(
        sandbox, settings(server=ServerSettings(cors_origins=("https://app.example.com",)))
    ) as url:
        allowed = httpx.options(
            f"{url}/graphql", headers={"Origin": "https://app.example.com", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        refused = httpx.options(
            f"{url}/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers


# -- time -------------------------------------------------------------------------------


def test_at_the_deadline_the_answer_is_partial_and_says_which_provider_ran_out(
    sandbox: Sandbox,
) -> None:
    sandbox.emulators["adaptix"].controls = Controls(latency_ms=3_000)
    with serve_gateway(sandbox, settings(limits=Limits(timeout=0.5))) as url:
        started = time.monotonic()
        response = post(url, LOOKUP, {"e": ADA})
        elapsed = time.monotonic() - started
    assert elapsed < 2.5  # not the 3 s Adaptix takes
    body = response.json()
    assert {s["provider"] for s in body["data"]["contact"]["sources"]} == {"TRUSTMARY", "LUNARSEND"}
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "OPERATION_TIMEOUT",
        "provider": "ADAPTIX",
        "limit": "timeout",
    }


def test_an_operation_stalled_past_its_deadline_outside_provider_calls_is_answered(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The deadline cuts provider calls; something else that stalls (here the store's
    file, held by another process, which a first sighting must write to) is cut by the
    view's backstop a second past the deadline: the client gets the timeout's error,
    not a wait for the store's own 15 s."""
    path = tmp_path / "store.db"
    configured = replace(
        gateway_settings(SANDBOX_URL, store_url=f"sqlite:///{path}"), limits=Limits(timeout=0.5)
    )
    with serve_gateway(sandbox, configured) as url:
        # Waits out the gateway's own once-a-second journal look, should it hold the file.
        holder = sqlite3.connect(path, timeout=5, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            response = post(url, LOOKUP, {"e": ADA})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "OPERATION_TIMEOUT"
    assert "0.5 s" in error["message"]


# Before the view listens for a hang-up (`view.WATCH_AFTER`), and after.
@pytest.mark.parametrize("after", [0.1, 0.6], ids=["early", "late"])
def test_an_operation_whose_client_hung_up_stops_calling_providers(
    sandbox: Sandbox, after: float
) -> None:
    lunarsend = sandbox.emulators["lunarsend"]
    lunarsend.controls = Controls(latency_ms=300)
    query = "{ contacts(first: 60) { edges { node { sources { provider } } } } }"
    # Lunar Send reads one email a call: 8 at a time, the answer takes 8 rounds of 0.3 s.
    configured = settings()
    slow = replace(configured.providers[Provider.LUNARSEND], concurrency=8)
    configured = replace(configured, providers={**configured.providers, Provider.LUNARSEND: slow})
    with serve_gateway(sandbox, configured) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/graphql", json={"query": query}, timeout=after)
        time.sleep(1.0)  # calls already sent when the client left may still arrive
        settled = sum(lunarsend.stats.requests.values())
        time.sleep(1.5)  # a gateway still working would send about 8 more every 0.3 s
        later = sum(lunarsend.stats.requests.values())
    assert later == settled
    assert settled < 40  # of the 60 lookups the whole answer needs


# -- secrets --------------------------------------------------------------------------


def test_a_provider_that_echoes_its_credentials_never_shows_them_to_a_caller(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    for emulator in sandbox.emulators.values():
        emulator.controls = Controls(outage=True, echo_credentials=True)
    configured = settings()
    secrets = configured.secrets()
    assert len(secrets) == 5  # one credential per provider
    caplog.set_level(logging.DEBUG)
    with serve_gateway(sandbox, configured) as url:
        bodies = [
            post(url, LOOKUP, {"e": ADA}).text,
            post(url, UPSERT.replace("[ADAPTIX]", "[ADAPTIX, AKITA, LUNARSEND]")).text,
            post(url, "{ providers { name health { ok message } } }").text,
            httpx.get(f"{url}/readyz").text,
        ]
    assert "**********" in bodies[0]  # the provider's words are kept, its echo masked
    everything = "\n".join([*bodies, caplog.text])
    for secret in secrets:
        assert secret not in everything
