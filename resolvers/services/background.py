"""The write journal's background work, one task per gateway process.

- **Retries:** queued legs whose time has come are taken (each by one process,
  under a lease) and tried again exactly as the first try was made
  (`writes.apply`), then settled as a first try is: done, read back, queued
  again with a longer wait, or FAILED once `WritePolicy.retry_for` has passed.
- **Bulk jobs:** a job's legs wait `pending` in the journal; each provider's
  share is taken in batches (`WritePolicy.bulk_chunk`, at least the provider's
  batch size) and written through the same batch path as `upsertContacts`, so
  every provider runs at its own pace. Several processes share one job.
- **Leases:** the legs this process works on are renewed every third of
  `WritePolicy.lease`; legs whose process died are queued again once their
  lease runs out (a bulk job's go back to its runner).
- **Retention:** finished operations older than `WritePolicy.retention` are
  deleted, once an hour.

`run(runtime)` does all of it until `runtime.stopping` is set; work in flight
then gets `WritePolicy.stop_grace` to finish, and what does not is queued for
the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.protocol import BatchWriter
from gateway.domain.records import ContactWrite, Provider, WriteResult
from gateway.store import StoreUnavailable
from gateway.store.journal import BULK, DueLeg, Journal, LegKey
from gateway.telemetry import metrics
from resolvers.runtime.context import Runtime
from resolvers.services import writes

logger = logging.getLogger("contact_gateway.writes")

# Queued legs taken per look; a provider's own pacing spaces their calls.
RETRY_BATCH = 100
PRUNE_EVERY = 3600.0
BATCHES_IN_FLIGHT = 2
# How often the queue's size and age are measured for the metrics.
MEASURE_EVERY = 5.0


async def run(runtime: Runtime) -> None:
    """Retries, bulk jobs, lease renewal and pruning, until the gateway stops."""
    journal = runtime.journal
    if journal is None:
        return
    leases = asyncio.ensure_future(_leases(runtime, journal))
    work = [
        asyncio.ensure_future(_retries(runtime, journal)),
        asyncio.ensure_future(_bulk_jobs(runtime, journal)),
    ]
    try:
        await asyncio.gather(*work)
    finally:
        for task in [*work, leases]:
            task.cancel()
        await asyncio.gather(*work, leases, return_exceptions=True)


async def _pause(runtime: Runtime, seconds: float) -> None:
    """Sleep `seconds`, or less when the gateway starts stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(runtime.stopping.wait(), timeout=seconds)


def _store_trouble(during: str, exc: Exception) -> None:
    logger.warning("event=store_unavailable during=%s msg=%s", during, str(exc).replace(" ", "_"))


# -- retries ----------------------------------------------------------------------------


async def _retries(runtime: Runtime, journal: Journal) -> None:
    policy = runtime.writes
    pruned = measured = 0.0
    while not runtime.stopping.is_set():
        due: list[DueLeg] = []
        try:
            if time.monotonic() - measured > min(MEASURE_EVERY, policy.poll_interval * 10):
                measured = time.monotonic()
                queued, oldest = await journal.queue_stats()
                metrics.QUEUED_LEGS.set(queued)
                age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
                metrics.OLDEST_QUEUED_SECONDS.set(max(age, 0.0))
            await journal.requeue_expired()
            due = await journal.claim_due(limit=RETRY_BATCH, lease=policy.lease)
            if time.monotonic() - pruned > PRUNE_EVERY:
                pruned = time.monotonic()
                before = datetime.now(UTC) - timedelta(seconds=policy.retention)
                await journal.prune(before=before)
        except StoreUnavailable as exc:
            _store_trouble("retries", exc)
        if due:
            await retry(runtime, journal, due)
        else:
            await _pause(runtime, policy.poll_interval)


async def retry(runtime: Runtime, journal: Journal, due: Sequence[DueLeg]) -> None:
    """Try `due` legs again (held by this process) and write down what came of it."""
    for leg in due:
        runtime.holds.add(leg.operation_id, [(leg.item, leg.provider)])
    calls: dict[Any, Awaitable[WriteResult]] = {
        n: writes.apply(runtime, leg.kind, leg.provider, leg.item, leg.request)
        for n, leg in enumerate(due)
    }
    answers = await writes.gather_until_stopped(
        runtime, calls, lambda n: writes.stopped((due[n].item, due[n].provider))
    )
    # Settled, written down and remembered per operation, not per leg: one read-back
    # per provider and one journal transaction for all of an operation's due legs.
    by_operation: dict[str, list[int]] = {}
    for n, leg in enumerate(due):
        by_operation.setdefault(leg.operation_id, []).append(n)
    for operation_id, numbers in by_operation.items():
        first = due[numbers[0]]
        keys: list[LegKey] = [(due[n].item, due[n].provider) for n in numbers]
        inputs: dict[int, ContactWrite | None] = {
            due[n].item: _input(due[n].request, due[n].item)
            if first.kind in writes.UPSERTS
            else None
            for n in numbers
        }
        settled = await writes.settle(
            runtime,
            first.kind,
            {key: answers[n] for key, n in zip(keys, numbers, strict=True)},
            inputs,
            attempts={key: due[n].attempts + 1 for key, n in zip(keys, numbers, strict=True)},
            created_at=first.created_at,
        )
        writes.count_legs(settled.values())
        try:
            await journal.record(
                operation_id, {key: outcome for key, (_, outcome) in settled.items()}
            )
        except StoreUnavailable as exc:
            _store_trouble("retries", exc)
        finally:
            runtime.holds.drop(operation_id, keys)
        await writes.remember(
            runtime, [(inputs[item], [settled[(item, provider)][0]]) for item, provider in keys]
        )
        for key, n in zip(keys, numbers, strict=True):
            logger.info(
                "event=write_retried operation=%s provider=%s attempt=%d status=%s",
                operation_id,
                key[1].value,
                due[n].attempts + 1,
                settled[key][1].status,
            )


def _input(request: Any, item: int) -> ContactWrite:
    return writes.write_of(request["inputs"][item])


# -- bulk jobs --------------------------------------------------------------------------


async def _bulk_jobs(runtime: Runtime, journal: Journal) -> None:
    running: dict[str, asyncio.Future[None]] = {}
    try:
        while not runtime.stopping.is_set():
            runtime.bulk_started.clear()
            try:
                open_jobs = await journal.open_jobs()
            except StoreUnavailable as exc:
                _store_trouble("bulk", exc)
                open_jobs = []
            for job in open_jobs:
                if job not in running:
                    running[job] = asyncio.ensure_future(run_job(runtime, journal, job))
            for job in [j for j, task in running.items() if task.done()]:
                task = running.pop(job)
                if not task.cancelled() and task.exception() is not None:
                    logger.error("event=bulk_failed job=%s", job, exc_info=task.exception())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    _first(runtime.stopping.wait(), runtime.bulk_started.wait()),
                    timeout=runtime.writes.poll_interval,
                )
    finally:
        # Stopping: each job's batches in flight get the grace to finish (their legs
        # are queued when they do not), then the jobs end.
        if running:
            await asyncio.gather(*running.values(), return_exceptions=True)


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def run_job(runtime: Runtime, journal: Journal, job: str) -> None:
    """Write a bulk job's pending legs, each provider's at its own pace, until none is
    left or the gateway stops."""
    request = await journal.request(job)
    if request is None:
        return
    inputs = [writes.write_of(values) for values in request["inputs"]]
    providers = [Provider(p) for p in request["providers"]]
    # Two batches in flight per provider: while one finishes (its last, slowest calls),
    # the next already keeps the provider's pace, so no rate limit goes unused.
    await asyncio.gather(
        *(
            _run_share(runtime, journal, job, p, inputs)
            for p in providers
            for _ in range(BATCHES_IN_FLIGHT)
        )
    )


async def _run_share(
    runtime: Runtime, journal: Journal, job: str, provider: Provider, inputs: list[ContactWrite]
) -> None:
    policy = runtime.writes
    writer = runtime.writers.get(provider)
    batch = writer.write_batch_limit if isinstance(writer, BatchWriter) else 0
    chunk = max(policy.bulk_chunk, batch)
    while not runtime.stopping.is_set():
        items = await journal.claim_items(job, provider, limit=chunk, lease=policy.lease)
        if not items:
            return
        keys = [(i, provider) for i in items]
        runtime.holds.add(job, keys)
        try:
            await _write_chunk(runtime, journal, job, provider, items, inputs)
        finally:
            runtime.holds.drop(job, keys)


async def _write_chunk(
    runtime: Runtime,
    journal: Journal,
    job: str,
    provider: Provider,
    items: list[int],
    inputs: list[ContactWrite],
) -> None:
    batch = [inputs[i] for i in items]
    answers = await writes.gather_until_stopped(
        runtime,
        {provider: writes.write_batch(runtime, provider, batch)},
        lambda _: [writes.stopped((i, provider)) for i in items],
    )
    results = {(i, provider): r for i, r in zip(items, answers[provider], strict=True)}
    settled = await writes.settle(runtime, BULK, results, {i: inputs[i] for i in items}, attempts=1)
    writes.count_legs(settled.values())
    await journal.record(job, {key: outcome for key, (_, outcome) in settled.items()})
    await writes.remember(runtime, [(inputs[i], [settled[(i, provider)][0]]) for i in items])


# -- leases -----------------------------------------------------------------------------


async def _leases(runtime: Runtime, journal: Journal) -> None:
    """Renew the leases of what this process works on, every third of a lease."""
    policy = runtime.writes
    while True:
        await asyncio.sleep(policy.lease / 3)
        try:
            await journal.renew(runtime.holds, lease=policy.lease)
        except StoreUnavailable as exc:
            _store_trouble("leases", exc)
