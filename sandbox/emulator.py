"""`Emulator`: what every provider emulator shares.

One Starlette app per provider, mounted under `/<key>`. Every endpoint is
registered through `Emulator.route`, which counts the request in the stats
(by method and path template), applies the test controls (latency, outage,
error rate, rate limit), checks the credentials, and turns `ProviderError`
and malformed bodies into the provider's documented error shape. Handlers are
synchronous over the in-memory store, so a request's writes are never
interleaved with another's.

Shared by the emulators: `json_body` (a request body, or a 400 that keeps out
anything that could not be sent back), `authorization` / `basic_credentials` /
`same_secret` for credentials, `whole_number` for ids and counts in paths and
query strings, and `iso_millis` for `2020-10-22T14:55:52.638Z` timestamps.

Test and benchmark controls, per provider (no auth, sandbox only):
    GET  /<key>/_sandbox/records   what the emulator stores
    GET  /<key>/_sandbox/stats     {"total": N, "requests": {"GET /api/contacts": N}}
    POST /<key>/_sandbox/reset     zero the stats
    GET|POST /<key>/_sandbox/controls
         {"latency_ms", "error_rate", "outage", "rate_limit": {"requests", "per_seconds"} | null,
          "echo_credentials", "hold_write_answers_ms"}

`hold_write_answers_ms` (default 0) plays a provider whose answers get lost: a
request that changes something (any method but GET) is carried out and stored,
then its answer is held back that long, so a client with a shorter timeout
never hears that the write landed.

`echo_credentials` (true or false, default false) plays a careless provider:
every error answer in the provider's error shape (an outage, an `error_rate`
fault, a 429, a 4xx for a bad body, path or value) has its message followed by
the credentials the request carried: the `Authorization` and `x-api-key`
header values, and a Basic header's decoded `user:password`. It lets tests
prove that a client never shows such words to its users. A 401 keeps its fixed
body, as the providers document it. Controls that make no sense (a negative
latency, an error rate past 1, a non-boolean switch) are a 400 and change nothing.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hmac
import json
import math
import random
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class RateLimit:
    requests: int
    per_seconds: float


@dataclass
class Controls:
    """Faults and limits injected into one emulator; all off by default."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    outage: bool = False
    rate_limit: RateLimit | None = None
    echo_credentials: bool = False
    hold_write_answers_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ProviderError(Exception):
    """Raised by a handler to answer with the provider's error shape."""

    def __init__(self, status: int, message: str, *, code: str | None = None, details: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.details = details


class SlidingWindow:
    """Counts requests in the last `per_seconds`; says how long to wait when full."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._stamps: deque[float] = deque()

    def retry_after(self) -> int | None:
        now = time.monotonic()
        while self._stamps and now - self._stamps[0] >= self.limit.per_seconds:
            self._stamps.popleft()
        if len(self._stamps) >= self.limit.requests:
            return max(1, math.ceil(self._stamps[0] + self.limit.per_seconds - now))
        self._stamps.append(now)
        return None


@dataclass
class _Route:
    method: str
    template: str
    handler: Callable[..., Any]
    auth: bool = True


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"total": sum(self.requests.values()), "requests": dict(self.requests)}


class Emulator:
    """Base class for one provider's emulator.

    Subclasses set `key`, `root` (the provider's own path root, e.g. `/api`), and implement
    `authenticate`, `error_body`, `unauthorized_body`, `routes`, `records` and
    `load_seed`.
    """

    key: ClassVar[str]
    root: ClassVar[str]

    def __init__(self, *, rng_seed: int = 0) -> None:
        self.controls = Controls()
        self.stats = Stats()
        self._random = random.Random(rng_seed)
        self._window: SlidingWindow | None = None

    # -- subclass hooks -------------------------------------------------------

    def authenticate(self, request: Request) -> bool:
        raise NotImplementedError

    def error_body(self, error: ProviderError) -> Any:
        raise NotImplementedError

    def unauthorized_body(self) -> Any:
        raise NotImplementedError

    def routes(self) -> list[_Route]:
        raise NotImplementedError

    def records(self) -> Any:
        raise NotImplementedError

    def load_seed(self, data: Any) -> None:
        raise NotImplementedError

    # -- helpers for handlers -------------------------------------------------

    @staticmethod
    def route(
        method: str, template: str, handler: Callable[..., Any], *, auth: bool = True
    ) -> _Route:
        return _Route(method, template, handler, auth)

    async def json_body(self, request: Request, *, expect: type = dict) -> Any:
        """The request's JSON body, or a 400 in the provider's shape.

        Refused as not valid JSON too: what JSON cannot carry back out (NaN,
        Infinity, numbers too large for a double, unpaired surrogate escapes),
        since a stored value the emulator cannot answer with would break every
        later read of that record.
        """
        raw = await request.body()
        try:
            body = _loads(raw) if raw else None
            if _SURROGATE_ESCAPE.search(raw):
                render_json(body)  # raises UnicodeEncodeError on an unpaired surrogate
        except RecursionError as exc:
            raise ProviderError(
                400, "Request body is nested too deeply.", code="bad_request"
            ) from exc
        except ValueError as exc:  # also UnicodeDecodeError and UnicodeEncodeError
            raise ProviderError(400, "Request body is not valid JSON.", code="bad_request") from exc
        if not isinstance(body, expect):
            expected = "an object" if expect is dict else "an array"
            raise ProviderError(400, f"Request body must be {expected}.", code="bad_request")
        return body

    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(render_json(body), status, headers, media_type="application/json")

    def error(
        self,
        error: ProviderError,
        headers: dict[str, str] | None = None,
        *,
        request: Request | None = None,
    ) -> Response:
        """`error` in the provider's shape; with `echo_credentials` on, its message
        quotes the credentials `request` carried."""
        if request is not None and self.controls.echo_credentials:
            error = ProviderError(
                error.status,
                f"{error.message} {echoed_credentials(request)}",
                code=error.code,
                details=error.details,
            )
        return self.json(self.error_body(error), error.status, headers)

    # -- controls -------------------------------------------------------------

    def set_controls(self, controls: Controls) -> None:
        self.controls = controls
        self._window = SlidingWindow(controls.rate_limit) if controls.rate_limit else None

    def reset_stats(self) -> None:
        self.stats = Stats()

    async def _apply_controls(self, request: Request, authed: bool) -> Response | None:
        c = self.controls
        if c.latency_ms:
            await asyncio.sleep(c.latency_ms / 1000)
        if c.outage:
            return self.error(
                ProviderError(503, "Service unavailable.", code="unavailable"), request=request
            )
        if not authed:
            return self.json(self.unauthorized_body(), 401)
        if self._window is not None:
            wait = self._window.retry_after()
            if wait is not None:
                message = self.rate_limit_message(self._window.limit)
                return self.error(
                    ProviderError(429, message, code="rate_limited"),
                    {"Retry-After": str(wait)},
                    request=request,
                )
        if c.error_rate and self._random.random() < c.error_rate:
            return self.error(
                ProviderError(500, "Internal server error.", code="internal_error"),
                request=request,
            )
        return None

    def rate_limit_message(self, limit: RateLimit) -> str:
        """The 429 message for the limit in force; providers that quote it override this."""
        return "Too many requests."

    # -- app ------------------------------------------------------------------

    def _wrap(self, spec: _Route) -> Handler:
        label = f"{spec.method} {self.root}{spec.template}"

        async def endpoint(request: Request) -> Response:
            self.stats.requests[label] += 1
            authed = (not spec.auth) or self.authenticate(request)
            refused = await self._apply_controls(request, authed)
            if refused is not None:
                return refused
            try:
                result = await spec.handler(request)
            except ProviderError as exc:
                return self.error(exc, request=request)
            hold = self.controls.hold_write_answers_ms
            if hold and spec.method != "GET":
                await asyncio.sleep(hold / 1000)  # stored; the answer comes too late
            if isinstance(result, Response):
                return result
            return self.json(result)

        return endpoint

    def app(self) -> Starlette:
        routes: list[BaseRoute] = []
        for spec in self.routes():
            routes.append(Route(self.root + spec.template, self._wrap(spec), methods=[spec.method]))
        routes += [
            Route("/_sandbox/records", self._records_endpoint, methods=["GET"]),
            Route("/_sandbox/stats", self._stats_endpoint, methods=["GET"]),
            Route("/_sandbox/reset", self._reset_endpoint, methods=["POST"]),
            Route("/_sandbox/controls", self._controls_endpoint, methods=["GET", "POST"]),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={404: self._not_found, 405: self._not_allowed},
        )

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return self.error(ProviderError(404, "Not found.", code="not_found"), request=request)

    async def _not_allowed(self, request: Request, exc: Exception) -> Response:
        return self.error(
            ProviderError(405, "Method not allowed.", code="method_not_allowed"), request=request
        )

    async def _records_endpoint(self, request: Request) -> Response:
        return self.json({"records": self.records()})

    async def _stats_endpoint(self, request: Request) -> Response:
        return self.json(self.stats.as_dict())

    async def _reset_endpoint(self, request: Request) -> Response:
        self.reset_stats()
        return self.json(self.stats.as_dict())

    async def _controls_endpoint(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.set_controls(parse_controls(await request.json()))
            except (ValueError, TypeError, KeyError, OverflowError) as exc:
                return self.json({"error": f"bad controls: {exc}"}, 400)
        return self.json(self.controls.as_dict())


# -- helpers for emulators ------------------------------------------------------

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_WHOLE = re.compile(r"[0-9]{1,18}")


def render_json(body: Any) -> bytes:
    """`body` as compact UTF-8 JSON, as Starlette's `JSONResponse` writes it.

    orjson is several times faster on large answers (an Adaptix page of 1000
    contacts); `json` takes what orjson cannot hold, integers past 64 bits.
    """
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode()


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; echoing them back would fail mid-response.
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # 1e400 parses as infinity, which cannot be echoed back either.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


_loads = functools.partial(json.loads, parse_constant=_reject_constant, parse_float=_finite_float)


def authorization(request: Request) -> tuple[str, str]:
    """The `Authorization` header as (lower-cased scheme, credentials)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower(), credentials


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The (user, password) of an HTTP Basic `Authorization` header, or None."""
    scheme, encoded = authorization(request)
    if scheme != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # bad base64, non-ASCII header text, or not UTF-8 inside
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def echoed_credentials(request: Request) -> str:
    """The credentials `request` carried, as a careless provider quotes them in an error."""
    parts = [
        f"{name}={request.headers[name]}"
        for name in ("authorization", "x-api-key")
        if request.headers.get(name)
    ]
    basic = basic_credentials(request)
    if basic is not None:
        parts.append(f"user:password={basic[0]}:{basic[1]}")
    return f"(request credentials: {'; '.join(parts) or 'none'})"


def same_secret(given: str, expected: str) -> bool:
    """An exact, constant-time comparison of a credential with the sandbox's."""
    return hmac.compare_digest(given.encode(), expected.encode())


def whole_number(text: str) -> int | None:
    """`text` as a non-negative integer of at most 18 ASCII digits, else None.

    Longer ids and counts exist in no store and would not fit a provider's
    64-bit columns; refusing them also keeps Python's int parsing cheap.
    """
    return int(text) if _WHOLE.fullmatch(text) else None


def iso_millis(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`: `2020-10-22T14:55:52.638Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_controls(body: Any) -> Controls:
    if not isinstance(body, dict):
        raise ValueError("expected an object")
    limit = body.get("rate_limit")
    rate_limit = None
    if limit is not None:
        rate_limit = RateLimit(int(limit["requests"]), float(limit.get("per_seconds", 1.0)))
        if rate_limit.requests < 1 or not 0 < rate_limit.per_seconds < math.inf:
            raise ValueError("rate_limit needs requests >= 1 and a finite per_seconds > 0")
    echo = body.get("echo_credentials", False)
    if not isinstance(echo, bool):
        raise ValueError("echo_credentials must be true or false")
    controls = Controls(
        latency_ms=float(body.get("latency_ms", 0.0)),
        error_rate=float(body.get("error_rate", 0.0)),
        outage=bool(body.get("outage", False)),
        rate_limit=rate_limit,
        echo_credentials=echo,
        hold_write_answers_ms=float(body.get("hold_write_answers_ms", 0.0)),
    )
    if not 0 <= controls.latency_ms < math.inf or not 0.0 <= controls.error_rate <= 1.0:
        raise ValueError("latency_ms must be finite and >= 0, and error_rate within 0..1")
    if not 0 <= controls.hold_write_answers_ms < math.inf:
        raise ValueError("hold_write_answers_ms must be finite and >= 0")
    return controls
