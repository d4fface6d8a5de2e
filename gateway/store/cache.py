"""The record cache: provider records read lately, kept for `[cache] ttl` seconds.

A lookup (by email or by the provider's id) within the ttl is answered from
here instead of asking the provider again, including the answer "this provider
has no such contact". A write through the gateway drops the entries it
touched. `fetched_at` travels with each record, so `Source.fetchedAt` says how
old an answer is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Executable, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from gateway.domain.records import ContactRecord, Provider
from gateway.store.codec import decode, encode
from gateway.store.engine import Store
from gateway.store.tables import record_cache
from gateway.telemetry import metrics

# Puts between two sweeps of expired entries.
SWEEP_EVERY = 500


def email_key(email: str) -> str:
    return f"email:{email}"


def id_key(remote_id: str) -> str:
    return f"id:{remote_id}"


def _upsert(statement: postgresql.Insert | sqlite.Insert) -> Executable:
    """`statement` (an insert of entries) replacing what is stored under their
    (provider, key)."""
    return statement.on_conflict_do_update(
        index_elements=[record_cache.c.provider, record_cache.c.key],
        set_={
            "remote_id": statement.excluded.remote_id,
            "record": statement.excluded.record,
            "fetched_at": statement.excluded.fetched_at,
        },
    )


# Built once, executed with parameters: a statement made per call with literal values
# costs more to build than SQLite takes to run it.
_GET = (
    select(record_cache.c.key, record_cache.c.record, record_cache.c.fetched_at)
    .where(record_cache.c.provider == bindparam("provider"))
    .where(record_cache.c.key.in_(bindparam("keys", expanding=True)))
)
_PUT = {
    "postgresql": _upsert(postgresql.insert(record_cache)),
    "sqlite": _upsert(sqlite.insert(record_cache)),
}
_SWEEP = delete(record_cache).where(record_cache.c.fetched_at < bindparam("before"))
_DROP = (
    delete(record_cache)
    .where(record_cache.c.provider == bindparam("p"))
    .where(record_cache.c.key == bindparam("k"))
)


class RecordCache:
    """Recently read provider records, in the store.

    Args:
        store: the open store.
        ttl: seconds an entry answers lookups.
    """

    def __init__(self, store: Store, *, ttl: float) -> None:
        self.store = store
        self.ttl = timedelta(seconds=ttl)
        self._puts = 0

    async def get(
        self, provider: Provider, keys: Sequence[str]
    ) -> dict[str, tuple[ContactRecord | None, datetime]]:
        """Fresh entries for `keys`: (the record, or None when the provider had none;
        when it was read)."""
        if not keys:
            return {}
        oldest = datetime.now(UTC) - self.ttl

        def read(connection: Connection) -> dict[str, tuple[ContactRecord | None, datetime]]:
            found: dict[str, tuple[ContactRecord | None, datetime]] = {}
            for start in range(0, len(keys), 300):
                rows = connection.execute(
                    _GET, {"provider": provider.value, "keys": list(keys[start : start + 300])}
                )
                for row in rows:
                    fetched = _aware(row.fetched_at)
                    if fetched < oldest:
                        continue
                    record = decode(row.record) if row.record is not None else None
                    if record is not None:
                        record.fetched_at = fetched
                    found[row.key] = (record, fetched)
            return found

        found = await self.store.run(read)
        metrics.CACHE_LOOKUPS.labels("hit").inc(len(found))
        metrics.CACHE_LOOKUPS.labels("miss").inc(len(keys) - len(found))
        return found

    async def put(
        self,
        provider: Provider,
        entries: Sequence[tuple[str, ContactRecord | None]],
        fetched_at: datetime,
    ) -> None:
        """Keep `entries` (key, record or None for "none there") as read at `fetched_at`;
        every `SWEEP_EVERY` entries, expired ones are deleted in the same transaction."""
        if not entries:
            return
        rows = [
            {
                "provider": provider.value,
                "key": key,
                "remote_id": record.remote_id if record is not None else None,
                "record": encode(record) if record is not None else None,
                "fetched_at": fetched_at,
            }
            for key, record in dict(entries).items()
        ]
        self._puts += len(rows)
        sweep = self._puts >= SWEEP_EVERY
        if sweep:
            self._puts = 0

        def write(connection: Connection) -> None:
            connection.execute(_PUT[connection.dialect.name], rows)
            if sweep:
                connection.execute(_SWEEP, {"before": datetime.now(UTC) - self.ttl})

        await self.store.run(write)

    async def drop(self, entries: Sequence[tuple[Provider, str]]) -> None:
        """Forget `entries` (provider, key): a write changed them."""
        if not entries:
            return
        params: list[dict[str, Any]] = [{"p": p.value, "k": key} for p, key in entries]

        def write(connection: Connection) -> None:
            connection.execute(_DROP, params)

        await self.store.run(write)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
