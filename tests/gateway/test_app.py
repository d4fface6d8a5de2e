from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.settings import ConnectorSettings, Secret
from gateway import assets
from gateway.app import ENV_CONFIG, create_app, create_app_from_env
from gateway.config import GatewaySettings, ServerSettings
from gateway.domain.records import Provider
from sandbox.app import Sandbox
from tests.gateway.conftest import serve_gateway
from tests.rawhttp import Exchange, running
from tests.support import SANDBOX_URL, gateway_settings, serve_in_thread

CONTACTS = "{ contacts(first: 5) { edges { node { id email sources { provider remoteId } } } } }"
UPSERT = """
mutation {
  upsertContact(input: {email: "new.person@example.com", firstName: "New", lastName: "Person",
                        externalId: "u-1", accountExternalId: "a-1"}) {
    results { provider status message }
    contact { email firstName sources { provider } }
  }
}
"""


FIND = '{ contact(email: "ada.lovelace.0@stark.test") { email sources { provider } } }'


def only(settings: GatewaySettings, *providers: Provider) -> GatewaySettings:
    return GatewaySettings(
        providers={p: s for p, s in settings.providers.items() if p in providers},
        precedence=settings.precedence,
    )


async def adaptix_emails(sandbox_http: httpx.AsyncClient) -> set[str]:
    records = (await sandbox_http.get("/adaptix/_sandbox/records")).json()["records"]
    return {r["fields"]["all"]["email"] for r in records}


# -- liveness and readiness ----------------------------------------------------


def test_healthz(gateway_url: str) -> None:
    response = httpx.get(f"{gateway_url}/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def checked(url: str, until: Any = None, timeout: float = 10) -> httpx.Response:
    """`/readyz` once the background check has run (and `until(body)` holds)."""
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{url}/readyz")
        body = response.json()
        if body.get("store", {}).get("message") != "not checked yet" and (
            until is None or until(body)
        ):
            return response
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def quick_health(**overrides: Any) -> GatewaySettings:
    settings = gateway_settings(SANDBOX_URL)
    return replace(settings, server=ServerSettings(health_interval=0.1), **overrides)


def test_readyz_reports_every_provider_from_the_background_check(sandbox: Sandbox) -> None:
    with serve_gateway(sandbox) as url:
        response = checked(url)

    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body["store"] == {"ok": True, "message": None}
    assert set(body["providers"]) == {p.value for p in Provider}
    for key in ("trustmary", "adaptix", "lunarsend"):
        state = body["providers"][key]
        assert (state["enabled"], state["ok"], state["checked"]) == (True, True, "active"), key
        assert isinstance(state["latency_ms"], float | int), key
        assert state["message"] is None, key
    for key in ("akita", "interakt"):  # only write endpoints: nothing to ask
        state = body["providers"][key]
        assert (state["ok"], state["checked"]) == (None, "passive"), key
        assert "no read endpoint" in state["message"]


def test_readyz_calls_no_provider_and_the_checks_never_write(sandbox: Sandbox) -> None:
    with serve_gateway(sandbox, quick_health()) as url:
        checked(url)
        time.sleep(0.35)  # a few background rounds
        labels = [label for e in sandbox.emulators.values() for label in e.stats.requests]
    with serve_gateway(sandbox) as url:
        checked(url)
        before = sum(sum(e.stats.requests.values()) for e in sandbox.emulators.values())
        for _ in range(20):
            assert httpx.get(f"{url}/readyz").status_code == 200
        after = sum(sum(e.stats.requests.values()) for e in sandbox.emulators.values())

    assert labels
    assert [label for label in labels if not label.startswith("GET ")] == []
    assert after == before


def test_readyz_stays_ready_while_one_provider_is_down_and_says_which(sandbox: Sandbox) -> None:
    sandbox.emulators["lunarsend"].controls.outage = True
    with serve_gateway(sandbox, quick_health()) as url:
        response = checked(url)

    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body["providers"]["lunarsend"]["ok"] is False
    assert body["providers"]["lunarsend"]["message"]
    assert body["providers"]["adaptix"]["ok"] is True


def test_readyz_is_503_when_no_provider_answers(sandbox: Sandbox) -> None:
    for emulator in sandbox.emulators.values():
        emulator.controls.outage = True
    with serve_gateway(sandbox, quick_health()) as url:
        response = checked(url)

    assert response.status_code == 503
    assert response.json()["ready"] is False


def test_readyz_shows_refused_credentials(sandbox: Sandbox) -> None:
    settings = quick_health()
    wrong = {
        **settings.providers,
        Provider.TRUSTMARY: _replace(settings, Provider.TRUSTMARY, api_key=Secret("wrong")),
    }
    with serve_gateway(sandbox, replace(settings, providers=wrong)) as url:
        response = checked(url)

    assert response.json()["providers"]["trustmary"]["ok"] is False
    assert response.json()["providers"]["adaptix"]["ok"] is True


def test_akita_and_interakt_are_judged_by_their_answers_to_the_gateways_calls(
    sandbox: Sandbox,
) -> None:
    upsert = """mutation { upsertContact(input: {email: "passive@example.com",
      externalId: "p-1", accountExternalId: "a-1"}, providers: [AKITA, INTERAKT]) {
      results { status } } }"""
    sandbox.emulators["interakt"].controls.outage = True
    with serve_gateway(sandbox, quick_health()) as url:
        httpx.post(f"{url}/graphql", json={"query": upsert})
        body = checked(url).json()

    akita, interakt = body["providers"]["akita"], body["providers"]["interakt"]
    assert (akita["ok"], akita["checked"]) == (True, "passive")
    assert akita["age_s"] is not None
    assert (interakt["ok"], interakt["checked"]) == (False, "passive")


def test_readyz_lists_disabled_providers_and_ignores_them(sandbox: Sandbox) -> None:
    settings = only(gateway_settings(SANDBOX_URL), Provider.ADAPTIX, Provider.TRUSTMARY)
    with serve_gateway(sandbox, settings) as url:
        response = checked(url)

    assert response.status_code == 200
    providers = response.json()["providers"]
    assert providers["adaptix"]["ok"] is True
    assert providers["akita"] == {
        "enabled": False,
        "ok": None,
        "latency_ms": None,
        "message": "not configured",
    }


# -- GraphQL over HTTP -----------------------------------------------------------


def test_post_query_federates_the_providers(gateway_url: str) -> None:
    response = httpx.post(f"{gateway_url}/graphql", json={"query": CONTACTS}, timeout=30)

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    edges = body["data"]["contacts"]["edges"]
    assert len(edges) == 5
    for edge in edges:
        assert "@" in edge["node"]["email"]
    providers = {s["provider"] for e in edges for s in e["node"]["sources"]}
    assert len(providers) > 1, "the contacts should come from more than one provider"


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"GraphQL-Require-Preflight": "1"},
        {"Apollo-Require-Preflight": "true"},
    ],
)
def test_get_query_is_allowed_with_a_header_a_browser_would_preflight(
    gateway_url: str, headers: dict[str, str]
) -> None:
    response = httpx.get(
        f"{gateway_url}/graphql",
        params={"query": "{ contacts(first: 2) { edges { node { email } } } }"},
        headers={"Accept": "application/json", **headers},
        timeout=30,
    )

    assert response.status_code == 200
    assert len(response.json()["data"]["contacts"]["edges"]) == 2


async def test_a_get_query_a_browser_could_send_cross_site_is_refused(
    gateway_url: str, sandbox_http: httpx.AsyncClient
) -> None:
    # A plain GET (an <img src>, a link) carries no JSON type and no custom header.
    await sandbox_http.post("/_sandbox/reset")
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(
            f"{gateway_url}/graphql",
            params={"query": '{ contact(email: "ada.lovelace.0@stark.test") { email } }'},
        )
    assert response.status_code == 400
    assert "GraphQL-Require-Preflight" in response.text
    assert (await sandbox_http.get("/adaptix/_sandbox/stats")).json()["requests"] == {}


async def test_get_mutation_is_refused_and_writes_nothing(
    gateway_url: str, sandbox_http: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        response = await client.get(
            "/graphql", params={"query": UPSERT}, headers={"GraphQL-Require-Preflight": "1"}
        )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "new.person@example.com" not in await adaptix_emails(sandbox_http)


async def test_post_mutation_writes_to_the_providers(
    gateway_url: str, sandbox_http: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
        response = await client.post("/graphql", json={"query": UPSERT})

    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["upsertContact"]
    statuses = {r["provider"]: r["status"] for r in payload["results"]}
    assert set(statuses) == {p.name for p in Provider}
    assert statuses["ADAPTIX"] == "CREATED"
    assert payload["contact"]["email"] == "new.person@example.com"
    assert payload["contact"]["firstName"] == "New"
    assert "new.person@example.com" in await adaptix_emails(sandbox_http)


async def test_each_request_sees_fresh_provider_data(
    gateway_url: str, sandbox_http: httpx.AsyncClient
) -> None:
    """No answer is cached across requests: each GraphQL request has its own context."""
    query = {"query": "{ contacts(first: 1) { edges { node { email firstName } } } }"}
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
        before = (await client.post("/graphql", json=query)).json()
        node = before["data"]["contacts"]["edges"][0]["node"]
        edit = await sandbox_http.patch(
            "/adaptix/api/contacts/1/edit",
            json={"firstname": "Renamed"},
            auth=("sandbox", "sandbox-adaptix-password"),
        )
        assert edit.status_code == 200, edit.text
        after = (await client.post("/graphql", json=query)).json()

    assert node["firstName"] != "Renamed"
    assert after["data"]["contacts"]["edges"][0]["node"] == {
        "email": node["email"],
        "firstName": "Renamed",
    }


def test_a_syntax_error_is_a_graphql_error_not_a_crash(gateway_url: str) -> None:
    response = httpx.post(f"{gateway_url}/graphql", json={"query": "{ contacts("})

    assert response.status_code == 200
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "answer"),
    [
        (b'{"query": "{ __typename }"}', "application/json", 200, '{"data":{"__typename"'),
        (b'{"query": "{ __typename }"}', "application/json; charset=utf-8", 200, '{"data"'),
        (b"{", "application/json", 400, "Unable to parse request body as JSON"),
        (b"[1]", "application/json", 400, "The request body must be a JSON object"),
        (b'{"query": 1}', "application/json", 400, "`query` must be a string or null"),
        (b'{"query": "{ a }", "variables": []}', "application/json", 400, "`variables` must be"),
        (b'{"query": "{ a }", "extensions": 1}', "application/json", 400, "`extensions` must be"),
        (b'{"query": "{ a }", "operationName": 1}', "application/json", 400, "`operationName`"),
        (b"{}", "application/json", 400, "No GraphQL query found in the request"),
        (
            b'{"query": "query A { __typename }", "operationName": "B"}',
            "application/json",
            400,
            'Unknown operation named "B".',
        ),
        (b'{"query": "{ __typename }"}', "text/plain", 400, "Unsupported content type"),
    ],
)
def test_a_post_is_answered_or_refused_as_graphql_over_http_says(
    gateway_url: str, body: bytes, content_type: str, status: int, answer: str
) -> None:
    response = httpx.post(
        f"{gateway_url}/graphql", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == status
    assert answer in response.text
    if status == 200:
        assert response.headers["content-type"] == "application/json"


def test_graphql_answers_the_same_straight_and_through_starlettes_router(
    sandbox: Sandbox,
) -> None:
    # /graphql goes straight to its view; mounted under a root path it goes through
    # Starlette's stack. Both must answer alike, request id and CORS headers included.
    settings = gateway_settings(SANDBOX_URL)
    settings = replace(settings, server=replace(settings.server, cors_origins=("https://a.test",)))
    app = create_app(settings, transport=httpx.ASGITransport(app=sandbox.app))

    async def mounted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "root_path": "/gw", "path": "/gw" + scope["path"]}
        await app(scope, receive, send)

    headers = {"Origin": "https://a.test", "X-Request-ID": "r-1"}
    answers = []
    with serve_in_thread(app) as straight, serve_in_thread(mounted) as routed:
        for url in (straight, routed):
            for body in ({"query": FIND}, {"query": "{ nope }"}):
                answers.append(httpx.post(f"{url}/graphql", json=body, headers=headers))

    assert answers[0].json()["data"]["contact"]["email"] == "ada.lovelace.0@stark.test"
    for one, other in zip(answers[:2], answers[2:], strict=True):
        assert (one.status_code, one.json()) == (other.status_code, other.json())
        for name in ("x-request-id", "access-control-allow-origin", "content-type"):
            assert one.headers.get(name) == other.headers.get(name) is not None, name


# -- GraphiQL --------------------------------------------------------------------


class AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def links(page: str) -> list[str]:
    parser = AssetLinks()
    parser.feed(page)
    return parser.urls


def assert_no_other_host(page: str) -> None:
    assert not re.search(r"(?i)(https?:)?//[a-z0-9]", page), "the page names a host"
    assert "unpkg" not in page


@pytest.mark.parametrize("where", ["stand-ins", "fetched"])
def test_graphiql_loads_every_asset_from_the_gateway(
    sandbox: Sandbox, fake_static: Path, where: str
) -> None:
    static = fake_static if where == "stand-ins" else assets.STATIC_DIR
    if where == "fetched" and assets.missing(static):
        pytest.skip("GraphiQL assets not fetched: python -m gateway.assets fetch")
    with serve_gateway(sandbox, static_dir=static) as url:
        page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert_no_other_host(page.text)
        urls = [u for u in links(page.text) if not u.startswith("data:")]
        assert sorted(u.rsplit("/", 1)[1] for u in urls) == sorted(assets.FILES)
        for asset in urls:
            assert asset.startswith("/static/vendor/"), asset
            response = httpx.get(url + asset)
            assert response.status_code == 200, asset
            assert response.content, asset
            kind = "text/css" if asset.endswith(".css") else "javascript"
            assert kind in response.headers["content-type"], asset


@pytest.mark.parametrize("layout", ["empty-dir", "no-dir"])
def test_graphiql_without_assets_says_how_to_get_them(
    sandbox: Sandbox, tmp_path: Path, layout: str
) -> None:
    static = tmp_path if layout == "empty-dir" else tmp_path / "nowhere"
    with serve_gateway(sandbox, static_dir=static) as url:
        page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        missing_asset = httpx.get(f"{url}/static/vendor/graphiql.min.js")

    assert page.status_code == 200
    assert "python -m gateway.assets fetch" in page.text
    assert "scripts/install" in page.text
    assert "<script" not in page.text
    assert_no_other_host(page.text)
    assert missing_asset.status_code == 404


# -- lifespan, factory, secrets --------------------------------------------------


async def test_lifespan_opens_one_client_per_provider_and_closes_them(sandbox: Sandbox) -> None:
    settings = only(gateway_settings(SANDBOX_URL), Provider.ADAPTIX, Provider.LUNARSEND)
    app = create_app(settings, transport=httpx.ASGITransport(app=sandbox.app))

    async with app.router.lifespan_context(app) as state:
        assert state is not None
        connectors = state["runtime"].connectors
        assert set(connectors) == {Provider.ADAPTIX, Provider.LUNARSEND}
        clients = [c.client for c in connectors.values()]
        assert clients[0] is not clients[1]
        assert not any(c.is_closed for c in clients)
        health = await connectors[Provider.ADAPTIX].check_health()
        assert health.ok

    assert all(c.is_closed for c in clients)


async def test_provider_calls_keep_connections_alive_within_the_provider_concurrency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def slow(exchange: Exchange) -> None:
        await asyncio.sleep(0.02)
        exchange.answer(b'{"data": []}', headers="content-type: application/json\r\n")

    async with running(slow) as server:
        settings = gateway_settings(server.url)
        settings = GatewaySettings(
            {Provider.LUNARSEND: _replace(settings, Provider.LUNARSEND, concurrency=3)},
            settings.precedence,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            assert state is not None
            lunarsend = state["runtime"].connectors[Provider.LUNARSEND]
            emails = [f"p{i}@example.test" for i in range(12)]
            await asyncio.gather(*(lunarsend.fetch_by_emails([e]) for e in emails))
            await lunarsend.fetch_by_emails(["last@example.test"])
    # The background health check's search is the only other request.
    lookups = [r for r in server.requests if "healthcheck" not in r.target]
    assert len(lookups) == 13
    assert len(server.requests) - len(lookups) <= 1
    # Twelve calls at once, three at a time, on three connections kept open.
    assert server.peak == 3
    assert server.connections == 3


async def test_factory_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[providers.akita]\nbase_url = "https://api.akitaapp.com/v1"\napi_key = "k"\n'
    )
    monkeypatch.setenv(ENV_CONFIG, str(config))
    app = create_app_from_env()
    async with app.router.lifespan_context(app) as state:
        assert state is not None
        assert set(state["runtime"].connectors) == {Provider.AKITA}

    monkeypatch.delenv(ENV_CONFIG)
    with pytest.raises(RuntimeError, match=ENV_CONFIG):
        create_app_from_env()


def test_configured_secrets_never_reach_logs_errors_or_responses(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_password = "adaptix-WRONG-pw-5150"
    wrong_key = "lunarsend-WRONG-key-8086"
    settings = gateway_settings(SANDBOX_URL)
    providers = {
        **settings.providers,
        Provider.ADAPTIX: _replace(settings, Provider.ADAPTIX, password=Secret(wrong_password)),
        Provider.LUNARSEND: _replace(settings, Provider.LUNARSEND, api_key=Secret(wrong_key)),
    }
    good = [
        s for c in providers.values() for s in c.secrets() if s not in (wrong_password, wrong_key)
    ]
    assert len(good) == 3  # Akita, Interakt, Trustmary: the other two are wrong
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    with serve_gateway(sandbox, GatewaySettings(providers, settings.precedence)) as url:
        bodies.append(httpx.get(f"{url}/readyz").text)
        bodies.append(httpx.post(f"{url}/graphql", json={"query": CONTACTS}, timeout=30).text)
        bodies.append(httpx.post(f"{url}/graphql", json={"query": UPSERT}, timeout=30).text)

    assert "PROVIDER_AUTH" in bodies[1], "the refused credentials should surface as errors"
    assert "operation=query" in caplog.text, "the operation log should have been captured"
    everything = "\n".join([*bodies, caplog.text, *(repr(r.__dict__) for r in caplog.records)])
    for secret in (wrong_password, wrong_key, *good):
        assert secret not in everything


def _replace(settings: GatewaySettings, provider: Provider, **changes: Any) -> ConnectorSettings:
    return replace(settings.providers[provider], **changes)
