"""Writes fanned out to the providers, written down first, each result told as it happened.

Every mutation is an operation in the write journal (`gateway.store.journal`)
before the first provider call: what to write, and one leg per input and
provider. Connectors never raise from a write (a refusal or an outage is a
FAILED result that says whether another try may mend it), so a fan-out is a
plain wait, and then each leg is settled:

- done (CREATED, UPDATED, DELETED, SKIPPED) or refused for good: as it came;
- no answer came (the request may have reached the provider): read back where
  the provider can be read; the record there means it landed (UPDATED), no
  record means it did not;
- otherwise retriable (an outage, a 429, a timeout): QUEUED, with when it will
  be tried next; `resolvers.services.background` tries it again, with backoff
  and jitter, until it lands or `WritePolicy.retry_for` runs out.

Tries are safe to repeat: every upsert is keyed by email or external id
(Lunar Send, which cannot upsert, looks up first; an Adaptix upsert without an
email is written onto the contact the identity store knows for its external
id), an edit sets the values given, a delete that finds nothing has already
happened, tags are sets; only points, which add up, and UTM tags, each added
one more entry, are never queued once sent without an answer.

`preview` tells what an upsert would do without writing or journaling anything:
it reads what each provider holds and asks each connector's own plan.

After a write the request's loaders forget what they read and keep the records
the providers answered the write with, so the payload's `contact` reads again
only where a provider answered without one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.errors import ConnectorError
from connectors.protocol import EmailReader, IdWriter, Planner, Writer
from gateway.domain.federation import Person
from gateway.domain.keys import PersonKey
from gateway.domain.normalize import normalize_email, normalize_text
from gateway.domain.records import (
    ContactChange,
    ContactRecord,
    ContactStatus,
    ContactWrite,
    DoNotContactReason,
    Lifecycle,
    Provider,
    UtmWrite,
    WriteResult,
    WriteStatus,
)
from gateway.store import StoreUnavailable
from gateway.store.identities import new_id
from gateway.store.journal import LegKey, LegOutcome
from gateway.telemetry import metrics
from resolvers.runtime.context import Context, Runtime
from resolvers.runtime.errors import StoreError
from resolvers.runtime.policy import WritePolicy

logger = logging.getLogger("contact_gateway.writes")

NOT_ENABLED = "not enabled in this gateway"
READ_BACK = "the provider did not answer; read back, the record holds what was written"
STOPPING = "the gateway was stopping before the provider answered"
# A provider that did not answer a write may be slow to answer the read-back too;
# past this the leg is queued and read back when it is tried again.
READ_BACK_TIMEOUT = 3.0
UPSERTS = frozenset({"upsertContact", "upsertContacts", "startBulkUpsert"})
# Changes that add up: once sent, never sent again on a guess (points add, and each
# UTM tag added is one more entry).
NOT_REPEATABLE = frozenset({"addPoints", "addUtmTags"})


@dataclass(frozen=True, slots=True)
class Written:
    """What a write came to: one row of results per input (in target order), and the
    journal's id for the operation (made up, and kept nowhere, without a journal)."""

    rows: list[list[WriteResult]]
    operation_id: str


def in_precedence(runtime: Runtime, providers: Sequence[Provider]) -> list[Provider]:
    """`providers` in the configured precedence: the order every result row comes in."""
    rank = runtime.precedence.rank("")
    return sorted(providers, key=lambda p: rank.get(p, len(rank)))


def skipped(provider: Provider, reason: str) -> WriteResult:
    return WriteResult(provider, WriteStatus.SKIPPED, message=reason)


def _unable(runtime: Runtime, provider: Provider, reason: str) -> str:
    """Why `provider` takes no part in a write: disabled, else `reason`."""
    return reason if runtime.enabled(provider) else NOT_ENABLED


def write_of(values: Mapping[str, Any]) -> ContactWrite:
    """A `ContactWrite` from the journal's JSON of it (`ContactWrite.values`)."""
    return ContactWrite.of_values(values)


# The parts of a provider record a change needs (an edit: the names kept, the keys,
# and whether Interakt holds a member or a lead).
RECORD_PARTS = (
    "email",
    "first_name",
    "last_name",
    "external_id",
    "account_external_id",
    "lifecycle",
)


def record_json(record: ContactRecord) -> dict[str, Any]:
    """The part of a provider record a change needs, as the journal keeps it."""
    found: dict[str, Any] = {"remote_id": record.remote_id, "status": record.status}
    found.update({name: getattr(record, name) for name in RECORD_PARTS})
    return found


def record_of(provider: Provider, values: Mapping[str, Any]) -> ContactRecord:
    """The part of a provider record a change needs, from the journal's JSON."""
    return ContactRecord(
        provider=provider,
        remote_id=str(values["remote_id"]),
        status=ContactStatus.of(values.get("status")),
        email=values.get("email"),
        first_name=values.get("first_name"),
        last_name=values.get("last_name"),
        external_id=values.get("external_id"),
        account_external_id=values.get("account_external_id"),
        lifecycle=Lifecycle(values["lifecycle"]) if values.get("lifecycle") else None,
    )


def apply(
    runtime: Runtime, kind: str, provider: Provider, item: int, request: Mapping[str, Any]
) -> Awaitable[WriteResult]:
    """One leg's provider call, from the operation's request: the first try and every
    retry go through here, so a retry does exactly what the first try did."""
    if kind in UPSERTS:
        writer = runtime.writers.get(provider)
        if writer is None:
            reason = _unable(runtime, provider, f"{provider.name} has no API to write")
            return _ready(skipped(provider, reason))
        return _upserted(runtime, provider, writer, write_of(request["inputs"][item]))
    target = request.get("records", {}).get(provider.value)
    args = request.get("args", {})
    connector = runtime.changers[kind].get(provider)
    if connector is None:
        cannot = (
            "cannot delete contacts" if kind == "deleteContact" else "has no API for this change"
        )
        reason = _unable(runtime, provider, f"{provider.name} {cannot}")
        return _ready(skipped(provider, reason))
    if target is None:
        return _ready(skipped(provider, f"the contact has no record in {provider.name}"))
    record = record_of(provider, target)
    if kind == "deleteContact":
        return connector.delete(record)  # type: ignore[no-any-return]
    if kind == "updateContact":
        return connector.edit(record, ContactChange.of_json(args["patch"]))  # type: ignore[no-any-return]
    if kind == "tagContact":
        return connector.tag(record, add=args["tags"])  # type: ignore[no-any-return]
    if kind == "untagContact":
        return connector.tag(record, remove=args["tags"])  # type: ignore[no-any-return]
    if kind == "setDoNotContact":
        return connector.set_do_not_contact(  # type: ignore[no-any-return]
            record.remote_id,
            channel=args["channel"],
            enabled=args["enabled"],
            comments=args.get("comments"),
            reason=DoNotContactReason.of(args.get("reason")),
            channel_id=args.get("channel_id"),
        )
    if kind == "addUtmTags":
        return connector.add_utm_tags(  # type: ignore[no-any-return]
            record.remote_id, UtmWrite.of(args["utm"])
        )
    if kind == "removeUtmTag":
        return connector.remove_utm_tag(  # type: ignore[no-any-return]
            record.remote_id, args["utm_tag_id"]
        )
    return connector.add_points(  # type: ignore[no-any-return]
        record.remote_id,
        args["delta"],
        event_name=args.get("event_name"),
        action_name=args.get("action_name"),
    )


async def _ready(result: WriteResult) -> WriteResult:
    return result


async def _upserted(
    runtime: Runtime, provider: Provider, writer: Writer, write: ContactWrite
) -> WriteResult:
    known = await known_records(runtime, provider, [write])
    if known and isinstance(writer, IdWriter):
        return (await writer.upsert_by_ids([(known[0], write)]))[0]
    return await writer.upsert(write)


async def known_records(
    runtime: Runtime,
    provider: Provider,
    writes: Sequence[ContactWrite],
    *,
    any_writer: bool = False,
) -> dict[int, str]:
    """For writes without an email but with an external id: the remote id of the
    `provider` record the identity store knows for it, by write index. Asked only of a
    provider that can write by id (`IdWriter`), unless `any_writer`."""
    identities = runtime.identities
    connector = runtime.writers.get(provider)
    if identities is None or connector is None:
        return {}
    if not any_writer and not isinstance(connector, IdWriter):
        return {}
    wanted = {
        i: w.external_id
        for i, w in enumerate(writes)
        if w.external_id and (any_writer or not normalize_email(w.email))
    }
    if not wanted:
        return {}
    try:
        found = await identities.records_by_external_id(provider, list(wanted.values()))
    except StoreUnavailable as exc:
        # Unknown, then: the write goes as an upsert, as it would without a store.
        logger.warning("event=store_unavailable during=match msg=%s", str(exc).replace(" ", "_"))
        return {}
    return {i: found[eid] for i, eid in wanted.items() if eid in found}


# -- the three kinds of write -------------------------------------------------------------


async def upsert(ctx: Context, write: ContactWrite, targets: Sequence[Provider]) -> Written:
    """One contact written to every target provider at once."""
    request = {"inputs": [write.values()]}

    def send() -> dict[LegKey, Awaitable[WriteResult]]:
        return {(0, p): apply(ctx.runtime, "upsertContact", p, 0, request) for p in targets}

    return await _write(ctx, "upsertContact", request, [write], targets, send)


async def upsert_many(
    ctx: Context, writes: Sequence[ContactWrite], targets: Sequence[Provider]
) -> Written:
    """Many contacts, written through each provider's batch path where it has one."""
    request = {"inputs": [w.values() for w in writes]}

    def send() -> dict[Provider, Awaitable[list[WriteResult]]]:
        return {p: write_batch(ctx.runtime, p, writes) for p in targets}

    return await _write(ctx, "upsertContacts", request, writes, targets, send)


async def write_batch(
    runtime: Runtime, provider: Provider, writes: Sequence[ContactWrite]
) -> list[WriteResult]:
    """`writes` upserted at `provider`, through its batch path where it has one."""
    writer = runtime.writers.get(provider)
    if writer is None:
        reason = _unable(runtime, provider, f"{provider.name} has no API to write")
        return [skipped(provider, reason)] * len(writes)
    known = await known_records(runtime, provider, writes)
    if not known or not isinstance(writer, IdWriter):
        return list(await writer.upsert_many(writes))
    others = [i for i in range(len(writes)) if i not in known]
    edited, upserted = await asyncio.gather(
        writer.upsert_by_ids([(remote_id, writes[i]) for i, remote_id in known.items()]),
        writer.upsert_many([writes[i] for i in others]) if others else _none(),
    )
    results: dict[int, WriteResult] = dict(zip(known, edited, strict=True))
    results.update(zip(others, upserted, strict=True))
    return [results[i] for i in range(len(writes))]


async def _none() -> list[WriteResult]:
    return []


async def change(
    ctx: Context,
    kind: str,
    person: Person,
    providers: Sequence[Provider] | None,
    args: Mapping[str, Any],
) -> Written:
    """A change to a known person at each provider that holds them (or the ones named).

    A provider that could not be read now (an outage) still gets the change where the
    identity store knows the person's record there: it is then QUEUED like any write
    to a provider that is down, not skipped as if the record did not exist.
    """
    records = {r.provider.value: record_json(r) for r in person.sources}
    unread = {f.error.provider for f in ctx.failures if f.error.provider is not None}
    for provider, remote_id in await _known_links(ctx.runtime, person, unread):
        records.setdefault(provider.value, {"remote_id": remote_id, "email": None, "status": None})
    if kind == "updateContact":
        # Records no provider lets the gateway read (Akita, Interakt): as it wrote them.
        for source in person.written:
            if source.provider.value not in records:
                records[source.provider.value] = written_json(source.remote_id, source.written)
    if providers is not None:
        wanted = list(providers)
    elif kind == "deleteContact":
        # A row for every provider the delete could concern: also those whose API
        # cannot delete (Akita, Interakt) and those without a record of the person.
        wanted = [p for p in Provider if p.value in records or ctx.runtime.enabled(p)]
    else:
        wanted = [p for p in Provider if p.value in records]
    request = {"records": records, "args": dict(args), "person": person.id}

    def send() -> dict[LegKey, Awaitable[WriteResult]]:
        return {(0, p): apply(ctx.runtime, kind, p, 0, request) for p in wanted}

    written = await _write(ctx, kind, request, [None], wanted, send)
    stale = [r for r in person.sources if r.provider in set(wanted)]
    new_email = args.get("patch", {}).get("email")
    await _forget_cached(ctx, stale, [(p, new_email) for p in wanted if new_email])
    return written


def written_json(remote_id: str, written: Mapping[str, Any]) -> dict[str, Any]:
    """A record the gateway wrote, as a change needs it: from what was written."""
    found: dict[str, Any] = {"remote_id": remote_id, "status": None}
    found.update({name: written.get(name) for name in RECORD_PARTS})
    return found


async def _known_links(
    runtime: Runtime, person: Person, unread: set[Provider]
) -> list[tuple[Provider, str]]:
    """The person's records the identity store knows of at providers that could not be
    read now."""
    if runtime.identities is None or person.id is None or not unread:
        return []
    try:
        stored = await runtime.identities.persons([person.id])
    except StoreUnavailable:
        return []
    found = stored.get(person.id)
    if found is None:
        return []
    return [(Provider(p), remote_id) for p, remote_id in found.links if Provider(p) in unread]


async def journal_only(ctx: Context, kind: str, request: Mapping[str, Any]) -> str:
    """Write down an operation that calls no provider (a merge, an unlink)."""
    journal = ctx.runtime.journal
    if journal is None:
        return new_id()
    caller = ctx.principal.name if ctx.principal else None
    try:
        return await journal.begin(kind, request, [], caller=caller)
    except StoreUnavailable as exc:
        raise StoreError(str(exc)) from None


async def _write(
    ctx: Context,
    kind: str,
    request: Mapping[str, Any],
    inputs: Sequence[ContactWrite | None],
    targets: Sequence[Provider],
    send: Callable[[], Mapping[Any, Awaitable[Any]]],
) -> Written:
    """Write the operation down, then have `send()`'s calls made (keyed by leg, or by
    provider for batches) and their results settled and written down.

    Once written down, the write is carried out to the end even when the request is
    cancelled (its client hung up, or it ran out of time): what it did is always in
    the journal, and what it could not do is queued.
    """
    targets = in_precedence(ctx.runtime, targets)
    items = range(len(inputs))
    operation_id = await _begin(ctx, kind, request, items, targets)
    task = asyncio.ensure_future(_carry_out(ctx, kind, operation_id, inputs, targets, send))
    ctx.runtime.in_flight.add(task)
    task.add_done_callback(ctx.runtime.in_flight.discard)
    rows = await asyncio.shield(task)
    return Written(rows, operation_id)


async def _carry_out(
    ctx: Context,
    kind: str,
    operation_id: str,
    inputs: Sequence[ContactWrite | None],
    targets: Sequence[Provider],
    send: Callable[[], Mapping[Any, Awaitable[Any]]],
) -> list[list[WriteResult]]:
    calls = send()
    answers = await gather_until_stopped(ctx.runtime, calls, lambda key: _stopped(key, inputs))
    results: dict[LegKey, WriteResult] = {}
    for key, answer in answers.items():
        if isinstance(key, Provider):  # a batch: one result per input
            results.update({(i, key): r for i, r in enumerate(answer)})
        else:
            results[key] = answer
    settled = await settle(ctx.runtime, kind, results, dict(enumerate(inputs)), attempts=1)
    await _finish(ctx, operation_id, settled, every_leg=True)
    rows = [[settled[(i, p)][0] for p in targets] for i in range(len(inputs))]
    if kind in UPSERTS:
        written = [(w, row) for w, row in zip(inputs, rows, strict=True) if w is not None]
        await remember(ctx.runtime, written)
    ctx.loaders.after_write(r for row in rows for r in row)
    return rows


def stopped(key: LegKey) -> WriteResult:
    """The answer for a leg cut short because the gateway is stopping (to be queued)."""
    return WriteResult(
        key[1], WriteStatus.FAILED, message=STOPPING, retriable=True, outcome_unknown=True
    )


def _stopped(key: Any, inputs: Sequence[Any]) -> Any:
    """`stopped` for a call keyed by leg, or for a batch (one answer per input)."""
    if isinstance(key, Provider):
        return [stopped((i, key)) for i in range(len(inputs))]
    return stopped(key)


async def gather_until_stopped(
    runtime: Runtime, calls: Mapping[Any, Awaitable[Any]], stopped: Callable[[Any], Any]
) -> dict[Any, Any]:
    """Every call's answer; once the gateway is stopping, calls still unanswered after
    `stop_grace` are cancelled and answered with `stopped(key)` (to be queued)."""
    tasks = {key: asyncio.ensure_future(call) for key, call in calls.items()}
    if not tasks:
        return {}
    stopping = runtime.stopping
    everything = asyncio.ensure_future(asyncio.wait(tasks.values()))
    if not stopping.is_set():
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({everything, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
    if not everything.done():
        await asyncio.wait({everything}, timeout=runtime.writes.stop_grace)
    everything.cancel()
    answers = {}
    for key, task in tasks.items():
        if task.done() and not task.cancelled():
            answers[key] = task.result()
        else:
            task.cancel()
            answers[key] = stopped(key)
    return answers


# -- what a write would do ----------------------------------------------------------


async def preview(
    ctx: Context, write: ContactWrite, targets: Sequence[Provider]
) -> list[WriteResult]:
    """What `upsert` would report at each target, in precedence order, without writing:
    each provider's record is read where it can be (by email; by the identity store's
    link for an external id where a write would match by it), and the connector's own
    plan says what it would do with it."""
    targets = in_precedence(ctx.runtime, targets)
    return list(await asyncio.gather(*(_previewed(ctx, p, write) for p in targets)))


async def _previewed(ctx: Context, provider: Provider, write: ContactWrite) -> WriteResult:
    runtime = ctx.runtime
    writer = runtime.writers.get(provider)
    if writer is None:
        return skipped(provider, _unable(runtime, provider, f"{provider.name} has no API to write"))
    if not isinstance(writer, Planner):
        return skipped(provider, f"{provider.name} cannot tell what a write would do")
    try:
        existing = await _existing(ctx, provider, write)
    except ConnectorError as exc:
        return WriteResult(
            provider,
            WriteStatus.FAILED,
            message=f"could not read what {provider.name} holds: {exc.message}",
        )
    result = await writer.plan(write, existing)
    if existing is not None and result.status is WriteStatus.UPDATED:
        result = replace(result, remote_id=existing.remote_id)
    return result


async def _existing(ctx: Context, provider: Provider, write: ContactWrite) -> ContactRecord | None:
    """The record an upsert of `write` would meet at `provider`, as far as can be told."""
    runtime = ctx.runtime
    email = normalize_email(write.email)
    readable = provider in runtime.email_readers
    # Where a write matches by external id (an IdWriter without an email) or the provider
    # cannot be read at all, the identity store knows what the gateway wrote.
    by_store = not readable or (not email and isinstance(runtime.writers.get(provider), IdWriter))
    if by_store:
        known = await known_records(runtime, provider, [write], any_writer=True)
        if not known:
            return None
        loader = ctx.loaders.by_id.get(provider)
        if loader is None:
            return ContactRecord(provider, known[0], external_id=write.external_id)
        return await loader.load(known[0])
    if email is None:
        return None
    return await ctx.loaders.by_email[provider].load(email)


# -- settling a leg ---------------------------------------------------------------------


async def settle(
    runtime: Runtime,
    kind: str,
    results: Mapping[LegKey, WriteResult],
    writes: Mapping[int, ContactWrite | None],
    *,
    attempts: int | Mapping[LegKey, int],
    created_at: datetime | None = None,
) -> dict[LegKey, tuple[WriteResult, LegOutcome]]:
    """Each leg's result as the client is told it, and as the journal keeps it."""
    policy = runtime.writes
    now = datetime.now(UTC)
    settled: dict[LegKey, tuple[WriteResult, LegOutcome]] = {}
    unknown = [
        key
        for key, r in results.items()
        if r.status is WriteStatus.FAILED and r.outcome_unknown and kind in UPSERTS
    ]
    found = await _read_back(runtime, unknown, writes)
    for key, result in results.items():
        tries = attempts if isinstance(attempts, int) else attempts.get(key, 1)
        if kind == "deleteContact" and tries > 1 and _not_found(result):
            # Tried again after an answer that never came: nothing to delete means the
            # first try did. On a first try "not found" stays a failure: nothing was.
            result = replace(result, status=WriteStatus.DELETED, message="already deleted")
        if key in found and _shows(runtime, found[key], writes.get(key[0])):
            record = found[key]
            result = WriteResult(
                result.provider,
                WriteStatus.UPDATED,
                remote_id=record.remote_id,
                message=READ_BACK,
                dropped_fields=result.dropped_fields,
                contact=record,
            )
        if result.status is WriteStatus.FAILED and _worth_another_try(kind, result):
            expired = created_at is not None and now - created_at > timedelta(
                seconds=policy.retry_for
            )
            if expired or runtime.journal is None:
                reason = "gave up after trying for the configured time" if expired else None
                message = "; ".join(m for m in (result.message, reason) if m) or None
                result = replace(result, message=message)
            else:
                when = now + timedelta(seconds=_delay(policy, tries, result.retry_after))
                message = f"{result.message}; queued: tried again at {when:%Y-%m-%d %H:%M:%S} UTC"
                result = replace(result, status=WriteStatus.QUEUED, message=message)
                settled[key] = (result, LegOutcome("queued", None, message, (), when))
                continue
        settled[key] = (
            result,
            LegOutcome(
                result.status.value, result.remote_id, result.message, result.dropped_fields
            ),
        )
    return settled


def _not_found(result: WriteResult) -> bool:
    return result.status is WriteStatus.FAILED and (result.message or "").lower() == "not found"


def _worth_another_try(kind: str, result: WriteResult) -> bool:
    if not (result.retriable or result.outcome_unknown):
        return False
    # Points add up: sent once without an answer, they may have been added already.
    return not (kind in NOT_REPEATABLE and result.outcome_unknown)


def _delay(policy: WritePolicy, attempts: int, retry_after: float | None) -> float:
    """Seconds to wait before try number `attempts + 1`: what the provider asked, else
    exponential backoff with jitter."""
    if retry_after is not None:
        return min(retry_after, policy.max_retry_interval)
    base = min(policy.max_retry_interval, policy.first_retry * 2 ** (attempts - 1))
    return float(base * random.uniform(0.5, 1.0))


# Fields a read-back compares with what the write set (text compared as `provenance` does).
_READ_BACK_FIELDS = ("first_name", "last_name", "company", "job_title", "external_id")


def _shows(runtime: Runtime, record: ContactRecord, write: ContactWrite | None) -> bool:
    """Whether `record` holds what `write` set, where the provider stores it: a contact
    found by the write's email proves nothing by being there (an upsert mostly goes to
    one that was), only by holding the write's values. Not shown: the leg is queued and
    the upsert sent again, which lands it or changes nothing."""
    writer = runtime.writers.get(record.provider)
    if write is None or writer is None:
        return False
    stored = writer.writable_fields
    for name in _READ_BACK_FIELDS:
        value = getattr(write, name)
        if (
            value is not None
            and name in stored
            and normalize_text(getattr(record, name)) != normalize_text(value)
        ):
            return False
    if write.phones and "phones" in stored:
        held = {_digits(p) for p in record.phones}
        if _digits(write.phones[0]) not in held:
            return False
    return True


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


async def _read_back(
    runtime: Runtime, keys: Sequence[LegKey], writes: Mapping[int, ContactWrite | None]
) -> dict[LegKey, ContactRecord]:
    """For writes whose answer never came, the record now at a provider that can be
    read, by the write's email (`_shows` tells whether it holds the write)."""
    wanted: dict[Provider, dict[str, list[LegKey]]] = {}
    if runtime.stopping.is_set():
        return {}  # no time to ask: the legs are queued, and read back when tried again
    for item, provider in keys:
        write = writes.get(item)
        email = normalize_email(write.email) if write is not None else None
        if email and isinstance(runtime.email_readers.get(provider), EmailReader):
            wanted.setdefault(provider, {}).setdefault(email, []).append((item, provider))
    found: dict[LegKey, ContactRecord] = {}

    async def one(provider: Provider, emails: dict[str, list[LegKey]]) -> None:
        reader = runtime.email_readers[provider]
        try:
            async with asyncio.timeout(READ_BACK_TIMEOUT):
                records = await reader.fetch_by_emails(list(emails))
        except (ConnectorError, TimeoutError):  # still unknown: the leg is queued
            return
        for email, keys_for in emails.items():
            if email in records:
                found.update(dict.fromkeys(keys_for, records[email]))

    await asyncio.gather(*(one(p, e) for p, e in wanted.items()))
    return found


# -- the journal ----------------------------------------------------------------------


async def _begin(
    ctx: Context,
    kind: str,
    request: Mapping[str, Any],
    items: Sequence[int],
    targets: Sequence[Provider],
) -> str:
    journal = ctx.runtime.journal
    if journal is None:
        return new_id()
    caller = ctx.principal.name if ctx.principal else None
    request = {**request, "providers": [p.value for p in targets]}
    keys = [(i, p) for i in items for p in targets]
    try:
        operation_id = await journal.begin(
            kind,
            request,
            keys,
            inputs=len(items),
            caller=caller,
            lease=ctx.runtime.writes.lease,
        )
    except StoreUnavailable as exc:
        raise StoreError(
            f"the write journal cannot be written, so nothing was sent to any provider: {exc}"
        ) from None
    ctx.runtime.holds.add(operation_id, keys)
    return operation_id


async def _finish(
    ctx: Context,
    operation_id: str,
    settled: Mapping[LegKey, tuple[WriteResult, LegOutcome]],
    *,
    every_leg: bool,
) -> None:
    for result, _ in settled.values():
        ctx.write_legs[result.status.value] += 1
    count_legs(settled.values())
    journal = ctx.runtime.journal
    if journal is None:
        return
    outcomes = {key: outcome for key, (_, outcome) in settled.items()}
    try:
        await journal.record(operation_id, outcomes, every_leg=every_leg)
    except StoreUnavailable as exc:
        # The client still hears what happened; the journal's legs stay open and are
        # tried again (safely: every write is an upsert) once the store is back.
        logger.warning(
            "event=store_unavailable during=journal operation=%s msg=%s",
            operation_id,
            str(exc).replace(" ", "_"),
        )
    finally:
        # Not held any longer: written down, or (the store failing) left for the lease
        # to run out, after which the legs are queued and tried again.
        ctx.runtime.holds.drop(operation_id, outcomes)


def count_legs(settled: Iterable[tuple[WriteResult, LegOutcome]]) -> None:
    """Count settled legs in the metrics, by provider and status."""
    for result, _ in settled:
        metrics.WRITE_LEGS.labels(result.provider.value, result.status.value).inc()


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


# -- what the store learns from a write -------------------------------------------------


async def remember(
    runtime: Runtime, items: Sequence[tuple[ContactWrite | None, Sequence[WriteResult]]]
) -> None:
    """Tell the store what was written (so `sources` shows Akita's and Interakt's
    records, and when each was written) and drop the cached records it changed."""
    identities, cache = runtime.identities, runtime.cache
    if identities is None and cache is None:
        return
    entries = []
    stale: list[tuple[Provider, str]] = []
    for write, results in items:
        if write is None:
            continue
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


async def _forget_cached(
    ctx: Context,
    records: Sequence[ContactRecord],
    emails: Sequence[tuple[Provider, str]] = (),
) -> None:
    cache = ctx.runtime.cache
    if cache is None or not (records or emails):
        return
    stale = [(r.provider, f"id:{r.remote_id}") for r in records]
    stale += [(r.provider, f"email:{e}") for r in records if (e := normalize_email(r.email))]
    stale += [(p, f"email:{e}") for p, email in emails if (e := normalize_email(email))]
    try:
        await cache.drop(stale)
    except StoreUnavailable as exc:
        logger.warning("event=store_unavailable during=write msg=%s", str(exc).replace(" ", "_"))
