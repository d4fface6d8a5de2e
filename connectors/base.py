"""`HTTPConnector`: the machinery every connector shares.

Subclasses set `provider`, say how to authenticate (`auth_headers`) and how to
read an error message from a response (`error_message`), and implement the
protocols of `connectors.protocol` their provider has an API for (nothing
else: a method a provider cannot serve does not exist). Everything else
(timeouts, retries with backoff and jitter, `Retry-After`, the time budget,
the concurrency bound and client-side pacing shared fairly between operations
(`connectors.pacing`), the operation's call limit and deadline
(`connectors.budget`), classification of responses into the error tree, and
masking the connector's secrets in every message it makes) lives here, once.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx
import orjson

from connectors import budget, http
from connectors.budget import OperationBudget
from connectors.errors import (
    AuthError,
    BadInput,
    ConnectorError,
    NotConnected,
    NotFound,
    OperationTimeout,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RetriableError,
)
from connectors.masking import Masker
from connectors.pacing import Turns
from connectors.settings import ConnectorSettings
from connectors.sharing import SharedPace
from gateway.domain.records import (
    ContactWrite,
    Health,
    Provider,
    WriteResult,
    WriteStatus,
)
from gateway.telemetry import metrics

JSON = Any
S = TypeVar("S", bound=ConnectorSettings)
Params = Mapping[str, Any] | list[tuple[str, Any]] | None

NOT_SENT = "the operation ran out of time before this provider call was sent"
NOT_ANSWERED = "the operation ran out of time before the provider answered"
MAY_HAVE_ACTED = " (it may still have acted on the request)"
# A timeout that ends this close to the operation's deadline was the deadline's.
DEADLINE_SLACK = 0.01


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


# `quote_plus` for ASCII text, as one `str.translate` (urlencode's quoting is a Python
# loop over the bytes: a third of a lookup's query-building CPU). Text with any other
# character goes to `quote_plus` itself; tests/connectors/test_base.py compares them.
_ASCII_QUOTED = {
    code: (
        chr(code)
        if chr(code).isascii() and (chr(code).isalnum() or chr(code) in "_.-~")
        else "+"
        if code == 32
        else f"%{code:02X}"
    )
    for code in range(128)
}


def quote_plus(text: str) -> str:
    """`urllib.parse.quote_plus(text)`, faster for ASCII text."""
    if text.isascii():
        return text.translate(_ASCII_QUOTED)
    return urllib.parse.quote_plus(text)


# Parameter names as encoded: the connectors use a few dozen, over and over.
_NAMES: dict[str, str] = {}


def query_string(params: Mapping[str, Any] | list[tuple[str, Any]]) -> str:
    """`params` URL-encoded as `urlencode` does it, primitives spelled as httpx spells
    them (true, false, "")."""
    items = params.items() if isinstance(params, Mapping) else params
    parts = []
    for key, value in items:
        name = _NAMES.get(key)
        if name is None:
            name = quote_plus(str(key))
            if len(_NAMES) < 1024:
                _NAMES[key] = name
        text = value if value.__class__ is str else _primitive(value)
        parts.append(f"{name}={quote_plus(text)}")
    return "&".join(parts)


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


@dataclass(frozen=True, slots=True)
class Answer:
    """How a provider last answered: when (`time.monotonic()`), whether it was up and
    took the credentials, and if not, why. Passive health for providers with no read
    endpoint to probe."""

    at: float
    ok: bool
    message: str | None = None


class HTTPConnector(Generic[S]):
    """Base class for connectors that speak a JSON REST API over httpx.

    Args:
        client: the shared `httpx.AsyncClient` (injected, never built here).
        settings: base URL, credentials, timeouts and limits.
    """

    provider: ClassVar[Provider]

    def __init__(self, client: httpx.AsyncClient, settings: S) -> None:
        self.client = client
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self._turns = Turns(concurrency=settings.concurrency, rate_limit=settings.rate_limit)
        auth = self.auth_headers()
        self.mask = Masker(settings.secrets(), auth)
        # Every request carries the same headers: built once, not per call. The client's
        # own (User-Agent and httpx's defaults) come first, as `build_request` puts them.
        headers = httpx.Headers([*client.headers.multi_items(), *auth.items()])
        json_headers = httpx.Headers([*headers.multi_items(), ("Content-Type", "application/json")])
        self._send = http.sender(client, self.base_url, headers, json_headers)
        self.last_answer: Answer | None = None
        self.shared_pace: SharedPace | None = None
        # The series a wait for a turn adds to, looked up once (`labels` locks and joins).
        self._waited = metrics.PACING_WAIT_SECONDS.labels(self.provider.value)

    # -- overridable pieces -------------------------------------------------

    def auth_headers(self) -> Mapping[str, str]:
        """The headers that authenticate every request; read once, from `settings`."""
        return {}

    def error_message(self, response: http.ProviderAnswer) -> str:
        """The provider's own words for a failed response (`validate_response` masks
        the secrets in them)."""
        try:
            body = response.json()
        except ValueError:
            # Masked before it is cut: a cut through a secret would leave its start.
            return self.mask(response.text)[:200] or response.reason_phrase
        if isinstance(body, dict):
            for key in ("message", "error"):
                if isinstance(body.get(key), str):
                    return str(body[key])
        return response.reason_phrase

    def validate_response(self, response: http.ProviderAnswer) -> None:
        """Raise the error that matches a failed response; return on success."""
        status = response.status_code
        if status < 400:
            return
        message = self.mask(self.error_message(response))
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
    ) -> http.ProviderAnswer:
        """Send one request, retrying reads (and refused writes) inside the budget.

        Reads (`retry` defaults to True for GET) are retried on timeouts,
        connection errors, 429 and 5xx. Writes are retried only where the
        provider cannot have acted: a connection never made, or a 429. No try
        runs past the retry budget: the last one's timeout is cut to what is left.

        Inside an operation (`connectors.budget`) each try is charged to it before
        it is sent, the call waits its fair turn among the operations, and no
        wait, try or pause runs past the operation's deadline.

        Raises:
            ConnectorError: the provider failed after retries (its message masked);
                `CallBudgetExceeded` or `OperationTimeout` when the operation's
                limit stopped the call, never retried.
        """
        if retry is None:
            retry = method == "GET"
        policy = self.settings.retry
        operation = budget.current()
        if operation is not None:
            # Nothing is queued for a call that could not be sent anyway.
            operation.check(self.provider)
        # A call keeps its concurrency slot while it backs off, so a retry is not
        # sent to the back of a queue of thousands (a bulk job); and its budget
        # starts once it holds the slot, not while it waits for one.
        await self._turn(operation, first=True)
        try:
            deadline = time.monotonic() + policy.budget
            # No pause runs past the retry budget or the operation's deadline: the
            # caller gets the provider's failure at once, not after a wait for nothing.
            last_pause_end = deadline
            if operation is not None and operation.deadline is not None:
                last_pause_end = min(deadline, operation.deadline)
            attempt = 0
            while True:
                attempt += 1
                if attempt > 1:
                    await self._turn(operation, first=False)
                try:
                    return await self._send_once(
                        method,
                        path,
                        params=params,
                        json=json,
                        deadline=deadline,
                        operation=operation,
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
                    if time.monotonic() + pause >= last_pause_end:
                        raise
                    metrics.PROVIDER_RETRIES.labels(self.provider.value).inc()
                    await asyncio.sleep(pause)
        finally:
            self._turns.release()

    async def _turn(self, operation: OperationBudget | None, *, first: bool) -> None:
        """Wait for `operation`'s fair turn: a slot and a paced start for a call's first
        try (the caller releases the slot), a paced start for a retry."""
        deadline = operation.deadline if operation is not None else None
        started = time.monotonic()
        try:
            if first:
                await self._turns.take(operation, deadline=deadline)
            else:
                await self._turns.start(operation, deadline=deadline)
        except TimeoutError:
            raise OperationTimeout(NOT_SENT, provider=self.provider) from None
        try:
            if self.shared_pace is not None:
                await self._shared_start(deadline)
        except BaseException:
            if first:
                self._turns.release()  # the caller releases only a turn it was given
            raise
        finally:
            waited = time.monotonic() - started
            if waited > 0.0005:
                self._waited.inc(waited)

    async def _shared_start(self, deadline: float | None) -> None:
        """Wait for this call's start slot in the deployment-wide schedule."""
        assert self.shared_pace is not None
        wait = await self.shared_pace.reserve()
        if deadline is not None and time.monotonic() + wait > deadline:
            raise OperationTimeout(NOT_SENT, provider=self.provider)
        if wait > 0:
            await asyncio.sleep(wait)

    def share_pace(self, pace: SharedPace) -> None:
        """Pace this provider's calls by `pace` (shared by every process) instead of by
        this process alone; calls still take their fair turn and slot here."""
        self.shared_pace = pace
        self._turns = Turns(concurrency=self.settings.concurrency, rate_limit=None)

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Params,
        json: JSON,
        deadline: float | None = None,
        operation: OperationBudget | None = None,
    ) -> http.ProviderAnswer:
        """One HTTP exchange, charged to `operation` and classified; the caller holds
        its turn."""
        stop = operation.deadline if operation is not None else None
        if operation is not None:
            operation.charge(self.provider)
        now = time.monotonic()
        timeout = self.settings.timeout
        if deadline is not None:
            # No try runs past the budget: the last one's timeout is cut to what is left.
            timeout = min(timeout, deadline - now)
        if stop is not None:
            timeout = min(timeout, stop - now)
        timeout = max(timeout, 0.001)
        query = query_string(params) if params else None
        content = None if json is None else orjson.dumps(json)
        total = None if stop is None else max(stop - now, 0.001)
        try:
            response = await self._send(method, path, query, content, timeout, total)
        except http.TRANSPORT_ERRORS as exc:
            error = http.failure(exc, self.provider, timeout)
            metrics.provider_failure(
                self.provider.value,
                method,
                timed_out=isinstance(error, ProviderTimeout) or isinstance(exc, TimeoutError),
                seconds=time.monotonic() - now,
            )
            self.last_answer = Answer(time.monotonic(), False, error.message)
            if (
                stop is not None
                and isinstance(error, ProviderTimeout | NotConnected)
                and time.monotonic() >= stop - DEADLINE_SLACK
            ):
                message = NOT_ANSWERED if method == "GET" else NOT_ANSWERED + MAY_HAVE_ACTED
                raise OperationTimeout(message, provider=self.provider) from exc
            raise error from exc
        status = response.status_code
        metrics.provider_call(self.provider.value, method, status, time.monotonic() - now)
        if status >= 500 or status in (401, 403):
            words = self.mask(self.error_message(response))
            self.last_answer = Answer(time.monotonic(), False, f"HTTP {status}: {words}")
        else:
            self.last_answer = Answer(time.monotonic(), True)
        self.validate_response(response)
        return response

    async def get_json(self, path: str, *, params: Params = None) -> JSON:
        response = await self.request("GET", path, params=params)
        return self.decode(response)

    def decode(self, response: http.ProviderAnswer) -> JSON:
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
            self.provider,
            WriteStatus.SKIPPED,
            message=self.mask(reason),
            dropped_fields=tuple(dropped),
        )

    def failed(
        self,
        error: ConnectorError | str,
        *,
        dropped: Sequence[str] = (),
        retriable: bool = False,
        outcome_unknown: bool = False,
    ) -> WriteResult:
        """A FAILED result; its message (often the provider's words) is masked.

        From an error, whether another try may land the write and whether the
        provider may have acted are read off its type: a connection never made or a
        429 is retriable and surely not acted on; no answer (a timeout, a connection
        lost, the operation's deadline) is retriable with an unknown outcome; a 5xx is
        retriable; a refusal of the data or the credentials, or the operation's call
        budget, is not.
        """
        message = error.message if isinstance(error, ConnectorError) else error
        retry_after = None
        if isinstance(error, ConnectorError):
            retriable, outcome_unknown = _retry_facts(error)
            if isinstance(error, RateLimited):
                retry_after = error.retry_after
        return WriteResult(
            self.provider,
            WriteStatus.FAILED,
            message=self.mask(message),
            dropped_fields=tuple(dropped),
            retriable=retriable,
            outcome_unknown=outcome_unknown,
            retry_after=retry_after,
        )

    def unwritable(self, contact: ContactWrite) -> list[str]:
        """The fields `contact` gives that the provider has nowhere to store
        (a `Writer`'s `writable_fields`; `address.city` there: that part alone)."""
        writable: frozenset[str] = getattr(self, "writable_fields", frozenset())
        dropped: list[str] = []
        for name in contact.given():
            if name in writable:
                continue
            # A provider that stores some parts of a structured field (Interakt: an
            # address's city and country) drops the others, each by name.
            parts = contact.given_parts(name)
            if any(part in writable for part in parts):
                dropped += [part for part in parts if part not in writable]
            else:
                dropped.append(name)
        return dropped

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
        operation = budget.current()
        try:
            if operation is not None:
                operation.check(self.provider)
            await self._turn(operation, first=True)
            try:
                await self._send_once(method, path, params=params, json=json, operation=operation)
            finally:
                self._turns.release()
        except healthy:
            pass
        except ConnectorError as exc:
            return Health(self.provider, ok=False, message=self.mask(exc.message))
        return Health(self.provider, ok=True, latency_ms=(time.monotonic() - started) * 1000)


def _retry_facts(error: ConnectorError) -> tuple[bool, bool]:
    """(another try may land it, the provider may have acted) for a failed write."""
    if isinstance(error, NotConnected | RateLimited):
        return True, False
    if isinstance(error, OperationTimeout):
        return True, True
    if isinstance(error, ProviderTimeout):
        return True, True
    if isinstance(error, ProviderUnavailable):
        # A 5xx is an answer; a connection lost mid-exchange is not.
        return True, error.status is None
    return False, False


class _Upserts(Protocol):
    async def upsert(self, contact: ContactWrite) -> WriteResult: ...


class OneByOneWrites:
    """`upsert_many` for a provider without a batch endpoint: one `upsert` per
    contact, at once, within the connector's concurrency bound."""

    async def upsert_many(self: _Upserts, contacts: Sequence[ContactWrite]) -> list[WriteResult]:
        return list(await asyncio.gather(*(self.upsert(c) for c in contacts)))
