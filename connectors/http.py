"""The provider clients' HTTP stack: httpx over aiohttp (`httpx-aiohttp`), built here only.

Every provider gets its own `httpx.AsyncClient` with settings from its section
(`ConnectorSettings`): connection limit from `concurrency`, the timeout (to
connect, and for each read of an answer), TLS verification and CA file, and an
optional proxy. Proxy environment variables are never read (`trust_env=False`):
what a provider is reached through is in its settings, nowhere else.

A connector sends through `sender`: with the client's own transport
(`WholeAnswers`) straight to its aiohttp session, with any other transport (the
tests' ASGI and mock transports, traces' instrumented one) as an `httpx.Request`.
Either way the answer is read whole and has the same interface (`ProviderAnswer`).

`failure` turns a transport error into the gateway's error tree, telling a
request that never left (a connection that could not be made: safe to send
again, even a write) from one whose outcome is unknown (the connection was lost
after the request was sent). httpx-aiohttp maps aiohttp's exceptions to httpx's
coarsely (a dropped connection becomes `ConnectTimeout`), so the aiohttp
exception it chains as `__cause__` is asked first. A body its Content-Encoding
does not decode is an answer the connector cannot use.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import certifi
import httpx
import multidict
import orjson
import yarl
from aiohttp.http_exceptions import ContentEncodingError
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode, Tracer

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
    # Provider APIs are not cookie sessions: a cookie one sets (PHP's session id) is never
    # sent back, which would put every call in one server-side session, one at a time.
    session = aiohttp.ClientSession(
        connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
    )
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

    The connectors themselves send through `direct`, which skips httpx's request
    and response objects too; this method serves whoever holds the client.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        with map_aiohttp_exceptions():
            answer, body = await self._exchange(
                request.method,
                str(request.url),
                request.headers,
                request.content or None,
                aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),
                ),
                decompress=False,
                server_hostname=request.extensions.get("sni_hostname"),
            )
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

    async def _exchange(
        self,
        method: str,
        url: str | yarl.URL,
        headers: Any,
        data: bytes | None,
        limits: aiohttp.ClientTimeout,
        *,
        decompress: bool,
        server_hostname: str | None = None,
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        """One request on the session (made on first use), its answer read whole: what
        both ways through this transport share (`handle_async_request`, `direct`)."""
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        proxy = self.proxy
        async with self.client.request(
            method,
            url,
            headers=headers,
            data=data,
            allow_redirects=False,
            auto_decompress=decompress,
            compress=False,
            timeout=limits,
            server_hostname=server_hostname,
            proxy=str(proxy.url) if proxy else None,
            proxy_auth=aiohttp.BasicAuth(*proxy.auth) if proxy and proxy.auth else None,
            proxy_headers=proxy.headers if proxy else None,
        ) as answer:
            body = await answer.read()
        return answer, body

    # Set by `build_client` when traces are on: each call sent through `direct` is a span.
    tracer: Tracer | None = None
    provider: str = "provider"

    def direct(self, base: httpx.URL, headers: httpx.Headers, json_headers: httpx.Headers) -> Send:
        """Requests sent straight to the session (`sender`), answered as `Answer`s.

        aiohttp decodes the Content-Encoding itself here; a body it cannot decode
        is a `ClientPayloadError`, which `failure` tells from a lost connection.
        With traces on, each call is a client span (as the httpx instrumentation
        makes them, named by `tracing.provider_call_hook`'s rule) and sends
        `traceparent` on.
        """
        plain = multidict.CIMultiDict(headers.multi_items())
        with_body = multidict.CIMultiDict(json_headers.multi_items())

        async def send(
            method: str,
            path: str,
            query: str | None,
            content: bytes | None,
            seconds: float,
            total: float | None,
            headers: multidict.CIMultiDict[str] | None = None,
        ) -> Answer:
            answer, body = await self._exchange(
                method,
                aiohttp_url(base, path, query),
                headers if headers is not None else plain if content is None else with_body,
                content,
                aiohttp.ClientTimeout(
                    total=total, sock_connect=seconds, sock_read=seconds, connect=seconds
                ),
                decompress=True,
            )
            return Answer(answer.status, answer.headers, body, answer.reason or "")

        tracer = self.tracer
        if tracer is None:
            return send
        named = tracing.provider_call_name(self.provider)

        async def traced(
            method: str,
            path: str,
            query: str | None,
            content: bytes | None,
            seconds: float,
            total: float | None,
        ) -> Answer:
            url = provider_url(base, path, query)
            with tracer.start_as_current_span(named(method, url), kind=SpanKind.CLIENT) as span:
                if span.is_recording():
                    tracing.describe_provider_call(span, self.provider, method, url)
                carried = multidict.CIMultiDict(plain if content is None else with_body)
                propagate.inject(carried)
                answer = await send(method, path, query, content, seconds, total, carried)
                if span.is_recording():
                    span.set_attribute("http.response.status_code", answer.status_code)
                    if answer.status_code >= 400:
                        span.set_status(StatusCode.ERROR)
                return answer

        return traced


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
            transport.tracer = tracer_provider.get_tracer(__name__)
            transport.provider = provider
    elif tracer_provider is not None:
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


class ProviderAnswer(Protocol):
    """What a provider answered, read whole: an `httpx.Response` or an `Answer`."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def reason_phrase(self) -> str: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...


@dataclass(slots=True)
class Answer:
    """An answer aiohttp read whole, with the part of `httpx.Response`'s interface the
    connectors use (`headers` is aiohttp's, case-insensitive as httpx's is)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    reason_phrase: str

    def json(self) -> Any:
        return orjson.loads(self.content)

    @property
    def text(self) -> str:
        # As httpx decodes it: the Content-Type's charset, else UTF-8, never failing.
        charset = "utf-8"
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"' ")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


# One exchange: method, path (under the provider's base URL), encoded query or None,
# JSON body or None, the seconds each step of it may take (to connect, between reads),
# and the seconds it may take in all (the operation's deadline) or None.
Send = Callable[
    [str, str, str | None, bytes | None, float, float | None], Awaitable[ProviderAnswer]
]

# A path whose characters httpx would leave as they are (no percent-encoding to add).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~-]*")


def provider_url(base: httpx.URL, path: str, query: str | None) -> httpx.URL:
    """`base` + `path` + `?query` (an `urlencode`d query), as `httpx.URL` would parse it.

    Parsing a URL is about 30 us of httpx's pure-Python parser, three times per
    lookup; a plain path and an encoded query need none of its normalizing, so the
    URL is made from the base's parsed parts (`tests/connectors/test_base.py` checks
    that it equals the parsed one). Anything else is parsed.
    """
    if not _PLAIN_PATH.fullmatch(path) or "?" in path:
        joined = str(base) + path
        if query:
            joined += ("&" if "?" in joined else "?") + query
        return httpx.URL(joined)
    parts = base._uri_reference
    url = httpx.URL.__new__(httpx.URL)
    url._uri_reference = parts._replace(path=parts.path + path, query=query or None)
    return url


def aiohttp_url(base: httpx.URL, path: str, query: str | None) -> yarl.URL:
    """The same URL as `provider_url`, as aiohttp takes it: already encoded, so yarl
    neither parses nor re-quotes it (`tests/connectors/test_base.py` compares them)."""
    if _PLAIN_PATH.fullmatch(path):
        joined = str(base) + path
        if query:
            joined += "?" + query
        return yarl.URL(joined, encoded=True)
    return yarl.URL(str(provider_url(base, path, query)), encoded=True)


def sender(
    client: httpx.AsyncClient, base_url: str, headers: httpx.Headers, json_headers: httpx.Headers
) -> Send:
    """How a connector sends a request: `headers` with it, `json_headers` with a body; no
    exchange runs past its `total` seconds, whatever the transport does.

    Through the gateway's own transport (`WholeAnswers`, the production case) the
    request goes straight to its aiohttp session and comes back as an `Answer`: no
    `httpx.Request` or `httpx.Response` is built, which was about half of a provider
    call's CPU in the client. Any other transport (the tests' ASGI and mock
    transports, traces' instrumented one) gets an `httpx.Request` as
    `AsyncClient.build_request` would make it, and its answer is read whole.

    `AsyncClient.send` is never used: it would add, per call, a cookie jar round
    (provider APIs are not cookie sessions, and a PHP session cookie sent back would
    only serialize calls), redirect and auth handling the connectors never ask for,
    and event hooks. The transport is the client's own (`AsyncClient._transport`,
    which httpx keeps private), so its lifecycle stays the client's;
    `tests/connectors/test_http.py` fails if it moves.
    """
    transport: httpx.AsyncBaseTransport = client._transport
    base = httpx.URL(base_url)
    if type(transport) is WholeAnswers:
        return transport.direct(base, headers, json_headers)

    async def send(
        method: str,
        path: str,
        query: str | None,
        content: bytes | None,
        seconds: float,
        total: float | None,
    ) -> httpx.Response:
        # `httpx.Timeout(timeout).as_dict()`, without building a Timeout per call.
        timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
        request = httpx.Request(
            method,
            provider_url(base, path, query),
            headers=headers if content is None else json_headers,
            content=content,
            extensions={"timeout": timeouts},
        )
        # A transport given to the app may ignore its timeouts: the deadline holds anyway.
        async with asyncio.timeout(total):
            response = await transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    return send


def failure(exc: BaseException, provider: Provider, timeout: float) -> ConnectorError:
    """The connector error for a failed exchange (`timeout`: the seconds it was given)."""
    cause = exc if isinstance(exc, aiohttp.ClientError) else exc.__cause__
    if isinstance(exc, httpx.DecodingError) or (
        isinstance(cause, aiohttp.ClientPayloadError)
        and isinstance(cause.__cause__, ContentEncodingError)
    ):
        return ProviderError(
            "answered with a body its Content-Encoding does not decode", provider=provider
        )
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
