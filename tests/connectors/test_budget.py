"""An operation's call limit and deadline (connectors/budget.py), as every connector
keeps them: calls over the limit or past the deadline are never sent, reads raise,
writes answer FAILED, and no wait, try or pause runs past the deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import httpx
import pytest
import uvloop

from connectors import budget
from connectors.base import HTTPConnector
from connectors.errors import (
    CallBudgetExceeded,
    ConnectorError,
    OperationTimeout,
    RateLimited,
)
from connectors.http import build_client
from connectors.lunarsend.client import LunarSendConnector
from connectors.protocol import EmailReader, HealthChecker
from connectors.registry import build_connector
from connectors.settings import ConnectorSettings, RateLimit, RetryPolicy
from gateway.domain.records import ContactWrite, Provider, WriteStatus
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from tests.connectors import support
from tests.connectors.support import Script, every_write, results, scripted
from tests.rawhttp import Exchange, running
from tests.support import sandbox_settings

SEARCH = "GET /api/contacts"


def connector(provider: Provider, http: httpx.AsyncClient, **overrides: Any) -> Any:
    return build_connector(provider, http, replace(sandbox_settings(provider), **overrides))


# -- the scope -------------------------------------------------------------------


def test_a_scope_is_current_inside_it_only_and_an_inner_one_replaces_it() -> None:
    assert budget.current() is None
    with budget.operation(max_calls=5, deadline=time.monotonic() + 60) as outer:
        assert budget.current() is outer
        remaining = outer.remaining()
        assert remaining is not None
        assert 59 < remaining <= 60
        with budget.operation() as inner:
            assert budget.current() is inner
            assert inner.remaining() is None
        assert budget.current() is outer
    assert budget.current() is None
    with pytest.raises(ValueError, match="max_calls"), budget.operation(max_calls=-1):
        pass


async def test_calls_are_counted_per_provider_also_from_tasks_started_inside(
    sandbox_http: httpx.AsyncClient,
) -> None:
    ids = [str(r["id"]) for r in await support.records(sandbox_http, Provider.LUNARSEND)][:5]
    await support.reset(sandbox_http, Provider.LUNARSEND)
    lunarsend = connector(Provider.LUNARSEND, sandbox_http)

    with budget.operation() as spent:
        # One task per id (asyncio.gather inside the connector).
        found = await lunarsend.fetch_by_ids(ids)
    await lunarsend.fetch_by_ids(ids[:1])  # outside: not counted

    assert len(found) == 5
    assert spent.calls == {Provider.LUNARSEND: 5}
    assert await support.calls(sandbox_http, Provider.LUNARSEND) == {SEARCH: 6}


# -- the call limit ------------------------------------------------------------


async def test_a_read_stops_at_the_call_limit_and_sends_no_more(
    sandbox_http: httpx.AsyncClient,
) -> None:
    ids = [str(r["id"]) for r in await support.records(sandbox_http, Provider.LUNARSEND)][:5]
    await support.reset(sandbox_http, Provider.LUNARSEND)
    lunarsend = connector(Provider.LUNARSEND, sandbox_http)

    with (
        budget.operation(max_calls=3) as spent,
        pytest.raises(CallBudgetExceeded) as refused,
    ):
        await lunarsend.fetch_by_ids(ids)

    assert refused.value.code == "OPERATION_LIMIT_EXCEEDED"
    assert refused.value.provider is Provider.LUNARSEND
    assert refused.value.message == "the operation may make at most 3 provider calls"
    assert spent.calls == {Provider.LUNARSEND: 3}
    assert await support.calls(sandbox_http, Provider.LUNARSEND) == {SEARCH: 3}


async def test_every_retry_is_charged_and_one_over_the_limit_is_not_sent(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    empty_sandbox.emulators["trustmary"].set_controls(Controls(error_rate=1.0))
    trustmary = connector(Provider.TRUSTMARY, empty_sandbox_http)

    with budget.operation(max_calls=2), pytest.raises(CallBudgetExceeded):
        await trustmary.fetch_by_emails(["a@example.test"])

    # Three attempts allowed by the retry policy; the third was refused before it left.
    assert await support.calls(empty_sandbox_http, Provider.TRUSTMARY) == {"GET /v1/contacts": 2}


LIMITS: dict[str, Callable[[], dict[str, Any]]] = {
    "no-calls-left": lambda: {"max_calls": 0},
    "deadline-passed": lambda: {"deadline": time.monotonic() - 1},
}
EXPECTED: dict[str, tuple[type[ConnectorError], str]] = {
    "no-calls-left": (CallBudgetExceeded, "the operation may make at most 0 provider calls"),
    "deadline-passed": (
        OperationTimeout,
        "the operation ran out of time before this provider call was sent",
    ),
}


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("provider", list(Provider), ids=lambda p: p.value)
async def test_a_spent_operation_sends_nothing_reads_raise_and_writes_fail(
    provider: Provider, limit: str, sandbox_http: httpx.AsyncClient
) -> None:
    before = await support.records(sandbox_http, provider)
    await support.reset(sandbox_http, provider)
    c = connector(provider, sandbox_http)
    error, message = EXPECTED[limit]

    with budget.operation(**LIMITS[limit]()) as spent:
        for name, write in every_write(c).items():
            answers = results(await write())
            sent = [r for r in answers if r.status is not WriteStatus.SKIPPED]
            assert sent, name
            assert all(r.status is WriteStatus.FAILED for r in sent), (name, answers)
            assert all(message in (r.message or "") for r in sent), (name, answers)
        if isinstance(c, EmailReader):
            with pytest.raises(error, match=message) as raised:
                await c.fetch_by_emails(["budget@example.test"])
            assert raised.value.code == error.code
        health = await c.check_health() if isinstance(c, HealthChecker) else None

    if health is not None:
        assert not health.ok
        assert health.message == message
    assert sum(spent.calls.values()) == 0
    assert await support.calls(sandbox_http, provider) == {}
    assert await support.records(sandbox_http, provider) == before


async def test_a_write_refused_after_the_lookup_before_it_is_failed(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    lunarsend = connector(Provider.LUNARSEND, empty_sandbox_http)

    with budget.operation(max_calls=1):
        result = await lunarsend.upsert(ContactWrite(email="new@example.test", first_name="N"))

    assert result.status is WriteStatus.FAILED
    assert result.message == "the operation may make at most 1 provider calls"
    assert await support.calls(empty_sandbox_http, Provider.LUNARSEND) == {SEARCH: 1}
    assert await support.records(empty_sandbox_http, Provider.LUNARSEND) == []


# -- the deadline -----------------------------------------------------------------


async def test_a_slow_answer_is_cut_at_the_deadline_and_not_retried(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["trustmary"].set_controls(Controls(latency_ms=3000))
    trustmary = connector(Provider.TRUSTMARY, sandbox_http)  # its own timeout: 5 s

    started = time.monotonic()
    with (
        budget.operation(deadline=time.monotonic() + 0.3),
        pytest.raises(OperationTimeout) as raised,
    ):
        await trustmary.fetch_by_emails(["a@example.test"])
    elapsed = time.monotonic() - started

    assert 0.25 < elapsed < 1.5
    assert raised.value.code == "OPERATION_TIMEOUT"
    assert raised.value.message == "the operation ran out of time before the provider answered"
    assert await support.calls(sandbox_http, Provider.TRUSTMARY) == {"GET /v1/contacts": 1}


async def test_a_write_cut_at_the_deadline_is_failed_and_may_have_been_stored(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    empty_sandbox.emulators["interakt"].set_controls(Controls(latency_ms=3000))
    interakt = connector(Provider.INTERAKT, empty_sandbox_http)

    with budget.operation(deadline=time.monotonic() + 0.3):
        result = await interakt.upsert(ContactWrite(email="late@example.test"))

    assert result.status is WriteStatus.FAILED
    assert result.message == (
        "the operation ran out of time before the provider answered"
        " (it may still have acted on the request)"
    )


async def test_the_wait_for_a_paced_turn_ends_at_the_deadline(
    sandbox_http: httpx.AsyncClient,
) -> None:
    ids = [str(r["id"]) for r in await support.records(sandbox_http, Provider.LUNARSEND)]
    await support.reset(sandbox_http, Provider.LUNARSEND)
    lunarsend = connector(Provider.LUNARSEND, sandbox_http, rate_limit=RateLimit(1, 2.0))
    await lunarsend.fetch_by_ids(ids[:1])  # the next start is 2 s away

    started = time.monotonic()
    with budget.operation(deadline=time.monotonic() + 0.3), pytest.raises(OperationTimeout):
        await lunarsend.fetch_by_ids(ids[1:2])

    assert time.monotonic() - started < 1.5
    assert await support.calls(sandbox_http, Provider.LUNARSEND) == {SEARCH: 1}


async def test_the_wait_for_a_concurrency_slot_ends_at_the_deadline_and_frees_nothing_twice(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    ids = [str(r["id"]) for r in await support.records(sandbox_http, Provider.LUNARSEND)]
    await support.reset(sandbox_http, Provider.LUNARSEND)
    sandbox.emulators["lunarsend"].set_controls(Controls(latency_ms=600))
    lunarsend = connector(Provider.LUNARSEND, sandbox_http, concurrency=1)
    busy = asyncio.create_task(lunarsend.fetch_by_ids(ids[:1]))
    await asyncio.sleep(0.05)

    started = time.monotonic()
    with budget.operation(deadline=time.monotonic() + 0.2), pytest.raises(OperationTimeout):
        await lunarsend.fetch_by_ids(ids[1:2])
    assert time.monotonic() - started < 0.5

    assert len(await busy) == 1
    sandbox.emulators["lunarsend"].set_controls(Controls())
    # The slot the timed-out wait never got is still there for the next call.
    assert len(await asyncio.wait_for(lunarsend.fetch_by_ids(ids[2:4]), timeout=2)) == 2
    assert await support.calls(sandbox_http, Provider.LUNARSEND) == {SEARCH: 3}


async def test_a_pause_that_would_end_past_the_deadline_is_not_taken() -> None:
    later = httpx.Response(429, headers={"Retry-After": "5"}, json={"message": "Slow down."})
    script = Script(later, httpx.Response(200, json={"data": []}))
    async with scripted(
        Provider.LUNARSEND, script, retry=RetryPolicy(attempts=3, budget=30.0)
    ) as lunarsend:
        assert isinstance(lunarsend, LunarSendConnector)
        started = time.monotonic()
        with budget.operation(deadline=time.monotonic() + 1.0), pytest.raises(RateLimited):
            await lunarsend.fetch_by_ids(["1"])

    # The provider's own refusal, at once: not a 5 s pause ending after the deadline.
    assert time.monotonic() - started < 0.5
    assert len(script.requests) == 1


# -- over a real connection --------------------------------------------------------


class Probe(HTTPConnector[ConnectorSettings]):
    provider = Provider.AKITA


async def silent_provider_is_cut_at_the_deadline() -> None:
    release = asyncio.Event()

    async def answer(exchange: Exchange) -> None:
        await release.wait()

    async with running(answer) as server:
        settings = ConnectorSettings(base_url=server.url, timeout=5.0)
        async with build_client(settings, user_agent="test") as http:
            probe = Probe(http, settings)
            started = time.monotonic()
            with (
                budget.operation(deadline=time.monotonic() + 0.3),
                pytest.raises(OperationTimeout),
            ):
                await probe.request("GET", "/contacts")
            elapsed = time.monotonic() - started
            release.set()

    assert 0.25 < elapsed < 1.0
    assert len(server.requests) == 1


Runner = Callable[[Coroutine[Any, Any, None]], None]


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_a_silent_provider_is_cut_at_the_deadline_over_a_real_connection(run: Runner) -> None:
    run(silent_provider_is_cut_at_the_deadline())


async def test_work_left_behind_by_an_operation_that_ended_sends_nothing(
    sandbox_http: httpx.AsyncClient,
) -> None:
    lunarsend = connector(Provider.LUNARSEND, sandbox_http)
    started = asyncio.Event()
    proceed = asyncio.Event()

    async def stray_lookup() -> Any:
        started.set()
        await proceed.wait()  # a batch still queued when its operation answered
        return await lunarsend.fetch_by_emails(["ada.lovelace.0@stark.test"])

    with budget.operation() as spent:
        task = asyncio.ensure_future(stray_lookup())
        await started.wait()
    await support.reset(sandbox_http, Provider.LUNARSEND)
    proceed.set()
    with pytest.raises(OperationTimeout, match="ended"):
        await task
    assert spent.closed
    assert await support.calls(sandbox_http, Provider.LUNARSEND) == {}
