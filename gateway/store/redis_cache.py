"""The record cache in Redis, for several gateway instances (`[redis] url` with
`[cache] ttl`): what one instance read answers the others' lookups, and a write
through any of them drops the entries it touched for all. Same behaviour as
`gateway.store.cache.RecordCache` (which keeps it in the store); Redis expires
the entries itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson

from gateway.domain.records import ContactRecord, Provider
from gateway.store.codec import decode, encode
from gateway.store.engine import StoreUnavailable
from gateway.telemetry import metrics


class Cache(Protocol):
    """What the resolvers need of a record cache (in the store or in Redis)."""

    async def get(
        self, provider: Provider, keys: Sequence[str]
    ) -> dict[str, tuple[ContactRecord | None, datetime]]: ...

    async def put(
        self,
        provider: Provider,
        entries: Sequence[tuple[str, ContactRecord | None]],
        fetched_at: datetime,
    ) -> None: ...

    async def drop(self, entries: Sequence[tuple[Provider, str]]) -> None: ...


class RedisRecordCache:
    """Recently read provider records, in Redis.

    Args:
        redis: an asyncio Redis client.
        prefix: the deployment's key prefix.
        ttl: seconds an entry answers lookups.
    """

    def __init__(self, redis: Any, *, prefix: str, ttl: float) -> None:
        from redis.exceptions import RedisError  # imported with Redis configured only

        self._errors = (RedisError, OSError)
        self.redis = redis
        self.prefix = f"{prefix}cache:"
        self.ttl = timedelta(seconds=ttl)

    def _key(self, provider: Provider | str, key: str) -> str:
        name = provider.value if isinstance(provider, Provider) else provider
        return f"{self.prefix}{name}:{key}"

    async def get(
        self, provider: Provider, keys: Sequence[str]
    ) -> dict[str, tuple[ContactRecord | None, datetime]]:
        """Entries for `keys` not yet expired: (the record, or None when the provider had
        none; when it was read)."""
        if not keys:
            return {}
        try:
            values = await self.redis.mget([self._key(provider, k) for k in keys])
        except self._errors as exc:
            raise StoreUnavailable(f"redis did not answer ({type(exc).__name__})") from exc
        found: dict[str, tuple[ContactRecord | None, datetime]] = {}
        for key, raw in zip(keys, values, strict=True):
            if raw is None:
                continue
            entry = orjson.loads(raw)
            fetched = datetime.fromisoformat(entry["t"])
            record = decode(entry["r"]) if entry["r"] is not None else None
            if record is not None:
                record.fetched_at = fetched
            found[key] = (record, fetched)
        metrics.CACHE_LOOKUPS.labels("hit").inc(len(found))
        metrics.CACHE_LOOKUPS.labels("miss").inc(len(keys) - len(found))
        return found

    async def put(
        self,
        provider: Provider,
        entries: Sequence[tuple[str, ContactRecord | None]],
        fetched_at: datetime,
    ) -> None:
        """Keep `entries` (key, record or None for "none there") as read at `fetched_at`."""
        if not entries:
            return
        milliseconds = max(1, int(self.ttl.total_seconds() * 1000))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, record in dict(entries).items():
                    value = {"r": encode(record) if record else None, "t": fetched_at.isoformat()}
                    pipe.set(self._key(provider, key), orjson.dumps(value), px=milliseconds)
                await pipe.execute()
        except self._errors as exc:
            raise StoreUnavailable(f"redis did not answer ({type(exc).__name__})") from exc

    async def drop(self, entries: Sequence[tuple[Provider, str]]) -> None:
        """Forget `entries` (provider, key): a write changed them."""
        if not entries:
            return
        try:
            await self.redis.delete(*(self._key(p, key) for p, key in entries))
        except self._errors as exc:
            raise StoreUnavailable(f"redis did not answer ({type(exc).__name__})") from exc
