"""Fair turns at a rate-limited provider (connectors/pacing.py): one operation's
backlog does not hold up another's call, while the rate limit and the concurrency
bound still hold for all of them together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx

from connectors import budget
from connectors.budget import OperationBudget
from connectors.lunarsend.client import LunarSendConnector
from connectors.pacing import Turns
from connectors.settings import RateLimit
from gateway.domain.records import ContactRecord, Provider
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from sandbox.emulator import RateLimit as EmulatorRateLimit
from tests.connectors import support
from tests.support import SANDBOX_URL, InFlight, sandbox_settings

SEARCH = "GET /api/contacts"


async def lunarsend_ids(http: httpx.AsyncClient) -> list[str]:
    return [str(r["id"]) for r in await support.records(http, Provider.LUNARSEND)]


async def in_operation(
    connector: LunarSendConnector, ids: Sequence[str]
) -> tuple[dict[str, ContactRecord], OperationBudget, float]:
    """`ids` looked up inside an operation of their own; the seconds it took."""
    started = time.monotonic()
    with budget.operation() as spent:
        found = dict(await connector.fetch_by_ids(ids))
    return found, spent, time.monotonic() - started


async def test_one_operations_backlog_does_not_hold_up_anothers_lookup(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    # Lunar Send allows 2 requests a second, and the emulator enforces it.
    sandbox.emulators["lunarsend"].set_controls(Controls(rate_limit=EmulatorRateLimit(2, 1.0)))
    ids = await lunarsend_ids(sandbox_http)
    # Twelve queued lookups are six seconds of Lunar Send's time: enough to show the
    # difference without spending forty (the forty-lookup case of the design is the
    # same arithmetic).
    backlog, single = ids[:12], ids[12]
    await support.reset(sandbox_http, Provider.LUNARSEND)
    lunarsend = LunarSendConnector(
        sandbox_http, sandbox_settings(Provider.LUNARSEND, rate_limit=RateLimit(2, 1.0))
    )

    first = asyncio.create_task(in_operation(lunarsend, backlog))
    await asyncio.sleep(0.5)
    found, spent, seconds = await in_operation(lunarsend, [single])

    # First come, first served would have made it wait behind the other 11 (about 5.5 s).
    assert seconds < 2.0
    assert set(found) == {single}
    assert spent.calls == {Provider.LUNARSEND: 1}
    found_first, spent_first, _ = await first
    assert set(found_first) == set(backlog)
    assert spent_first.calls == {Provider.LUNARSEND: 12}
    # One call per lookup: a 429 from the provider would have cost a retry.
    assert await support.calls(sandbox_http, Provider.LUNARSEND) == {SEARCH: 13}


async def test_the_rate_limit_holds_for_every_operation_together(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    # The provider allows a little more than the gateway paces itself to: a start on the
    # edge of its window must not earn a 429 (and a 17th call, tried again) by jitter.
    sandbox.emulators["lunarsend"].set_controls(Controls(rate_limit=EmulatorRateLimit(12, 1.0)))
    ids = await lunarsend_ids(sandbox_http)
    await support.reset(sandbox_http, Provider.LUNARSEND)
    lunarsend = LunarSendConnector(
        sandbox_http, sandbox_settings(Provider.LUNARSEND, rate_limit=RateLimit(10, 1.0))
    )

    started = time.monotonic()
    await asyncio.gather(
        in_operation(lunarsend, ids[0:6]),
        in_operation(lunarsend, ids[6:12]),
        in_operation(lunarsend, ids[12:13]),
        lunarsend.fetch_by_ids(ids[13:16]),  # outside any operation
    )
    seconds = time.monotonic() - started

    # 16 calls at 10 a second: the 16th starts 1.5 s after the first, at the earliest.
    assert seconds >= 1.5
    assert await support.calls(sandbox_http, Provider.LUNARSEND) == {SEARCH: 16}


async def test_concurrency_is_never_exceeded_across_operations(sandbox: Sandbox) -> None:
    sandbox.emulators["lunarsend"].set_controls(Controls(latency_ms=20))
    transport = InFlight(sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as http:
        ids = await lunarsend_ids(http)
        lunarsend = LunarSendConnector(http, sandbox_settings(Provider.LUNARSEND, concurrency=3))
        results = await asyncio.gather(
            in_operation(lunarsend, ids[0:10]),
            in_operation(lunarsend, ids[10:20]),
            in_operation(lunarsend, ids[20:21]),
            lunarsend.fetch_by_ids(ids[21:30]),
        )

    assert [len(r[0]) if isinstance(r, tuple) else len(r) for r in results] == [10, 10, 1, 9]
    # The control requests above came one at a time; the lookups, three at a time at most.
    assert transport.peak == 3


async def test_turns_go_round_robin_across_operations_and_in_order_within_one() -> None:
    turns = Turns(concurrency=1, rate_limit=None)
    order: list[str] = []
    a, b = OperationBudget(), OperationBudget()

    async def call(group: object, name: str) -> None:
        await turns.take(group)
        order.append(name)
        await asyncio.sleep(0)
        turns.release()

    await turns.take(None)  # the slot is busy while they all line up
    tasks = [asyncio.create_task(call(a, f"a{n}")) for n in range(1, 5)]
    tasks += [asyncio.create_task(call(b, "b1")), asyncio.create_task(call(None, "x1"))]
    tasks += [asyncio.create_task(call(b, "b2")), asyncio.create_task(call(None, "x2"))]
    await asyncio.sleep(0.01)
    turns.release()
    await asyncio.gather(*tasks)

    # Each waiting group in turn; calls outside any operation share one group.
    assert order == ["a1", "b1", "x1", "a2", "b2", "x2", "a3", "a4"]


async def test_a_wait_given_up_at_its_deadline_leaves_no_slot_taken() -> None:
    turns = Turns(concurrency=1, rate_limit=None)
    await turns.take(None)
    give_up = asyncio.create_task(turns.take(OperationBudget(), deadline=time.monotonic() + 0.05))
    later = asyncio.create_task(turns.take(None))
    await asyncio.sleep(0.1)
    assert give_up.done()
    assert isinstance(give_up.exception(), TimeoutError)

    turns.release()
    await asyncio.wait_for(later, timeout=1)  # the slot went to the next caller, not lost
    turns.release()
    await asyncio.wait_for(turns.take(None), timeout=1)


def test_paced_turns_still_come_in_a_new_event_loop_after_one_ended_with_a_call_waiting() -> None:
    turns = Turns(concurrency=2, rate_limit=RateLimit(1, 0.5))

    async def end_with_one_waiting() -> None:
        await turns.take(None)
        turns.release()
        asyncio.get_running_loop().create_task(turns.take(None))  # cancelled as the loop ends
        await asyncio.sleep(0.01)

    async def take_again() -> None:
        await asyncio.wait_for(turns.take(None), timeout=2)

    asyncio.run(end_with_one_waiting())
    asyncio.run(take_again())
