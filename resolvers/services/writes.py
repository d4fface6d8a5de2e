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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from gateway.domain.federation import Person
from gateway.domain.keys import PersonKey
from gateway.domain.records import ContactRecord, ContactWrite, Provider, WriteResult, WriteStatus
from resolvers.runtime.context import Context, Runtime

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
    ctx.loaders.after_write(r for results in per_provider for r in results)
    return [[results[i] for results in per_provider] for i in range(len(writes))]


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
    ctx.loaders.after_write(results)
    return results


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
