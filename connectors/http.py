"""The provider clients' HTTP stack: httpx over aiohttp (`httpx-aiohttp`), built here only.

Every provider gets its own `httpx.AsyncClient` with settings from its section
(`ConnectorSettings`): connection limit from `concurrency`, the timeout (to
connect, and for each read of an answer), TLS verification and CA file, and an
optional proxy. Proxy environment variables are never read (`trust_env=False`):
what a provider is reached through is in its settings, nowhere else.

`failure` turns a transport error into the gateway's error tree, telling a
request that never left (a connection that could not be made: safe to send
again, even a write) from one whose outcome is unknown (the connection was lost
after the request was sent). httpx-aiohttp maps aiohttp's exceptions to httpx's
coarsely (a dropped connection becomes `ConnectTimeout`), so the aiohttp
exception it chains as `__cause__` is asked first. A body its Content-Encoding
does not decode (httpx's `DecodingError`, not a transport error) is an answer the
connector cannot use.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import aiohttp
import certifi
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions

from connectors.errors import (
    ConnectorError,
    NotConnected,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from connectors.settings import ConnectorSettings
from gateway.domain.records import Provider
from gateway.telemetry import tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

# What a failed exchange raises: httpx's errors (a transport's, and the one for a
# body that does not decode), and what httpx-aiohttp lets through unmapped (an
# aiohttp error outside its map, a bare timeout).
TRANSPORT_ERRORS = (httpx.TransportError, httpx.DecodingError, aiohttp.ClientError, TimeoutError)

# Seconds an idle provider connection is kept for reuse.
KEEPALIVE_EXPIRY = 30.0


def ssl_context(settings: ConnectorSettings) -> ssl.SSLContext:
    """The TLS context for a provider: its `ca_file` (or certifi's CAs), unless `verify` is off."""
    context = ssl.create_default_context(cafile=settings.ca_file or certifi.where())
    if not settings.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _session(settings: ConnectorSettings) -> aiohttp.ClientSession:
    """The aiohttp session behind one provider's client (made on first use, in the loop)."""
    connector = aiohttp.TCPConnector(
        limit=settings.concurrency, keepalive_timeout=KEEPALIVE_EXPIRY, ssl=ssl_context(settings)
    )
    session = aiohttp.ClientSession(connector=connector, trust_env=False)
    # aiohttp sends a GET, PUT or DELETE once more, unasked, when the connection drops
    # before the answer: a DELETE the provider acted on would arrive twice. What is sent
    # again is the connectors' decision (HTTPConnector.request), so this private switch
    # is off; tests/connectors/test_http.py fails if it stops working.
    session._retry_connection = False
    return session


class WholeAnswers(AiohttpTransport):
    """httpx-aiohttp's transport, answering with the body already read.

    The connectors read every answer whole. The stock transport hands httpx a
    stream that httpx then reads chunk by chunk through async generators and
    its decoders: about 45 us of a provider call's ~140 us of CPU. Here aiohttp
    reads the body in one call and httpx gets it as the response's content (its
    Content-Encoding still decoded by httpx, as before). The session, the
    request and the mapping of aiohttp's exceptions are the library's own.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        with map_aiohttp_exceptions():
            content = request.content
            async with self.client.request(
                method=request.method,
                url=str(request.url),
                headers=request.headers,
                data=content or None,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),
                ),
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=str(self.proxy.url) if self.proxy else None,
                proxy_auth=aiohttp.BasicAuth(*self.proxy.auth)
                if self.proxy and self.proxy.auth
                else None,
                proxy_headers=self.proxy.headers if self.proxy else None,
            ) as answer:
                body = await answer.read()
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode()
        return httpx.Response(
            status_code=answer.status,
            headers=answer.raw_headers,
            content=body,
            request=request,
            extensions=extensions,
        )


def build_client(
    settings: ConnectorSettings,
    *,
    user_agent: str,
    transport: httpx.AsyncBaseTransport | None = None,
    tracer_provider: TracerProvider | None = None,
    provider: str = "provider",
) -> httpx.AsyncClient:
    """The keep-alive client one provider's connector talks through.

    Args:
        settings: the provider's settings.
        user_agent: sent with every request.
        transport: instead of aiohttp's; tests pass `httpx.ASGITransport` to reach
            an in-process sandbox.
        tracer_provider: with traces on, each call is a span (and sends `traceparent`).
        provider: the provider's key, to name the spans.
    """
    if transport is None:
        transport = WholeAnswers(
            client=partial(_session, settings),
            proxy=httpx.Proxy(settings.proxy.get()) if settings.proxy is not None else None,
        )
    if tracer_provider is not None:
        from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport

        transport = AsyncOpenTelemetryTransport(
            transport,
            tracer_provider=tracer_provider,
            request_hook=tracing.provider_call_hook(provider),
        )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(settings.timeout),
        headers={"User-Agent": user_agent},
        trust_env=False,
    )


Send = Callable[[httpx.Request], Awaitable[httpx.Response]]


def sender(client: httpx.AsyncClient) -> Send:
    """How a connector sends a request it built whole: straight to the client's transport,
    its answer read whole.

    `AsyncClient.send` would add, per call, a cookie jar round (about 20 us: provider
    APIs are not cookie sessions, and a PHP session cookie sent back would only
    serialize calls), redirect and auth handling the connectors never ask for, and
    event hooks: together about a third of a provider call's CPU. The transport is
    the client's own (`AsyncClient._transport`, which httpx keeps private), so its
    lifecycle stays the client's; `tests/connectors/test_http.py` fails if it moves.
    """
    transport: httpx.AsyncBaseTransport = client._transport

    async def send(request: httpx.Request) -> httpx.Response:
        response = await transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    return send


def failure(exc: BaseException, provider: Provider, timeout: float) -> ConnectorError:
    """The connector error for a failed exchange (`timeout`: the seconds it was given)."""
    if isinstance(exc, httpx.DecodingError):
        return ProviderError(
            "answered with a body its Content-Encoding does not decode", provider=provider
        )
    cause = exc if isinstance(exc, aiohttp.ClientError) else exc.__cause__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return NotConnected(f"no connection within {timeout:g}s", provider=provider)
    if isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ClientProxyConnectionError):
        return NotConnected("cannot connect", provider=provider)
    if isinstance(cause, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return ProviderTimeout(f"no answer within {timeout:g}s", provider=provider)
    if isinstance(cause, aiohttp.ClientError):
        return ProviderUnavailable(f"connection failed ({type(cause).__name__})", provider=provider)
    # httpx's own transports (tests use ASGI and mock transports).
    if isinstance(exc, httpx.ConnectTimeout):
        return NotConnected(f"no connection within {timeout:g}s", provider=provider)
    if isinstance(exc, httpx.ConnectError):
        return NotConnected("cannot connect", provider=provider)
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return ProviderTimeout(f"no answer within {timeout:g}s", provider=provider)
    return ProviderUnavailable(f"connection failed ({type(exc).__name__})", provider=provider)
