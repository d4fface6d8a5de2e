"""Bulk jobs: many upserts written down at once and carried out in the background
(`resolvers.services.background`), and how far along they are."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from connectors.protocol import BatchWriter
from gateway.domain.records import ContactWrite, Provider
from gateway.store import StoreUnavailable
from gateway.store.journal import BULK, DONE, OPEN, OperationView
from resolvers.runtime.context import Context, Runtime
from resolvers.runtime.errors import StoreError


async def start(ctx: Context, writes: Sequence[ContactWrite], targets: Sequence[Provider]) -> str:
    """Write a bulk job down (every leg pending) and wake the runner; its id."""
    journal = ctx.runtime.journal
    if journal is None:
        raise StoreError("bulk jobs need the store ([store] is disabled)")
    request = {"inputs": [w.values() for w in writes], "providers": [p.value for p in targets]}
    caller = ctx.principal.name if ctx.principal else None
    try:
        job = await journal.begin(
            BULK,
            request,
            [(i, p) for i in range(len(writes)) for p in targets],
            inputs=len(writes),
            caller=caller,
        )
    except StoreUnavailable as exc:
        raise StoreError(f"the job could not be written down, so it did not start: {exc}") from None
    ctx.runtime.bulk_started.set()
    return job


def estimate(
    runtime: Runtime, view: OperationView, progress: Mapping[Provider, Counter[str]]
) -> timedelta | None:
    """How long the job should still take: the slowest provider's open legs at its
    pace so far, or (before its first batch is done) at its configured rate limit.
    None when no provider's pace is known."""
    now = datetime.now(UTC)
    elapsed = (now - view.started_at).total_seconds() if view.started_at else 0.0
    longest: float | None = None
    for provider, counts in progress.items():
        left = sum(counts[s] for s in OPEN)
        if not left:
            continue
        done = sum(counts[s] for s in DONE) + counts["failed"]
        seconds: float | None = None
        if done and elapsed > 0:
            seconds = left * elapsed / done
        else:
            connector = runtime.connectors.get(provider)
            limit = getattr(getattr(connector, "settings", None), "rate_limit", None)
            if limit is not None:
                calls = float(getattr(connector, "calls_per_write", 1))
                if isinstance(connector, BatchWriter):
                    calls = 1 / connector.write_batch_limit
                seconds = left * calls * limit.interval
        if seconds is not None:
            longest = max(longest or 0.0, seconds)
    return timedelta(seconds=longest) if longest is not None else None
