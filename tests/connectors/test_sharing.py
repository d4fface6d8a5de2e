"""`SharedPace`: one provider's start slots shared through a real Redis."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest
import redis.asyncio as aioredis

from connectors.settings import RateLimit
from connectors.sharing import MARGIN, SharedPace
from tests.storage import redis_prefix


async def test_two_processes_share_one_schedule() -> None:
    async with redis_prefix() as (url, prefix):
        one, two = aioredis.from_url(url), aioredis.from_url(url)
        limit = RateLimit(requests=20, per_seconds=1)  # a start every 52.5 ms
        paces = [SharedPace(c, f"{prefix}pace:lunarsend", limit) for c in (one, two)]
        # Connections made and the script loaded first, so that what is timed below is
        # one round trip to Redis, not a connection's setup.
        await asyncio.gather(*(p.redis.ping() for p in paces for _ in range(5)))
        for pace in paces:
            await SharedPace(pace.redis, f"{prefix}warm", limit).reserve()
        slots: list[float] = []
        trips: list[float] = []

        async def call(pace: SharedPace) -> None:
            # The slot Redis gave: when the call may start (no sleeping, so a late
            # wake-up on a busy machine cannot move it). Redis read its clock somewhere
            # between asking and being answered: the middle is at most half a trip off.
            asked = time.monotonic()
            wait = await pace.reserve()
            answered = time.monotonic()
            slots.append((asked + answered) / 2 + wait)
            trips.append(answered - asked)

        await asyncio.gather(*(call(paces[i % 2]) for i in range(10)))
        await one.aclose()
        await two.aclose()

    slots.sort()
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    interval = limit.interval * MARGIN
    # Ten slots from two clients, one schedule: never two in one interval, within what
    # the round trips leave unknown (two halves, a trip at most).
    unknown = max(trips) + 0.002
    assert min(gaps) >= interval - unknown, (gaps, trips)
    assert slots[-1] - slots[0] >= 9 * interval - unknown


async def test_without_redis_each_process_paces_its_share_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    pace = SharedPace(dead, "x:pace:lunarsend", RateLimit(10, 1), fallback_share=0.5)

    with caplog.at_level(logging.WARNING, logger="contact_gateway.pacing"):
        waits = [await pace.reserve() for _ in range(3)]
    await dead.aclose()

    # Half of 10/s: a start every 0.21 s (with the margin), kept by this process alone.
    assert waits[0] == pytest.approx(0, abs=0.01)
    assert waits[1] == pytest.approx(0.21, abs=0.02)
    assert waits[2] == pytest.approx(0.42, abs=0.03)
    assert "event=shared_pacing_unavailable" in caplog.text
    assert caplog.text.count("shared_pacing_unavailable") == 1
