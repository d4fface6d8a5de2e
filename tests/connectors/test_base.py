"""The rules every connector shares (connectors/base.py): retries, the budget, requests."""

from __future__ import annotations

import asyncio
import urllib.parse
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from connectors.akita import AkitaConnector
from connectors.base import query_string, quote_plus
from connectors.http import aiohttp_url, provider_url
from connectors.settings import RetryPolicy
from gateway.domain.records import ContactWrite, Provider, WriteStatus
from tests.connectors.support import Script, scripted
from tests.support import SANDBOX_URL, sandbox_settings

CONTACT = ContactWrite(external_id="u-1", account_external_id="a-1", first_name="A")
CREATED = httpx.Response(
    201, json={"data": {"id": 7, "internal_id": "u-1", "internal_account_id": "a-1"}}
)
LIMITED = httpx.Response(
    429, headers={"Retry-After": "0.01"}, json={"message": "Too Many Attempts."}
)
BROKEN = httpx.Response(500, json={"message": "Server Error"})


def retry(budget: float) -> RetryPolicy:
    return RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.01, budget=budget)


async def test_a_write_refused_with_429_is_sent_again_until_accepted() -> None:
    # More refusals than `attempts`: a 429 means "not yet", so only the budget limits it.
    script = Script(LIMITED, LIMITED, LIMITED, LIMITED, CREATED)
    async with scripted(Provider.AKITA, script, retry=retry(2.0)) as akita:
        result = await akita.upsert(CONTACT)
    assert result.status is WriteStatus.CREATED
    assert len(script.requests) == 5


async def test_a_write_still_refused_when_the_budget_ends_is_failed() -> None:
    script = Script(LIMITED)
    async with scripted(Provider.AKITA, script, retry=retry(0.1)) as akita:
        result = await akita.upsert(CONTACT)
    assert result.status is WriteStatus.FAILED
    assert 1 < len(script.requests) <= 11


async def test_a_write_answered_with_a_5xx_is_not_sent_again() -> None:
    script = Script(BROKEN, CREATED)
    async with scripted(Provider.AKITA, script, retry=retry(2.0)) as akita:
        result = await akita.upsert(CONTACT)
    assert result.status is WriteStatus.FAILED
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("failure", "status", "sent"),
    [
        # No connection was made: the write never left, so it is sent again.
        (httpx.ConnectError("refused"), WriteStatus.CREATED, 2),
        # The connection broke after the write left: the provider may have acted.
        (httpx.ReadError("reset"), WriteStatus.FAILED, 1),
        (httpx.RemoteProtocolError("hung up"), WriteStatus.FAILED, 1),
    ],
)
async def test_a_write_is_sent_again_only_when_it_never_left(
    failure: httpx.TransportError, status: WriteStatus, sent: int
) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) == 1:
            raise failure
        return CREATED

    async with scripted(Provider.AKITA, httpx.MockTransport(handler), retry=retry(2.0)) as akita:
        result = await akita.upsert(CONTACT)
    assert result.status is status
    assert len(requests) == sent


async def test_a_call_queued_behind_others_gets_its_whole_budget_for_its_retries() -> None:
    # One slot, six writes: the last ones wait for the others before it is sent, longer
    # than the budget. Its budget starts when it is sent, and its retry keeps its slot.
    tried: set[str] = set()

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.1)
        key = request.content.decode()
        if key not in tried:
            tried.add(key)
            return httpx.Response(
                429, headers={"Retry-After": "0.01"}, json={"message": "Slow down."}
            )
        return httpx.Response(
            201, json={"data": {"id": 1, "internal_id": "x", "internal_account_id": "a"}}
        )

    settings = replace(
        sandbox_settings(Provider.AKITA),
        concurrency=1,
        retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01, budget=0.35),
    )
    inputs = [replace(CONTACT, external_id=f"u-{n}") for n in range(6)]
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url=SANDBOX_URL
    ) as client:
        connector = AkitaConnector(client, settings)
        results = await asyncio.gather(*(connector.upsert(i) for i in inputs))
    assert [r.status for r in results] == [WriteStatus.CREATED] * 6


async def test_the_time_calls_wait_for_their_turn_is_counted_per_provider() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return CREATED

    def waited() -> float:
        labels = {"provider": "akita"}
        name = "contact_gateway_provider_pacing_wait_seconds_total"
        return REGISTRY.get_sample_value(name, labels) or 0.0

    settings = replace(sandbox_settings(Provider.AKITA), concurrency=1)
    before = waited()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url=SANDBOX_URL
    ) as client:
        connector = AkitaConnector(client, settings)
        inputs = [replace(CONTACT, external_id=f"u-{n}") for n in range(3)]
        await asyncio.gather(*(connector.upsert(i) for i in inputs))
    # One slot: the second call waits for the first (~50 ms), the third for both.
    assert 0.12 <= waited() - before < 1.0


async def test_requests_carry_the_clients_headers_and_the_credentials() -> None:
    script = Script(httpx.Response(200, json={"data": []}))
    async with httpx.AsyncClient(
        transport=script, base_url=SANDBOX_URL, headers={"User-Agent": "gateway/1"}
    ) as client:
        connector = AkitaConnector(client, sandbox_settings(Provider.AKITA))
        await connector.request("GET", "/contacts", params={"q": "a b"})
        await connector.request("POST", "/contacts", json={"internal_id": "u-1"})

    read, write = script.requests
    for request in (read, write):
        assert request.headers["User-Agent"] == "gateway/1"
        assert request.headers["Authorization"].startswith("Bearer ")
    assert str(read.url) == f"{SANDBOX_URL}/akita/v1/contacts?q=a+b"
    assert "Content-Type" not in read.headers
    assert write.headers["Content-Type"] == "application/json"
    assert write.content == b'{"internal_id":"u-1"}'
    assert write.headers["Content-Length"] == str(len(write.content))


@pytest.mark.parametrize(
    "params",
    [
        {"searchby": "email", "search": "a+b@x.test"},
        [("where[0][val]", "a@x.test,b c@é.fi"), ("limit", 5), ("start", 0)],
        [("minimal", True), ("publishedOnly", False), ("empty", None), ("search", "tag:vip/1")],
    ],
)
def test_query_strings_are_encoded_as_httpx_encodes_them(params: Any) -> None:
    assert query_string(params) == str(httpx.QueryParams(params))


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=4))
def test_query_strings_are_what_urlencode_makes(pairs: list[tuple[str, str]]) -> None:
    assert query_string(pairs) == urlencode(pairs)
    assert all(quote_plus(value) == urllib.parse.quote_plus(value) for _, value in pairs)


@pytest.mark.parametrize(
    ("base", "path", "params"),
    [
        ("http://127.0.0.1:8100/adaptix/api", "/contacts", [("where[0][val]", "Ada+x@ex.com")]),
        ("http://127.0.0.1:8100/adaptix/api", "/contacts/12/edit", None),
        ("https://api.trustmary.io/v1", "/contacts", {"email": "åsa öberg@example.com"}),
        ("https://lunarsend.com/api", "/contacts", {"searchby": "email", "search": "a&b=c#d"}),
        ("http://h:81", "/a path/with space", {"q": "x"}),
        ("http://h:81/base", "/contacts?offset=1000", {"email": "e@x.io"}),
        ("http://h:81/base", "/ünïcode", None),
    ],
)
def test_a_provider_url_is_the_url_httpx_would_parse(
    base: str, path: str, params: dict[str, str] | list[tuple[str, str]] | None
) -> None:
    query = query_string(params) if params else None
    joined = base + path + (("&" if "?" in path else "?") + query if query else "")
    made = provider_url(httpx.URL(base), path, query)
    assert made == httpx.URL(joined)
    assert str(made) == str(httpx.URL(joined))
    assert made.raw_path == httpx.URL(joined).raw_path
    # What aiohttp is given sends the same request line and reaches the same host.
    sent = aiohttp_url(httpx.URL(base), path, query)
    assert sent.raw_path_qs == httpx.URL(joined).raw_path.decode("ascii")
    assert (sent.scheme, sent.host, sent.explicit_port) == (made.scheme, made.host, made.port)
