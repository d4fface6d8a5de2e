"""A lookup's provider calls gathered (`loaders._answers`): as `asyncio.gather` with
`return_exceptions`, the first call awaited in the lookup's own task."""

from __future__ import annotations

import asyncio
import gc

import pytest

from connectors.errors import ProviderUnavailable
from gateway.domain.records import Provider
from resolvers.runtime.loaders import _answers


async def answer(value: object, seconds: float = 0.0) -> object:
    await asyncio.sleep(seconds)
    if isinstance(value, Exception):
        raise value
    return value


async def test_answers_and_failures_come_back_in_order_like_gathers() -> None:
    down = ProviderUnavailable("down", provider=Provider.TRUSTMARY)
    calls = [answer("a", 0.02), answer(down), answer(None, 0.01)]
    expected = [answer("a", 0.02), answer(down), answer(None, 0.01)]
    assert await _answers(calls) == await asyncio.gather(*expected, return_exceptions=True)
    assert await _answers([]) == []


@pytest.mark.parametrize(
    "slow", [(0, 2), (1, 2)], ids=["while-the-first-runs", "while-a-later-one-runs"]
)
async def test_a_cancelled_lookup_cancels_the_calls_still_running(slow: tuple[int, ...]) -> None:
    started: list[int] = []
    finished: list[int] = []
    all_started = asyncio.Event()

    async def call(n: int) -> int:
        started.append(n)
        if len(started) == 3:
            all_started.set()
        await asyncio.sleep(10 if n in slow else 0)
        finished.append(n)
        return n

    lookup = asyncio.ensure_future(_answers([call(0), call(1), call(2)]))
    await all_started.wait()
    await asyncio.sleep(0.01)
    lookup.cancel()
    with pytest.raises(asyncio.CancelledError):
        await lookup
    await asyncio.sleep(0.01)
    assert not set(slow) & set(finished)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


@pytest.mark.parametrize("when", ["before", "on-cancel"])
async def test_a_failure_left_unread_by_a_cancelled_lookup_is_not_logged_as_unread(
    caplog: pytest.LogCaptureFixture, when: str
) -> None:
    """A call failed before the lookup was cancelled, or failed as it was cancelled
    (its clean-up raised): no one reads its failure, and asyncio must not log it."""
    down = ProviderUnavailable("down", provider=Provider.TRUSTMARY)

    async def failing() -> None:
        if when == "before":
            raise down
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise down from None

    lookup = asyncio.ensure_future(_answers([answer("a", 10), failing()]))
    await asyncio.sleep(0.01)  # the first call still runs
    lookup.cancel()
    await asyncio.wait([lookup])
    assert lookup.cancelled()
    del lookup  # nothing keeps the calls' tasks: asyncio logs what they left unread
    await asyncio.sleep(0.01)
    gc.collect()
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text
