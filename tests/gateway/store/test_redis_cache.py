"""The record cache in Redis (`[redis]` with `[cache] ttl`), on the real server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import redis.asyncio as aioredis

from gateway.domain.records import ContactRecord, Provider
from gateway.store.redis_cache import RedisRecordCache
from tests.storage import redis_prefix

ADA = ContactRecord(provider=Provider.ADAPTIX, remote_id="181", email="ada@example.test")


async def test_entries_are_shared_dropped_and_expire() -> None:
    async with redis_prefix() as (url, prefix):
        one, two = aioredis.from_url(url), aioredis.from_url(url)
        first = RedisRecordCache(one, prefix=prefix, ttl=0.5)
        other = RedisRecordCache(two, prefix=prefix, ttl=0.5)
        read_at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

        await first.put(Provider.ADAPTIX, [("id:181", ADA), ("email:nobody@x.test", None)], read_at)
        seen = await other.get(Provider.ADAPTIX, ["id:181", "email:nobody@x.test", "id:9"])
        await other.drop([(Provider.ADAPTIX, "id:181")])
        dropped = await first.get(Provider.ADAPTIX, ["id:181", "email:nobody@x.test"])
        await asyncio.sleep(0.6)
        expired = await first.get(Provider.ADAPTIX, ["email:nobody@x.test"])
        await one.aclose()
        await two.aclose()

    record, fetched = seen["id:181"]
    assert record is not None
    assert (record.remote_id, record.email, record.fetched_at) == (
        "181",
        "ada@example.test",
        read_at,
    )
    assert fetched == read_at
    assert seen["email:nobody@x.test"] == (None, read_at)  # "no such contact" is kept too
    assert "id:9" not in seen
    assert set(dropped) == {"email:nobody@x.test"}
    assert expired == {}
