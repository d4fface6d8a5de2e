"""Transport conformance: the provider client `connectors.http.build_client` makes
(httpx over aiohttp) meets real HTTP/1.1 servers on 127.0.0.1, answering by hand,
the way providers answer and misbehave: interim 1xx answers, chunked, gzip and
close-delimited bodies, slow and silent servers, dropped and refused connections,
a private CA, keep-alive reuse and the concurrency bound. Each case checks what a
user of the gateway would notice (the answer, or the error class the connector
raises, and how often the server was asked), on asyncio and again on uvloop.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
import trustme
import uvloop

from connectors.base import HTTPConnector
from connectors.errors import (
    NotConnected,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from connectors.http import build_client
from connectors.settings import ConnectorSettings, RetryPolicy
from gateway.domain.records import Provider
from tests.rawhttp import Exchange, Handler, Server, running

USER_AGENT = "contact-gateway-test"
CONTACTS = [{"id": f"c-{n}", "email": f"person{n}@example.com"} for n in range(50)]
BODY = json.dumps(CONTACTS).encode()


class Probe(HTTPConnector[ConnectorSettings]):
    """A connector with nothing of its own: the shared machinery, to see how it
    classifies what the transport raises."""

    provider = Provider.AKITA


def settings(url: str, **overrides: Any) -> ConnectorSettings:
    """Settings for one call and no retries, unless `overrides` say otherwise."""
    values: dict[str, Any] = {"timeout": 2.0, "retry": RetryPolicy(attempts=1)}
    return ConnectorSettings(base_url=url, **(values | overrides))


@asynccontextmanager
async def client(config: ConnectorSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with build_client(config, user_agent=USER_AGENT) as http:
        yield http


@asynccontextmanager
async def connector(config: ConnectorSettings) -> AsyncIterator[Probe]:
    async with client(config) as http:
        yield Probe(http, config)


def head(status: str = "200 OK", *headers: str) -> bytes:
    """A status line and headers, with the blank line that ends them."""
    return "".join([f"HTTP/1.1 {status}\r\n", *(f"{h}\r\n" for h in headers), "\r\n"]).encode()


async def send(exchange: Exchange, *parts: bytes, pause: float = 0.0) -> None:
    """Write `parts` one by one, each flushed, `pause` seconds apart."""
    for index, part in enumerate(parts):
        if index and pause:
            await asyncio.sleep(pause)
        exchange.writer.write(part)
        await exchange.writer.drain()


def chunked(*chunks: bytes) -> list[bytes]:
    """`chunks` in chunked transfer coding, the last chunk included."""
    return [b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks] + [b"0\r\n\r\n"]


# -- 1. interim answers --------------------------------------------------------

CONTINUE = head("100 Continue")
EARLY_HINTS = head("103 Early Hints", "Link: </style.css>; rel=preload; as=style")


@pytest.mark.parametrize(
    ("interim", "one_write"),
    [
        ([CONTINUE], False),
        ([EARLY_HINTS], False),
        ([CONTINUE, EARLY_HINTS], False),
        ([CONTINUE, EARLY_HINTS], True),
    ],
    ids=["100", "103", "100+103", "100+103+final-in-one-write"],
)
async def test_an_interim_answer_is_skipped_and_the_next_request_gets_its_own(
    interim: list[bytes], one_write: bool
) -> None:
    async def answer(exchange: Exchange) -> None:
        if exchange.method == "POST":
            parts = [*interim, head("201 Created", f"content-length: {len(BODY)}") + BODY]
            await send(exchange, *([b"".join(parts)] if one_write else parts), pause=0.01)
        else:
            exchange.answer(b"second")

    async with running(answer) as server, client(settings(server.url)) as http:
        first = await http.post(f"{server.url}/contacts", content=b'{"email": "a@b.c"}')
        second = await http.get(f"{server.url}/contacts/c-1")

    assert (first.status_code, first.content) == (201, BODY)
    assert "link" not in first.headers  # the 103's headers are not the answer's
    assert (second.status_code, second.content) == (200, b"second")
    assert server.connections == 1


# -- 2. chunked and gzip bodies ---------------------------------------------


async def test_a_chunked_body_arrives_whole() -> None:
    async def answer(exchange: Exchange) -> None:
        await send(
            exchange,
            head("200 OK", "transfer-encoding: chunked"),
            *chunked(BODY[:7], BODY[7:1000], BODY[1000:]),
            pause=0.01,
        )

    async with running(answer) as server, client(settings(server.url)) as http:
        response = await http.get(f"{server.url}/contacts")
        again = await http.get(f"{server.url}/contacts")

    assert response.content == again.content == BODY
    assert server.connections == 1


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_gzip_body_arrives_decoded(framing: str) -> None:
    packed = gzip.compress(BODY)

    async def answer(exchange: Exchange) -> None:
        if framing == "chunked":
            parts = [head("200 OK", "transfer-encoding: chunked", "content-encoding: gzip")]
            parts += chunked(packed[:10], packed[10:])
        else:
            parts = [head("200 OK", f"content-length: {len(packed)}", "content-encoding: gzip")]
            parts += [packed]
        await send(exchange, *parts, pause=0.01)

    async with running(answer) as server, connector(settings(server.url)) as probe:
        response = await probe.request("GET", "/contacts")

    assert response.content == BODY
    assert probe.decode(response) == CONTACTS


async def test_a_body_its_content_encoding_does_not_decode_is_a_provider_error() -> None:
    async def answer(exchange: Exchange) -> None:
        exchange.answer(b"this is not gzip", headers="content-encoding: gzip\r\n")

    async with running(answer) as server, connector(settings(server.url)) as probe:
        with pytest.raises(ProviderError, match="decode"):
            await probe.request("GET", "/contacts")


# -- 3. a body ended by closing the connection ------------------------------


async def test_a_body_ended_by_the_server_closing_arrives_whole() -> None:
    async def answer(exchange: Exchange) -> None:
        await send(exchange, head("200 OK"), BODY[:100], BODY[100:], pause=0.01)
        exchange.writer.close()

    async with running(answer) as server, client(settings(server.url)) as http:
        first = await http.get(f"{server.url}/contacts")
        second = await http.get(f"{server.url}/contacts")

    assert first.content == second.content == BODY
    assert server.connections == 2  # the closed connection was not reused


# -- 4. slow and silent servers -----------------------------------------------


async def test_a_slow_but_steady_body_is_not_cut_by_the_read_timeout() -> None:
    """The timeout bounds each read, not the whole answer: 0.3 s, for an answer
    whose bytes come 0.1 s apart for 1 s."""

    async def answer(exchange: Exchange) -> None:
        await send(exchange, head("200 OK", "content-length: 10"))
        for _ in range(10):
            await asyncio.sleep(0.1)
            await send(exchange, b"x")

    async with running(answer) as server, connector(settings(server.url, timeout=0.3)) as probe:
        started = time.monotonic()
        response = await probe.request("GET", "/contacts")
        elapsed = time.monotonic() - started

    assert response.content == b"x" * 10
    assert elapsed > 0.9


SILENT_MID_BODY = head("200 OK", "content-length: 10") + b"xx"


@pytest.mark.parametrize("before", [b"", SILENT_MID_BODY], ids=["before-answer", "mid-body"])
async def test_a_server_that_goes_silent_gives_provider_timeout(before: bytes) -> None:
    """Silent before the answer, or in the middle of its body: a timeout, not a
    connection that was never made."""
    release = asyncio.Event()

    async def answer(exchange: Exchange) -> None:
        await send(exchange, before)
        await release.wait()

    async with running(answer) as server, connector(settings(server.url, timeout=0.3)) as probe:
        started = time.monotonic()
        with pytest.raises(ProviderTimeout):
            await probe.request("GET", "/contacts")
        elapsed = time.monotonic() - started
        release.set()

    assert 0.25 < elapsed < 1.0
    assert len(server.requests) == 1


# -- 5. dropped connections ---------------------------------------------------


async def test_a_get_after_the_server_closed_the_idle_connection_succeeds() -> None:
    """Even at once, before the client has seen the close: a read that meets the dead
    connection is tried again by the connector (aiohttp's own resend is off)."""

    async def answer(exchange: Exchange) -> None:
        exchange.answer(exchange.target.encode())

    retried = settings("", retry=RetryPolicy(attempts=2, backoff=0.01))
    async with running(answer) as server, connector(replace(retried, base_url=server.url)) as probe:
        assert (await probe.request("GET", "/first")).content == b"/first"
        idle = server.requests[0].writer
        idle.close()
        await idle.wait_closed()
        second = await probe.request("GET", "/second")

    assert (second.status_code, second.content) == (200, b"/second")
    assert [exchange.target for exchange in server.requests] == ["/first", "/second"]
    assert server.connections == 2


async def test_a_post_after_the_server_closed_the_idle_connection_succeeds() -> None:
    """Once the client has seen the idle connection close (a moment later), a write
    goes out on a new connection rather than failing on the dead one."""

    async def answer(exchange: Exchange) -> None:
        exchange.answer(exchange.target.encode())

    async with running(answer) as server, connector(settings(server.url)) as probe:
        await probe.request("GET", "/first")
        idle = server.requests[0].writer
        idle.close()
        await idle.wait_closed()
        await asyncio.sleep(0.05)
        response = await probe.request("POST", "/contacts", json={"email": "a@b.c"})

    assert response.content == b"/contacts"
    assert server.connections == 2


@pytest.mark.parametrize("reused", [False, True], ids=["new-connection", "reused-connection"])
async def test_a_post_whose_connection_drops_before_the_answer_is_unavailable_and_sent_once(
    reused: bool,
) -> None:
    """The server read the request, so it may have acted: the outcome is unknown
    (never `NotConnected`, which would let a write be sent again), and neither
    aiohttp nor the connector sends it again (default retry policy)."""

    async def answer(exchange: Exchange) -> None:
        if exchange.method == "GET":
            exchange.answer()
        else:
            exchange.writer.close()

    retry = RetryPolicy(backoff=0.01)  # three tries, were the connector to retry
    async with running(answer) as server, connector(settings(server.url, retry=retry)) as probe:
        if reused:
            await probe.request("GET", "/warm-up")
        with pytest.raises(ProviderUnavailable) as caught:
            await probe.request("POST", "/contacts", json={"email": "a@b.c"})

    assert not isinstance(caught.value, NotConnected)
    assert [exchange.method for exchange in server.requests].count("POST") == 1


async def test_a_delete_whose_connection_drops_before_the_answer_is_sent_once() -> None:
    async def answer(exchange: Exchange) -> None:
        exchange.writer.close()

    async with running(answer) as server, connector(settings(server.url)) as probe:
        with pytest.raises(ProviderUnavailable):
            await probe.request("DELETE", "/contacts/c-1")

    assert len(server.requests) == 1


# -- 6. nothing listening -------------------------------------------------------


async def test_nothing_listening_is_not_connected() -> None:
    # A bound socket that does not listen: the port stays ours, connections are refused.
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        async with connector(settings(url)) as probe:
            with pytest.raises(NotConnected):
                await probe.request("POST", "/contacts", json={"email": "a@b.c"})


# -- 7. TLS with a private CA -----------------------------------------------------


@functools.cache
def authority() -> tuple[trustme.CA, ssl.SSLContext]:
    """A CA made for these tests, and a server context with a 127.0.0.1 certificate it signed."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return ca, context


@asynccontextmanager
async def running_tls(handler: Handler) -> AsyncIterator[tuple[Server, str]]:
    """`tests.rawhttp.running` over TLS: the server and its https URL."""
    server = Server(handler)
    listener = await asyncio.start_server(
        server.serve, "127.0.0.1", 0, ssl=authority()[1], ssl_handshake_timeout=1
    )
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server, f"https://127.0.0.1:{server.port}"
    finally:
        listener.close()


async def answer_ok(exchange: Exchange) -> None:
    exchange.answer(b"over tls")


async def test_tls_with_the_private_ca_as_ca_file_succeeds() -> None:
    with authority()[0].cert_pem.tempfile() as ca_file:
        async with (
            running_tls(answer_ok) as (server, url),
            connector(settings(url, ca_file=ca_file)) as probe,
        ):
            response = await probe.request("GET", "/contacts")
            again = await probe.request("GET", "/contacts")

    assert response.content == again.content == b"over tls"
    assert server.connections == 1


async def test_tls_with_the_default_cas_is_not_connected() -> None:
    """certifi's CAs do not know the private CA: the certificate is refused while
    connecting, before anything is sent."""
    async with running_tls(answer_ok) as (server, url), connector(settings(url)) as probe:
        with pytest.raises(NotConnected):
            await probe.request("POST", "/contacts", json={"email": "a@b.c"})

    assert server.requests == []


async def test_tls_without_verification_succeeds() -> None:
    async with running_tls(answer_ok) as (_, url), connector(settings(url, verify=False)) as probe:
        response = await probe.request("GET", "/contacts")

    assert response.content == b"over tls"


# -- 8. connection reuse and the concurrency bound --------------------------------


async def test_sequential_requests_reuse_one_connection() -> None:
    async def answer(exchange: Exchange) -> None:
        exchange.answer(exchange.target.encode())

    async with running(answer) as server, client(settings(server.url)) as http:
        bodies = [(await http.get(f"{server.url}/{n}")).content for n in range(5)]

    assert bodies == [f"/{n}".encode() for n in range(5)]
    assert server.connections == 1
    assert {exchange.headers["user-agent"] for exchange in server.requests} == {USER_AGENT}


async def test_at_most_concurrency_exchanges_are_in_flight() -> None:
    async def answer(exchange: Exchange) -> None:
        await asyncio.sleep(0.05)
        exchange.answer(exchange.target.encode())

    async with running(answer) as server, client(settings(server.url, concurrency=2)) as http:
        responses = await asyncio.gather(*(http.get(f"{server.url}/{n}") for n in range(6)))

    assert [response.content for response in responses] == [f"/{n}".encode() for n in range(6)]
    assert server.peak == 2
    assert server.connections == 2


# -- 9. cookies --------------------------------------------------------------------


async def test_a_cookie_the_provider_sets_is_never_sent_back() -> None:
    """Provider APIs are not cookie sessions: a PHP session cookie sent back would put
    the gateway's calls in one server-side session, taken one at a time. The server
    is reached by name (`localhost`): a cookie jar keeps cookies of names, not of
    IP addresses."""

    async def answer(exchange: Exchange) -> None:
        exchange.answer(
            exchange.headers.get("cookie", "none").encode(),
            headers="Set-Cookie: PHPSESSID=abc123; Path=/\r\n",
        )

    async with running(answer) as server:
        by_name = server.url.replace("127.0.0.1", "localhost")
        async with connector(settings(by_name)) as probe:
            first = await probe.request("GET", "/contacts")
            second = await probe.request("GET", "/contacts")

    assert (first.content, second.content) == (b"none", b"none")
    assert "cookie" not in server.requests[1].headers


# -- the same on uvloop (what uvicorn runs the gateway on) --------------------------

Case = Callable[[], Coroutine[Any, Any, None]]

ON_UVLOOP: dict[str, Case] = {
    "100+103": functools.partial(
        test_an_interim_answer_is_skipped_and_the_next_request_gets_its_own,
        [CONTINUE, EARLY_HINTS],
        False,
    ),
    "100+103+final-in-one-write": functools.partial(
        test_an_interim_answer_is_skipped_and_the_next_request_gets_its_own,
        [CONTINUE, EARLY_HINTS],
        True,
    ),
    "chunked": test_a_chunked_body_arrives_whole,
    "gzip": functools.partial(test_a_gzip_body_arrives_decoded, "content-length"),
    "gzip-chunked": functools.partial(test_a_gzip_body_arrives_decoded, "chunked"),
    "bad-gzip": test_a_body_its_content_encoding_does_not_decode_is_a_provider_error,
    "close-delimited": test_a_body_ended_by_the_server_closing_arrives_whole,
    "slow-body": test_a_slow_but_steady_body_is_not_cut_by_the_read_timeout,
    "silent": functools.partial(test_a_server_that_goes_silent_gives_provider_timeout, b""),
    "silent-mid-body": functools.partial(
        test_a_server_that_goes_silent_gives_provider_timeout, SILENT_MID_BODY
    ),
    "idle-close-get": test_a_get_after_the_server_closed_the_idle_connection_succeeds,
    "idle-close-post": test_a_post_after_the_server_closed_the_idle_connection_succeeds,
    "dropped-post": functools.partial(
        test_a_post_whose_connection_drops_before_the_answer_is_unavailable_and_sent_once, True
    ),
    "refused": test_nothing_listening_is_not_connected,
    "tls-ca-file": test_tls_with_the_private_ca_as_ca_file_succeeds,
    "tls-default-cas": test_tls_with_the_default_cas_is_not_connected,
    "tls-no-verify": test_tls_without_verification_succeeds,
    "reuse": test_sequential_requests_reuse_one_connection,
    "concurrency": test_at_most_concurrency_exchanges_are_in_flight,
    "cookies": test_a_cookie_the_provider_sets_is_never_sent_back,
}


@pytest.mark.parametrize("case", ON_UVLOOP.values(), ids=ON_UVLOOP.keys())
def test_on_uvloop(case: Case) -> None:
    uvloop.run(case())


def test_the_client_still_keeps_its_transport_where_connectors_send_through_it() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    client = httpx.AsyncClient(transport=transport)
    assert getattr(client, "_transport", None) is transport, (
        "httpx.AsyncClient no longer keeps its transport as `_transport`: "
        "connectors.http.sender sends provider requests through it"
    )
