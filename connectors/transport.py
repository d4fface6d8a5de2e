"""`PooledTransport`: a lean HTTP/1.1 keep-alive transport for the provider clients.

httpx's default transport (httpcore over anyio and h11) spends about 1 ms of CPU
per request on this kind of machine, most of it outside the network: pool
bookkeeping that walks every connection, anyio wrappers, h11's pure-Python
parsing. A gateway makes thousands of small provider calls (Lunar Send has no
many-key read), so that cost is most of its own CPU time.

This transport keeps the httpx interface (`httpx.Request` in, `httpx.Response`
out, httpx's exceptions) and does the exchange on an asyncio protocol with
httptools' C parser (the one uvicorn uses): about a quarter of the CPU per call.

Behaviour:
- One pool of idle connections per origin, reused newest first; a connection
  the server closed is dropped as soon as the event loop sees it close, and one
  idle for longer than `keepalive_expiry` is closed before it would be reused.
- At most `max_connections` exchanges at once; a caller waits for a slot up to
  the request's `pool` timeout (`httpx.PoolTimeout`).
- `connect` and `read` timeouts from the request's `timeout` extension raise
  `httpx.ConnectTimeout` / `httpx.ReadTimeout`; a refused or unreachable host
  raises `httpx.ConnectError`; a server that hangs up mid-answer raises
  `httpx.RemoteProtocolError` (nothing received) or `httpx.ReadError`.
- A GET, HEAD or OPTIONS sent on a reused connection that the server closed
  before answering (it timed the connection out as the request left) is sent
  once more on a new connection, as browsers do. Other methods are not: the
  server may have acted.
- `https` origins use TLS with httpx's default certificate checks.
- Request bodies are sent whole; responses are read whole (the connectors
  read every body). No proxies, no HTTP/2: `gateway.app` uses httpx's default
  transport when proxy variables are set.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from typing import cast

import httptools
import httpx

Origin = tuple[bytes, str, int]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {b"http": 80, b"https": 443}


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one exchange at a time, answers parsed by httptools."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.used = 0
        self.idle_since = 0.0
        self._reset(None, head=False)

    def _reset(self, waiter: asyncio.Future[None] | None, *, head: bool) -> None:
        self.waiter = waiter
        self.head = head
        self.received = False
        self.headers_done = False
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.keep_alive = False

    # -- asyncio.Protocol -----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but they are ones.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed response: {exc}"))

    def eof_received(self) -> bool:
        if self.headers_done and not self._framed():
            # A body with neither a length nor chunks ends with the connection.
            self.keep_alive = False
            self._done()
        return False

    def _framed(self) -> bool:
        return any(
            name.lower() in (b"content-length", b"transfer-encoding") for name, _ in self.headers
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.received:
            self._fail(httpx.ReadError("the server closed the connection mid-answer"))
        else:
            self._fail(httpx.RemoteProtocolError("Server disconnected without sending a response."))

    # -- httptools callbacks --------------------------------------------------

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True
        if self.head:
            # A HEAD answer has no body whatever its headers say; the parser cannot
            # be told, so this connection ends with it.
            self.keep_alive = False
            self._done()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        self._done()

    # -- the exchange ---------------------------------------------------------

    def _done(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    async def exchange(
        self, head: bytes, body: bytes, *, is_head: bool, read: float | None
    ) -> None:
        """Send one request and wait for the whole answer."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._reset(waiter, head=is_head)
        self.used += 1
        self.transport.write(head + body)
        timer = None
        if read is not None:
            timer = loop.call_later(read, self._timed_out)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self.waiter = None

    def _timed_out(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(httpx.ReadTimeout("no answer within the read timeout"))
        self.abort()


class PooledTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive connections on asyncio and httptools.

    Args:
        max_connections: exchanges in flight at once (and connections kept).
        keepalive_expiry: seconds an idle connection is kept for reuse.
        ssl_context: for `https` origins; default httpx's (system CAs via certifi).
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._active: set[_Connection] = set()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.raw_scheme
        if scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        origin: Origin = (scheme, url.host, url.port or DEFAULT_PORTS[scheme])
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        head = _head(request)
        is_head = request.method == "HEAD"

        await self._acquire_slot(timeouts.get("pool"))
        try:
            for attempt in (1, 2):
                conn = self._idle_connection(origin)
                reused = conn is not None
                if conn is None:
                    conn = await self._connect(origin, timeouts.get("connect"))
                self._active.add(conn)
                try:
                    await conn.exchange(head, body, is_head=is_head, read=timeouts.get("read"))
                except httpx.RemoteProtocolError:
                    stale = reused and not conn.received and request.method in IDEMPOTENT
                    if stale and attempt == 1:
                        continue
                    raise
                except BaseException:
                    # Cancelled or failed mid-exchange: the connection's state is unknown.
                    conn.abort()
                    raise
                finally:
                    self._active.discard(conn)
                response = httpx.Response(
                    conn.status,
                    headers=conn.headers,
                    stream=httpx.ByteStream(b"".join(conn.body)),
                    request=request,
                    extensions={"http_version": b"HTTP/1.1", "reason_phrase": conn.reason},
                )
                self._release(origin, conn)
                return response
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            self._slots.release()

    async def _acquire_slot(self, wait: float | None) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), wait)
        except TimeoutError:
            raise httpx.PoolTimeout("no connection slot free within the pool timeout") from None

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        oldest_allowed = time.monotonic() - self._keepalive_expiry
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.idle_since >= oldest_allowed:
                return conn
            conn.close()
        return None

    async def _connect(self, origin: Origin, limit: float | None) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = None
        if scheme == b"https":
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            context = self._ssl_context
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    _Connection, host, port, ssl=context, server_hostname=host if context else None
                ),
                limit,
            )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {host}:{port} within {limit}s") from None
        except OSError as exc:
            raise httpx.ConnectError(
                f"cannot connect to {host}:{port}: {exc.strerror or exc}"
            ) from exc
        return conn

    def _release(self, origin: Origin, conn: _Connection) -> None:
        if self._closed or conn.closed or not conn.keep_alive:
            conn.close()
            return
        idle = self._idle.setdefault(origin, deque())
        if len(idle) >= self._max_idle:
            idle.popleft().close()
        conn.idle_since = time.monotonic()
        idle.append(conn)

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        for conn in list(self._active):
            conn.abort()
        self._active.clear()


def _head(request: httpx.Request) -> bytes:
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)
