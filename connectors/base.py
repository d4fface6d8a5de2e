"""`HTTPConnector`: the machinery every connector shares.

Subclasses set `provider`, say how to authenticate (`auth_headers`) and how to
read an error message from a response (`error_message`), and implement the
protocols of `connectors.protocol` their provider has an API for (nothing
else: a method a provider cannot serve does not exist). Everything else
(timeouts, retries with backoff and jitter, `Retry-After`, the time budget,
the concurrency bound, client-side pacing, classification of responses into
the error tree) lives here, once.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import urlencode

import httpx
import orjson

from connectors import http, metrics
from connectors.errors import (
    AuthError,
    BadInput,
    ConnectorError,
    NotConnected,
    NotFound,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    RetriableError,
)
from connectors.settings import ConnectorSettings, RateLimit
from gateway.domain.records import (
    ContactWrite,
    Health,
    Provider,
    WriteResult,
    WriteStatus,
)

JSON = Any
S = TypeVar("S", bound=ConnectorSettings)
Params = Mapping[str, Any] | list[tuple[str, Any]] | None


class Pacer:
    """Spaces request starts evenly so a client-side rate limit is never exceeded.

    Starts are spaced a little wider than the limit allows (`MARGIN`): a request
    delayed on its way can otherwise land in the same provider window as the next.
    """

    MARGIN = 1.05

    def __init__(self, limit: RateLimit) -> None:
        self._interval = limit.interval * self.MARGIN
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def query_string(params: Mapping[str, Any] | list[tuple[str, Any]]) -> str:
    """`params` URL-encoded, primitives spelled as httpx spells them (true, false, "")."""
    items = params.items() if isinstance(params, Mapping) else params
    return urlencode([(key, _primitive(value)) for key, value in items])


def _primitive(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def basic_auth(username: str, password: str) -> dict[str, str]:
    """The `Authorization` header of HTTP Basic auth, as `httpx.BasicAuth` sends it."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def with_field_errors(message: str, errors: Any) -> str:
    """`message` followed by per-field validation errors (`{field: text or [texts]}`),
    leaving out any text the message already holds."""
    if not isinstance(errors, Mapping) or not errors:
        return message
    parts = []
    for name, problems in errors.items():
        texts = problems if isinstance(problems, list) else [problems]
        parts += [f"{name}: {text}" for text in texts if str(text) not in message]
    return f"{message} ({'; '.join(parts)})" if parts else message


class HTTPConnector(Generic[S]):
    """Base class for connectors that speak a JSON REST API over httpx.

    Args:
        client: the shared `httpx.AsyncClient` (injected, never built here).
        settings: base URL, credentials, timeouts and limits.
    """

    provider: ClassVar[Provider]

    def __init__(self, client: httpx.AsyncClient, settings: S) -> None:
        self.client = client
        self._send = http.sender(client)
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._pacer = Pacer(settings.rate_limit) if settings.rate_limit else None
        # Every request carries the same headers: built once, not per call.
        self._headers = httpx.Headers([*client.headers.multi_items(), *self.auth_headers().items()])
        self._json_headers = httpx.Headers(
            [*self._headers.multi_items(), ("Content-Type", "application/json")]
        )

    # -- overridable pieces -------------------------------------------------

    def auth_headers(self) -> Mapping[str, str]:
        """The headers that authenticate every request; read once, from `settings`."""
        return {}

    def error_message(self, response: httpx.Response) -> str:
        """The provider's own words for a failed response, without secrets."""
        try:
            body = response.json()
        except ValueError:
            return response.text[:200] or response.reason_phrase
        if isinstance(body, dict):
            for key in ("message", "error"):
                if isinstance(body.get(key), str):
                    return str(body[key])
        return response.reason_phrase

    def validate_response(self, response: httpx.Response) -> None:
        """Raise the error that matches a failed response; return on success."""
        status = response.status_code
        if status < 400:
            return
        message = self.error_message(response)
        kwargs: dict[str, Any] = {"provider": self.provider, "status": status}
        if status == 429:
            raise RateLimited(
                message,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        if status >= 500:
            raise ProviderUnavailable(message, **kwargs)
        if status in (401, 403):
            raise AuthError(message, **kwargs)
        if status == 404:
            raise NotFound(message, **kwargs)
        if status in (400, 409, 422):
            raise BadInput(message, **kwargs)
        raise ProviderError(message, **kwargs)

    # -- HTTP -----------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: JSON = None,
        retry: bool | None = None,
    ) -> httpx.Response:
        """Send one request, retrying reads (and refused writes) inside the budget.

        Reads (`retry` defaults to True for GET) are retried on timeouts,
        connection errors, 429 and 5xx. Writes are retried only where the
        provider cannot have acted: a connection never made, or a 429. No try
        runs past the retry budget: the last one's timeout is cut to what is left.
        """
        if retry is None:
            retry = method == "GET"
        policy = self.settings.retry
        # A call keeps its concurrency slot while it backs off, so a retry is not
        # sent to the back of a queue of thousands (a bulk job); and its budget
        # starts once it holds the slot, not while it waits for one.
        async with self._semaphore:
            deadline = time.monotonic() + policy.budget
            attempt = 0
            while True:
                attempt += 1
                try:
                    return await self._send_once(
                        method, path, params=params, json=json, deadline=deadline
                    )
                except RetriableError as exc:
                    refused = isinstance(exc, RateLimited)
                    if not (retry or refused or isinstance(exc, NotConnected)):
                        raise
                    # A 429 is the provider saying "not yet", not a failure: it is tried
                    # again for as long as the budget lasts, not a fixed number of times.
                    if attempt >= policy.attempts and not refused:
                        raise
                    if isinstance(exc, RateLimited) and exc.retry_after is not None:
                        pause = exc.retry_after
                    else:
                        pause = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
                        pause *= random.uniform(0.5, 1.0)
                    if time.monotonic() + pause >= deadline:
                        raise
                    await asyncio.sleep(pause)

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Params,
        json: JSON,
        deadline: float | None = None,
    ) -> httpx.Response:
        """One HTTP exchange, classified; the caller holds a concurrency slot."""
        url = self.base_url + path
        if self._pacer is not None:
            await self._pacer.wait()
        timeout = self.settings.timeout
        if deadline is not None:
            # No try runs past the budget: the last one's timeout is cut to what is left.
            timeout = max(min(timeout, deadline - time.monotonic()), 0.001)
        metrics.count_call(self.provider)
        try:
            response = await self._send(self._build_request(method, url, params, json, timeout))
        except http.TRANSPORT_ERRORS as exc:
            raise http.failure(exc, self.provider, timeout) from exc
        self.validate_response(response)
        return response

    def _build_request(
        self, method: str, url: str, params: Params, json: JSON, timeout: float
    ) -> httpx.Request:
        """The request `client.request` would build, for a fraction of its CPU.

        The client's URL merging parses each URL three times and is the largest
        part of a call's cost; here the URL is parsed once. The client's own
        headers (User-Agent and httpx's defaults, as they were when the connector
        was built) come first, as `build_request` would put them.
        """
        if params:
            url += ("&" if "?" in url else "?") + query_string(params)
        headers, content = self._headers, None
        if json is not None:
            headers, content = self._json_headers, orjson.dumps(json)
        # `httpx.Timeout(timeout).as_dict()`, without building a Timeout per call.
        timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        return httpx.Request(
            method, url, headers=headers, content=content, extensions={"timeout": timeouts}
        )

    async def get_json(self, path: str, *, params: Params = None) -> JSON:
        response = await self.request("GET", path, params=params)
        return self.decode(response)

    def decode(self, response: httpx.Response) -> JSON:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise ProviderError(
                "answered with a body that is not JSON",
                provider=self.provider,
                status=response.status_code,
            ) from exc

    # -- results --------------------------------------------------------------

    def skipped(self, reason: str, *, dropped: Sequence[str] = ()) -> WriteResult:
        return WriteResult(
            self.provider, WriteStatus.SKIPPED, message=reason, dropped_fields=tuple(dropped)
        )

    def failed(self, error: ConnectorError | str, *, dropped: Sequence[str] = ()) -> WriteResult:
        message = error.message if isinstance(error, ConnectorError) else error
        return WriteResult(
            self.provider, WriteStatus.FAILED, message=message, dropped_fields=tuple(dropped)
        )

    def unwritable(self, contact: ContactWrite) -> list[str]:
        """The fields `contact` gives that the provider has nowhere to store
        (a `Writer`'s `writable_fields`)."""
        writable: frozenset[str] = getattr(self, "writable_fields", frozenset())
        return [name for name in contact.given() if name not in writable]

    async def timed_health(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Params = None,
        json: JSON = None,
        healthy: tuple[type[ConnectorError], ...] = (),
    ) -> Health:
        """Health from one request, not retried: ok when the provider answers and
        accepts our credentials. `healthy` lists errors that prove both (an empty
        write refused as bad input)."""
        started = time.monotonic()
        try:
            async with self._semaphore:
                await self._send_once(method, path, params=params, json=json)
        except healthy:
            pass
        except ConnectorError as exc:
            return Health(self.provider, ok=False, message=exc.message)
        return Health(self.provider, ok=True, latency_ms=(time.monotonic() - started) * 1000)


class _Upserts(Protocol):
    async def upsert(self, contact: ContactWrite) -> WriteResult: ...


class OneByOneWrites:
    """`upsert_many` for a provider without a batch endpoint: one `upsert` per
    contact, at once, within the connector's concurrency bound."""

    async def upsert_many(self: _Upserts, contacts: Sequence[ContactWrite]) -> list[WriteResult]:
        return list(await asyncio.gather(*(self.upsert(c) for c in contacts)))
