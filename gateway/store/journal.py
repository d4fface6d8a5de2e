"""The write journal: every mutation, written down before the first provider call.

An operation is what a client asked (its input, the providers it goes to) and
one leg per input and provider, each with its state:

    pending    not tried yet (a bulk job's legs wait here)
    running    being tried by some process, which holds it until `lease_until`
    created, updated, deleted, skipped     done, as the provider said
    queued     failed in a way another try may mend; tried again at `next_attempt_at`
    failed     failed for good (the provider refused, or retrying ran out of time)

Because the journal is written first, a process killed in the middle of a
fan-out leaves legs `running` behind; once their lease runs out any process
queues them again (`requeue_expired`). Several processes share the work through
leases: a leg is held by one process at a time.

Idempotency keys live here too: a key, the hash of the request it came with,
and the first answer to replay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway.domain.records import Provider
from gateway.store.engine import Store
from gateway.store.identities import new_id
from gateway.store.tables import idempotency_keys, legs, operations

LegKey = tuple[int, Provider]

DONE = frozenset({"created", "updated", "deleted", "skipped"})
FINAL = DONE | {"failed"}
OPEN = frozenset({"pending", "running", "queued"})
PROBLEMS = frozenset({"failed", "queued"})
BULK = "startBulkUpsert"
# Legs a transaction may write and still be done on the event loop (`Store.run`).
SMALL = 20
# Legs written by one INSERT: a bulk job has up to 250,000 (inputs x providers).
LEG_SLICE = 1000


@dataclass(frozen=True, slots=True)
class LegOutcome:
    """What a try of a leg came to."""

    status: str
    remote_id: str | None = None
    message: str | None = None
    dropped: tuple[str, ...] = ()
    next_attempt_at: datetime | None = None


@dataclass(slots=True)
class LegView:
    item: int
    provider: Provider
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    remote_id: str | None
    message: str | None
    dropped: list[str]


@dataclass(slots=True)
class OperationView:
    """One operation as the journal has it; `counts` are its legs by status."""

    id: str
    kind: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    inputs: int
    caller: str | None
    request: Mapping[str, Any]
    counts: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class DueLeg:
    """A leg to try again, with what it takes to redo it."""

    operation_id: str
    kind: str
    item: int
    provider: Provider
    attempts: int
    created_at: datetime
    request: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """What an idempotency key says of a request: `new` (go ahead, then `finish_key`),
    `replay` (the first answer, in `response`), `in_use` (the first request still runs)
    or `reused` (the key came with another request)."""

    verdict: str
    response: str | None = None


def status_of(counts: Counter[str]) -> str:
    """An operation's status from its legs' statuses: pending while a leg is open, then
    done, partial (some legs failed) or failed (every leg did)."""
    if not counts:
        return "done"
    if any(counts[s] for s in OPEN):
        return "pending"
    if counts["failed"] == sum(counts.values()):
        return "failed"
    return "partial" if counts["failed"] else "done"


# Built once: a statement made per call (`.values(...)` with literals) costs more to
# build than SQLite takes to run it.
_INSERT_OPERATION = insert(operations)
_INSERT_LEGS = insert(legs)
_RECORD_LEG = (
    update(legs)
    .where(legs.c.operation_id == bindparam("op"))
    .where(legs.c.item == bindparam("i"))
    .where(legs.c.provider == bindparam("p"))
    .values(
        status=bindparam("s"),
        attempts=legs.c.attempts + 1,
        last_error=bindparam("e"),
        next_attempt_at=bindparam("n"),
        lease_until=None,
        remote_id=bindparam("r"),
        result=bindparam("res"),
        updated_at=bindparam("now"),
    )
)
_OPERATION_STATUS = (
    update(operations)
    .where(operations.c.id == bindparam("op"))
    .values(status=bindparam("s"), finished_at=bindparam("f"))
)


class Holds:
    """The legs this process is working on, so their leases can be renewed while it
    lives (`Journal.renew`); a process that dies stops renewing, and others take the
    legs up once the leases run out."""

    def __init__(self) -> None:
        self._held: dict[str, set[LegKey]] = {}

    def add(self, operation_id: str, keys: Iterable[LegKey]) -> None:
        self._held.setdefault(operation_id, set()).update(keys)

    def drop(self, operation_id: str, keys: Iterable[LegKey]) -> None:
        held = self._held.get(operation_id)
        if held is None:
            return
        held.difference_update(keys)
        if not held:
            del self._held[operation_id]

    def groups(self) -> list[tuple[str, Provider, list[int]]]:
        """What is held, by operation and provider: (operation id, provider, items)."""
        grouped: dict[tuple[str, Provider], list[int]] = {}
        for operation_id, keys in self._held.items():
            for item, provider in keys:
                grouped.setdefault((operation_id, provider), []).append(item)
        return [(op, provider, sorted(items)) for (op, provider), items in grouped.items()]

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._held.values())


class Journal:
    """The write journal half of the store.

    Args:
        store: the open store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- operations --------------------------------------------------------------------

    async def begin(
        self,
        kind: str,
        request: Mapping[str, Any],
        leg_keys: Sequence[LegKey],
        *,
        inputs: int = 1,
        caller: str | None = None,
        lease: float | None = None,
    ) -> str:
        """Write an operation and its legs down; returns its id. With `lease`, the legs
        are `running`, held by the caller for that many seconds (a request's writes);
        without, `pending`, for a bulk job's runner to take."""
        now = datetime.now(UTC)
        operation_id = new_id()
        until = now + timedelta(seconds=lease) if lease is not None else None

        def write(connection: Connection) -> None:
            connection.execute(
                _INSERT_OPERATION,
                {
                    "id": operation_id,
                    "kind": kind,
                    "created_at": now,
                    "started_at": now if lease is not None else None,
                    "status": "pending",
                    "caller": caller,
                    "request": dict(request),
                    "inputs": inputs,
                },
            )
            # In slices: the parameters of every leg of a large job at once (and what
            # SQLAlchemy builds from them) would all be in memory together.
            status = "running" if until is not None else "pending"
            for start in range(0, len(leg_keys), LEG_SLICE):
                connection.execute(
                    _INSERT_LEGS,
                    [
                        {
                            "operation_id": operation_id,
                            "item": item,
                            "provider": provider.value,
                            "status": status,
                            "attempts": 0,
                            "lease_until": until,
                            "updated_at": now,
                        }
                        for item, provider in leg_keys[start : start + LEG_SLICE]
                    ],
                )

        await self.store.run(write, small=len(leg_keys) <= SMALL)
        return operation_id

    async def record(
        self,
        operation_id: str,
        outcomes: Mapping[LegKey, LegOutcome],
        *,
        every_leg: bool = False,
    ) -> str:
        """Write what tries of legs came to (each counts as one more attempt); returns
        the operation's status. `every_leg`: `outcomes` holds all of its legs, so the
        status needs no query."""
        now = datetime.now(UTC)

        def write(connection: Connection) -> str:
            if outcomes:
                connection.execute(
                    _RECORD_LEG,
                    [
                        {
                            "op": operation_id,
                            "i": item,
                            "p": provider.value,
                            "s": outcome.status,
                            "e": outcome.message
                            if outcome.status in ("failed", "queued")
                            else None,
                            "n": _utc(outcome.next_attempt_at),
                            "r": outcome.remote_id,
                            "res": {"message": outcome.message, "dropped": list(outcome.dropped)},
                            "now": now,
                        }
                        for (item, provider), outcome in outcomes.items()
                    ],
                )
            if every_leg:
                counts = Counter(o.status for o in outcomes.values())
            else:
                rows = connection.execute(
                    select(legs.c.status, func.count())
                    .where(legs.c.operation_id == operation_id)
                    .group_by(legs.c.status)
                )
                counts = Counter({row[0]: int(row[1]) for row in rows})
            status = status_of(counts)
            finished = now if status in ("done", "partial", "failed") else None
            connection.execute(_OPERATION_STATUS, {"op": operation_id, "s": status, "f": finished})
            return status

        return await self.store.run(write, small=len(outcomes) <= SMALL)

    async def _counts(self, connection: Any, operation_id: str) -> Counter[str]:
        rows = await connection.execute(
            select(legs.c.status, func.count())
            .where(legs.c.operation_id == operation_id)
            .group_by(legs.c.status)
        )
        return Counter({row[0]: int(row[1]) for row in rows})

    async def operation(self, operation_id: str) -> OperationView | None:
        """An operation, its legs counted by status.

        The legs are counted before the operation's row is read: each statement may see
        a newer database than the one before it (SQLite's and PostgreSQL's default for
        reads), and `record` writes a leg's end and the operation's status together, so
        legs seen ended mean the row read after them has the status and end time too.
        Read the other way round, a job could show every leg done but no end time.
        """
        async with self.store.transaction() as connection:
            counts = await self._counts(connection, operation_id)
            row = (
                await connection.execute(select(operations).where(operations.c.id == operation_id))
            ).first()
        if row is None:
            return None
        view = _view(row)
        view.counts = counts
        return view

    async def operations(
        self,
        *,
        status: str | None,
        first: int,
        after: str | None,
        before: str | None = None,
        backward: bool = False,
        caller: str | None = None,
    ) -> tuple[list[OperationView], bool]:
        """Operations newest first (ids are time-ordered), older than the id `after` and
        newer than `before`: the `first` newest of them, or (`backward`) the oldest.
        The flag says whether more follow (or, backward, precede) them. `caller`: only
        the operations sent with that name."""
        order = operations.c.id.asc() if backward else operations.c.id.desc()
        query = select(operations).order_by(order).limit(first + 1)
        if status is not None:
            query = query.where(operations.c.status == status)
        if after is not None:
            query = query.where(operations.c.id < after)
        if before is not None:
            query = query.where(operations.c.id > before)
        if caller is not None:
            query = query.where(operations.c.caller == caller)
        async with self.store.transaction() as connection:
            rows = (await connection.execute(query)).all()
            kept = rows[:first]
            views = [_view(row) for row in (reversed(kept) if backward else kept)]
            if views:
                counted = await connection.execute(
                    select(legs.c.operation_id, legs.c.status, func.count())
                    .where(legs.c.operation_id.in_([v.id for v in views]))
                    .group_by(legs.c.operation_id, legs.c.status)
                )
                counts: dict[str, Counter[str]] = {view.id: Counter() for view in views}
                for operation_id, leg_status, count in counted:
                    counts[operation_id][leg_status] = int(count)
                # Read again after the legs (see `operation`): their rows as of the counts.
                fresh = await connection.execute(
                    select(operations).where(operations.c.id.in_(list(counts)))
                )
                by_id = {row.id: _view(row) for row in fresh}
                views = [by_id[view.id] for view in views if view.id in by_id]
                for view in views:
                    view.counts = counts[view.id]
        return views, len(rows) > first

    async def progress(self, operation_id: str) -> dict[Provider, Counter[str]]:
        """An operation's legs counted by provider and status."""
        async with self.store.transaction() as connection:
            rows = await connection.execute(
                select(legs.c.provider, legs.c.status, func.count())
                .where(legs.c.operation_id == operation_id)
                .group_by(legs.c.provider, legs.c.status)
            )
            found: dict[Provider, Counter[str]] = {}
            for provider, status, count in rows:
                found.setdefault(Provider(provider), Counter())[status] = int(count)
        return found

    async def legs(
        self, operation_id: str, *, status: str | None, offset: int, limit: int
    ) -> list[LegView]:
        """A page of an operation's legs, by input then provider."""
        query = (
            select(legs)
            .where(legs.c.operation_id == operation_id)
            .order_by(legs.c.item, legs.c.provider)
            .offset(offset)
            .limit(limit)
        )
        if status is not None:
            query = query.where(legs.c.status == status)
        async with self.store.transaction() as connection:
            rows = (await connection.execute(query)).all()
        return [
            LegView(
                item=leg.item,
                provider=Provider(leg.provider),
                status=leg.status,
                attempts=leg.attempts,
                last_error=leg.last_error,
                next_attempt_at=_aware(leg.next_attempt_at),
                remote_id=leg.remote_id,
                message=(leg.result or {}).get("message"),
                dropped=list((leg.result or {}).get("dropped", [])),
            )
            for leg in rows
        ]

    # -- retries ------------------------------------------------------------------------

    async def claim_due(self, *, limit: int, lease: float) -> list[DueLeg]:
        """Queued legs whose time has come, taken by this process for `lease` seconds."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=lease)
        due = (
            select(legs.c.operation_id, legs.c.item, legs.c.provider, legs.c.attempts)
            .where(legs.c.status == "queued")
            .where(legs.c.next_attempt_at <= now)
            .order_by(legs.c.next_attempt_at)
        )
        # Is anything due at all: one indexed row read, locking nothing.
        probe = due.limit(1)
        query = due.limit(limit)
        if self.store.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)

        def claim(connection: Connection) -> tuple[list[Any], dict[str, Any]]:
            # One transaction in one hop (`Store.run`): the legs found, each taken only
            # if it is still queued (another process may have taken it meanwhile).
            taken = [
                row
                for row in connection.execute(query).all()
                if connection.execute(
                    update(legs)
                    .where(legs.c.operation_id == row.operation_id)
                    .where(legs.c.item == row.item)
                    .where(legs.c.provider == row.provider)
                    .where(legs.c.status == "queued")
                    .values(status="running", lease_until=until, updated_at=now)
                ).rowcount
                == 1
            ]
            return taken, _requests(connection, {row.operation_id for row in taken})

        # Most looks find nothing due: that is one small read (on SQLite, on the event
        # loop), the claim itself only when there is something to take.
        if not await self.store.run(lambda c: c.execute(probe).first() is not None, small=True):
            return []
        taken, requests = await self.store.run(claim)
        return [
            DueLeg(
                operation_id=row.operation_id,
                kind=requests[row.operation_id][0],
                item=row.item,
                provider=Provider(row.provider),
                attempts=row.attempts,
                created_at=requests[row.operation_id][2],
                request=requests[row.operation_id][1],
            )
            for row in taken
        ]

    async def queue_stats(self) -> tuple[int, datetime | None]:
        """How many legs are queued, and when the oldest one's operation began."""
        query = (
            select(func.count(), func.min(operations.c.created_at))
            .select_from(legs.join(operations, operations.c.id == legs.c.operation_id))
            .where(legs.c.status == "queued")
        )
        # A count over every queued leg: on the store's thread, not the event loop.
        row = await self.store.run(lambda connection: connection.execute(query).one())
        return int(row[0]), _aware(row[1])

    async def requeue_expired(self) -> int:
        """Legs whose process stopped holding them (killed, or it lost the store before
        it could write their outcome): queued to be tried now. A bulk job's legs are
        left to the job runner, which takes them up in its batches. Returns how many."""
        now = datetime.now(UTC)
        bulk_ids = select(operations.c.id).where(operations.c.kind == BULK)
        statement = (
            update(legs)
            .where(legs.c.status == "running")
            .where(legs.c.lease_until < now)
            .where(legs.c.operation_id.not_in(bulk_ids))
            .values(status="queued", next_attempt_at=now, lease_until=None, updated_at=now)
        )
        return await self.store.run(
            lambda connection: int(connection.execute(statement).rowcount or 0), small=True
        )

    async def renew(self, holds: Holds, *, lease: float) -> None:
        """Hold every leg in `holds` (still running) `lease` seconds from now."""
        groups = holds.groups()
        if not groups:
            return
        until = datetime.now(UTC) + timedelta(seconds=lease)
        async with self.store.transaction() as connection:
            for operation_id, provider, items in groups:
                for start in range(0, len(items), 500):
                    await connection.execute(
                        update(legs)
                        .where(legs.c.operation_id == operation_id)
                        .where(legs.c.provider == provider.value)
                        .where(legs.c.item.in_(items[start : start + 500]))
                        .where(legs.c.status == "running")
                        .values(lease_until=until)
                    )

    # -- bulk jobs --------------------------------------------------------------------

    async def open_jobs(self) -> list[str]:
        """Bulk jobs with legs left to take: not tried yet, or held by a process that
        stopped renewing them."""
        now = datetime.now(UTC)
        query = (
            select(legs.c.operation_id)
            .distinct()
            .join(operations, operations.c.id == legs.c.operation_id)
            .where(operations.c.kind == BULK)
            .where(
                or_(
                    legs.c.status == "pending",
                    and_(legs.c.status == "running", legs.c.lease_until < now),
                )
            )
            .order_by(legs.c.operation_id)
        )
        # It reads every pending leg of every bulk job: on the store's thread.
        return await self.store.run(
            lambda connection: [row.operation_id for row in connection.execute(query)]
        )

    async def claim_items(
        self, operation_id: str, provider: Provider, *, limit: int, lease: float
    ) -> list[int]:
        """Up to `limit` of a job's pending legs for `provider` (or running ones whose
        process stopped), taken by this process; their inputs' indexes."""
        now = datetime.now(UTC)
        async with self.store.transaction() as connection:
            await connection.execute(
                update(operations)
                .where(operations.c.id == operation_id)
                .where(operations.c.started_at.is_(None))
                .values(started_at=now)
            )
            query = (
                select(legs.c.item)
                .where(legs.c.operation_id == operation_id)
                .where(legs.c.provider == provider.value)
                .where(
                    or_(
                        legs.c.status == "pending",
                        and_(legs.c.status == "running", legs.c.lease_until < now),
                    )
                )
                .order_by(legs.c.item)
                .limit(limit)
            )
            if self.store.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            items = [row.item for row in await connection.execute(query)]
            if items:
                await connection.execute(
                    update(legs)
                    .where(legs.c.operation_id == operation_id)
                    .where(legs.c.provider == provider.value)
                    .where(legs.c.item.in_(items))
                    .values(
                        status="running",
                        lease_until=now + timedelta(seconds=lease),
                        updated_at=now,
                    )
                )
        return items

    async def request(self, operation_id: str) -> Mapping[str, Any] | None:
        found = await self.store.run(lambda connection: _requests(connection, [operation_id]))
        return found[operation_id][1] if operation_id in found else None

    # -- retention --------------------------------------------------------------------

    async def prune(self, *, before: datetime) -> int:
        """Delete finished operations older than `before`, and idempotency keys too."""
        before = _utc(before)
        async with self.store.transaction() as connection:
            old = (
                select(operations.c.id)
                .where(operations.c.created_at < before)
                .where(operations.c.status.in_(("done", "partial", "failed")))
            )
            ids = [row.id for row in await connection.execute(old)]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                await connection.execute(delete(legs).where(legs.c.operation_id.in_(chunk)))
                await connection.execute(delete(operations).where(operations.c.id.in_(chunk)))
            await connection.execute(
                delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
            )
        return len(ids)

    # -- idempotency keys ---------------------------------------------------------------

    async def claim_key(self, key: str, request_hash: str, *, ttl: float) -> KeyClaim:
        """The verdict on a request sent with an idempotency key (see `KeyClaim`)."""
        now = datetime.now(UTC)
        oldest = now - timedelta(seconds=ttl)
        async with self.store.transaction() as connection:
            await connection.execute(
                delete(idempotency_keys)
                .where(idempotency_keys.c.key == key)
                .where(idempotency_keys.c.created_at < oldest)
            )
            row = (
                await connection.execute(
                    select(idempotency_keys).where(idempotency_keys.c.key == key)
                )
            ).first()
            if row is None:
                try:
                    async with connection.begin_nested():
                        await connection.execute(
                            insert(idempotency_keys).values(
                                key=key, request_hash=request_hash, created_at=now
                            )
                        )
                except IntegrityError:
                    return KeyClaim("in_use")  # the same key, at the same moment
                return KeyClaim("new")
        if row.request_hash != request_hash:
            return KeyClaim("reused")
        if row.response is None:
            return KeyClaim("in_use")
        return KeyClaim("replay", row.response)

    async def finish_key(self, key: str, response: str | None) -> None:
        """Keep the first answer for `key`; None forgets the key (the request failed
        before it reached the providers, so it may be sent again as new)."""
        async with self.store.transaction() as connection:
            if response is None:
                await connection.execute(
                    delete(idempotency_keys).where(idempotency_keys.c.key == key)
                )
            else:
                await connection.execute(
                    update(idempotency_keys)
                    .where(idempotency_keys.c.key == key)
                    .values(response=response)
                )


def _requests(
    connection: Connection, ids: Iterable[str]
) -> dict[str, tuple[str, Mapping[str, Any], datetime]]:
    """The kind, request and start of each operation in `ids`."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = connection.execute(
        select(
            operations.c.id, operations.c.kind, operations.c.request, operations.c.created_at
        ).where(operations.c.id.in_(wanted))
    )
    return {row.id: (row.kind, row.request, _aware(row.created_at)) for row in rows}


def _view(row: Any) -> OperationView:
    return OperationView(
        id=row.id,
        kind=row.kind,
        status=row.status,
        created_at=_aware(row.created_at),
        started_at=_aware(row.started_at),
        finished_at=_aware(row.finished_at),
        inputs=row.inputs,
        caller=row.caller,
        request=row.request,
    )


def _utc(value: datetime | None) -> Any:
    """`value` in UTC: SQLite keeps a datetime's clock time and drops its zone, and
    everything is read back as UTC."""
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _aware(value: datetime | None) -> Any:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
