"""Writes fanned out to the providers, each provider's result told as it happened.

Connectors never raise from a write (a refusal or an outage is a FAILED result),
so a fan-out is a plain `gather`. A provider that cannot take a write answers
SKIPPED with the reason, and nothing is sent to it. After a write the request's
loaders forget what they read and keep the records the providers answered the
write with, so the payload's `contact` reads again only where a provider
answered without one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from gateway.domain.federation import Person
from gateway.domain.keys import PersonKey
from gateway.domain.normalize import normalize_email
from gateway.domain.records import ContactRecord, ContactWrite, Provider, WriteResult, WriteStatus
from gateway.store import StoreUnavailable
from resolvers.runtime.context import Context, Runtime

logger = logging.getLogger("contact_gateway.writes")

C = TypeVar("C")

NOT_ENABLED = "not enabled in this gateway"


def skipped(provider: Provider, reason: str) -> WriteResult:
    return WriteResult(provider, WriteStatus.SKIPPED, message=reason)


async def upsert(
    ctx: Context, write: ContactWrite, targets: Sequence[Provider]
) -> list[WriteResult]:
    """One contact written to every target provider at once, a result each, in target order."""
    writers = ctx.runtime.writers

    async def one(provider: Provider) -> WriteResult:
        writer = writers.get(provider)
        if writer is None:
            return skipped(
                provider, _unable(ctx.runtime, provider, f"{provider.name} has no API to write")
            )
        return await writer.upsert(write)

    results = list(await asyncio.gather(*(one(p) for p in targets)))
    await _remember(ctx, [(write, results)])
    ctx.loaders.after_write(results)
    return results


async def upsert_many(
    ctx: Context, writes: Sequence[ContactWrite], targets: Sequence[Provider]
) -> list[list[WriteResult]]:
    """Many contacts written through each provider's batch path; one row of results
    (in target order) per input, in input order."""
    writers = ctx.runtime.writers

    async def one(provider: Provider) -> list[WriteResult]:
        writer = writers.get(provider)
        if writer is None:
            return [
                skipped(
                    provider, _unable(ctx.runtime, provider, f"{provider.name} has no API to write")
                )
            ] * len(writes)
        return list(await writer.upsert_many(writes))

    per_provider = await asyncio.gather(*(one(p) for p in targets))
    rows = [[results[i] for results in per_provider] for i in range(len(writes))]
    await _remember(ctx, list(zip(writes, rows, strict=True)))
    ctx.loaders.after_write(r for results in per_provider for r in results)
    return rows


async def change(
    ctx: Context,
    person: Person,
    providers: Sequence[Provider] | None,
    connectors: Mapping[Provider, C],
    call: Callable[[C, ContactRecord], Awaitable[WriteResult]],
) -> list[WriteResult]:
    """A change to a known person at each provider that holds them (or the ones named):
    `call` with that provider's connector (from `connectors`, the runtime's map of the
    protocol the change needs) and the person's record there."""

    async def one(provider: Provider) -> WriteResult:
        record = person.source(provider)
        connector = connectors.get(provider)
        if connector is None:
            return skipped(
                provider,
                _unable(ctx.runtime, provider, f"{provider.name} has no API for this change"),
            )
        if record is None:
            return skipped(provider, f"the contact has no record in {provider.name}")
        return await call(connector, record)

    wanted = providers if providers is not None else [r.provider for r in person.sources]
    results = list(await asyncio.gather(*(one(p) for p in wanted)))
    await _forget_cached(ctx, [r for r in person.sources if r.provider in set(wanted)])
    ctx.loaders.after_write(results)
    return results


async def _remember(
    ctx: Context, items: Sequence[tuple[ContactWrite, Sequence[WriteResult]]]
) -> None:
    """Tell the store what was written (so `sources` shows Akita's and Interakt's
    records, and when each was written) and drop the cached records it changed."""
    identities, cache = ctx.runtime.identities, ctx.runtime.cache
    if identities is None and cache is None:
        return
    entries = []
    stale: list[tuple[Provider, str]] = []
    for write, results in items:
        email = normalize_email(write.email)
        keys = [("email", email)] if email else []
        if write.external_id:
            keys.append(("eid", write.external_id))
        written = []
        for result in results:
            if result.status not in (WriteStatus.CREATED, WriteStatus.UPDATED):
                continue
            remote_id = result.remote_id or email  # Interakt answers without an id
            if remote_id is None:
                continue
            written.append((result.provider, remote_id, write.values()))
            stale.append((result.provider, f"id:{remote_id}"))
            if email:
                stale.append((result.provider, f"email:{email}"))
        if keys and written:
            entries.append((keys, written))
    try:
        if identities is not None and entries:
            await identities.wrote_many(entries)
        if cache is not None and stale:
            await cache.drop(stale)
    except StoreUnavailable as exc:
        logger.warning("event=store_unavailable during=write msg=%s", str(exc).replace(" ", "_"))


async def _forget_cached(ctx: Context, records: Sequence[ContactRecord]) -> None:
    cache = ctx.runtime.cache
    if cache is None or not records:
        return
    stale = [(r.provider, f"id:{r.remote_id}") for r in records]
    stale += [(r.provider, f"email:{e}") for r in records if (e := normalize_email(r.email))]
    try:
        await cache.drop(stale)
    except StoreUnavailable as exc:
        logger.warning("event=store_unavailable during=write msg=%s", str(exc).replace(" ", "_"))


def result_key(
    write: ContactWrite, results: Sequence[WriteResult], runtime: Runtime
) -> PersonKey | None:
    """The key to read the written person back by: the email, else a readable record."""
    if write.email:
        return PersonKey.email(write.email)
    for result in results:
        written = result.status in (WriteStatus.CREATED, WriteStatus.UPDATED)
        if written and result.remote_id and result.provider in runtime.id_readers:
            return PersonKey.record(result.provider, result.remote_id)
    return None


def _unable(runtime: Runtime, provider: Provider, reason: str) -> str:
    """Why `provider` takes no part in a write: disabled, else `reason`."""
    return reason if runtime.enabled(provider) else NOT_ENABLED
