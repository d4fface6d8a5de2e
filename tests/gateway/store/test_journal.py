"""The write journal, on SQLite and on PostgreSQL: operations and their legs, retries
through leases, bulk jobs taken in batches, retention, and idempotency keys."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from gateway.domain.records import Provider
from gateway.store import Store, open_store
from gateway.store.identities import new_id
from gateway.store.journal import (
    BULK,
    Holds,
    Journal,
    KeyClaim,
    LegKey,
    LegOutcome,
    status_of,
)

A, K, T = Provider.ADAPTIX, Provider.AKITA, Provider.TRUSTMARY
REQUEST = {"input": {"email": "ada@x.test"}, "providers": ["adaptix", "akita"]}


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def statuses(journal: Journal, operation_id: str) -> dict[LegKey, str]:
    views = await journal.legs(operation_id, status=None, offset=0, limit=1000)
    return {(leg.item, leg.provider): leg.status for leg in views}


@asynccontextmanager
async def another_process(store: Store) -> AsyncIterator[Journal]:
    """A second engine on the same database: nothing shared in memory."""
    url = store.engine.url.render_as_string(hide_password=False)
    other = open_store(url.replace("+aiosqlite", "").replace("+asyncpg", ""))
    try:
        yield Journal(other)
    finally:
        await other.close()


# -- status and holds (no store) -------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, "done"),
        ({"pending": 2}, "pending"),
        ({"running": 1, "created": 3}, "pending"),
        ({"queued": 1, "failed": 1}, "pending"),
        ({"created": 1, "updated": 1, "deleted": 1, "skipped": 1}, "done"),
        ({"created": 2, "failed": 1}, "partial"),
        ({"skipped": 1, "failed": 1}, "partial"),
        ({"failed": 3}, "failed"),
        ({"failed": 2, "created": 0}, "failed"),
    ],
)
def test_an_operations_status_follows_from_its_legs(counts: dict[str, int], expected: str) -> None:
    assert status_of(Counter(counts)) == expected


def test_holds_group_what_is_held_by_operation_and_provider() -> None:
    holds = Holds()
    assert len(holds) == 0
    assert holds.groups() == []
    holds.add("op1", [(2, A), (0, A), (0, K)])
    holds.add("op1", [(1, A), (0, A)])  # held already: counted once
    holds.add("op2", [(0, T)])
    assert len(holds) == 5
    assert sorted(holds.groups()) == [
        ("op1", A, [0, 1, 2]),
        ("op1", K, [0]),
        ("op2", T, [0]),
    ]
    holds.drop("op1", [(0, K), (1, A)])
    holds.drop("op2", [(0, T)])
    holds.drop("unknown", [(0, A)])  # nothing held there: nothing happens
    assert len(holds) == 2
    assert holds.groups() == [("op1", A, [0, 2])]
    holds.drop("op1", [(0, A), (2, A)])
    assert len(holds) == 0
    assert holds.groups() == []


# -- operations ------------------------------------------------------------------------


async def test_a_request_begins_with_its_legs_held_and_the_operation_pending(
    store: Store,
) -> None:
    journal = Journal(store)
    before = datetime.now(UTC)
    operation_id = await journal.begin(
        "upsertContacts",
        REQUEST,
        [(0, A), (0, K), (1, A)],
        inputs=2,
        caller="crm-sync",
        lease=30,
    )
    view = await journal.operation(operation_id)
    assert view is not None
    assert view.id == operation_id
    assert view.kind == "upsertContacts"
    assert view.status == "pending"
    assert view.inputs == 2
    assert view.caller == "crm-sync"
    assert view.request == REQUEST
    assert view.counts == Counter({"running": 3})
    assert view.created_at.tzinfo is not None
    assert before <= view.created_at <= datetime.now(UTC)
    assert view.started_at == view.created_at
    assert view.finished_at is None
    legs = await journal.legs(operation_id, status=None, offset=0, limit=10)
    assert [(leg.item, leg.provider, leg.status, leg.attempts) for leg in legs] == [
        (0, A, "running", 0),
        (0, K, "running", 0),
        (1, A, "running", 0),
    ]
    assert all(leg.last_error is None and leg.remote_id is None for leg in legs)
    assert await journal.request(operation_id) == REQUEST

    unknown = new_id()
    assert await journal.operation(unknown) is None
    assert await journal.request(unknown) is None
    assert await journal.legs(unknown, status=None, offset=0, limit=10) == []
    assert await journal.progress(unknown) == {}


async def test_record_writes_each_try_and_returns_the_operations_status(store: Store) -> None:
    journal = Journal(store)
    operation_id = await journal.begin("upsertContact", REQUEST, [(0, A), (0, K), (0, T)], lease=30)
    retry_at = later(60)

    assert (
        await journal.record(
            operation_id,
            {
                (0, A): LegOutcome("created", remote_id="a-1", message="ok", dropped=("phone",)),
                (0, K): LegOutcome("queued", message="timed out", next_attempt_at=retry_at),
            },
        )
        == "pending"  # trustmary is still running, akita queued
    )
    legs = {
        (leg.item, leg.provider): leg
        for leg in await journal.legs(operation_id, status=None, offset=0, limit=10)
    }
    created, queued = legs[0, A], legs[0, K]
    assert (created.status, created.attempts, created.remote_id) == ("created", 1, "a-1")
    assert (created.message, created.dropped, created.last_error) == ("ok", ["phone"], None)
    assert created.next_attempt_at is None
    assert (queued.status, queued.attempts, queued.last_error) == ("queued", 1, "timed out")
    assert queued.message == "timed out"
    assert queued.dropped == []
    assert queued.next_attempt_at == retry_at
    assert queued.next_attempt_at is not None
    assert queued.next_attempt_at.tzinfo is not None
    view = await journal.operation(operation_id)
    assert view is not None
    assert (view.status, view.finished_at) == ("pending", None)

    failed = LegOutcome("failed", message="422: email refused")
    assert await journal.record(operation_id, {(0, T): failed}) == "pending"  # akita queued
    [refused] = await journal.legs(operation_id, status="failed", offset=0, limit=10)
    assert (refused.provider, refused.last_error, refused.attempts) == (
        T,
        "422: email refused",
        1,
    )

    # The retry lands: a second attempt, the error and the retry time gone.
    assert (
        await journal.record(operation_id, {(0, K): LegOutcome("updated", remote_id="k-9")})
        == "partial"
    )
    [landed] = await journal.legs(operation_id, status="updated", offset=0, limit=10)
    assert (landed.provider, landed.attempts, landed.remote_id) == (K, 2, "k-9")
    assert (landed.last_error, landed.next_attempt_at, landed.message) == (None, None, None)
    view = await journal.operation(operation_id)
    assert view is not None
    assert view.status == "partial"
    assert view.finished_at is not None
    assert view.started_at is not None
    assert view.started_at <= view.finished_at
    assert view.counts == Counter({"created": 1, "updated": 1, "failed": 1})

    # Told every leg's outcome at once, it gives the status counting the legs gives.
    cases = [
        (("created", "updated"), "done"),
        (("deleted", "skipped"), "done"),
        (("created", "failed"), "partial"),
        (("failed", "failed"), "failed"),
        (("created", "queued"), "pending"),
    ]
    for (first, second), expected in cases:
        outcomes = {
            (0, A): LegOutcome(first, message="a"),
            (0, K): LegOutcome(second, message="k", next_attempt_at=later(60)),
        }
        given = await journal.begin("upsertContact", REQUEST, [(0, A), (0, K)], lease=30)
        counted = await journal.begin("upsertContact", REQUEST, [(0, A), (0, K)], lease=30)
        assert await journal.record(given, outcomes, every_leg=True) == expected
        assert await journal.record(counted, outcomes) == expected
        for operation_id in (given, counted):
            view = await journal.operation(operation_id)
            assert view is not None
            assert view.status == expected
            assert (view.finished_at is None) == (expected == "pending")


async def test_operations_list_newest_first_in_pages_and_by_status(store: Store) -> None:
    journal = Journal(store)
    began: list[str] = []

    async def begin(kind: str, keys: list[LegKey], **options: Any) -> str:
        began.append(await journal.begin(kind, {"n": len(began)}, keys, **options))
        await asyncio.sleep(0.002)  # ids order by the millisecond (see the next test)
        return began[-1]

    done = await begin("upsertContact", [(0, A), (0, K)], lease=30)
    await journal.record(done, {(0, A): LegOutcome("created"), (0, K): LegOutcome("skipped")})
    failed = await begin("deleteContact", [(0, A)], lease=30)
    await journal.record(failed, {(0, A): LegOutcome("failed", message="gone")})
    job = await begin(BULK, [(0, A), (1, A), (2, K)], inputs=3)
    empty = await begin("upsertContact", [], lease=30)
    other_done = await begin("upsertContact", [(0, T)], lease=30)
    await journal.record(other_done, {(0, T): LegOutcome("updated")})
    newest_first = began[::-1]

    page, more = await journal.operations(status=None, first=2, after=None)
    assert [view.id for view in page] == newest_first[:2]
    assert more
    page, more = await journal.operations(status=None, first=2, after=page[-1].id)
    assert [view.id for view in page] == newest_first[2:4]
    assert more
    page, more = await journal.operations(status=None, first=2, after=page[-1].id)
    assert [view.id for view in page] == newest_first[4:]
    assert not more
    assert await journal.operations(status=None, first=2, after=page[-1].id) == ([], False)

    everything, more = await journal.operations(status=None, first=5, after=None)
    assert not more
    assert [view.request for view in everything] == [{"n": n} for n in (4, 3, 2, 1, 0)]
    assert {view.id: view.counts for view in everything} == {
        done: Counter({"created": 1, "skipped": 1}),
        failed: Counter({"failed": 1}),
        job: Counter({"pending": 3}),
        empty: Counter(),
        other_done: Counter({"updated": 1}),
    }

    found, more = await journal.operations(status="done", first=10, after=None)
    assert ([view.id for view in found], more) == ([other_done, done], False)
    found, more = await journal.operations(status="done", first=1, after=None)
    assert ([view.id for view in found], more) == ([other_done], True)
    found, more = await journal.operations(status="done", first=1, after=other_done)
    assert ([view.id for view in found], more) == ([done], False)
    assert found[0].counts == Counter({"created": 1, "skipped": 1})
    found, _ = await journal.operations(status="failed", first=10, after=None)
    assert [(view.id, view.kind) for view in found] == [(failed, "deleteContact")]
    found, _ = await journal.operations(status="pending", first=10, after=None)
    assert [view.id for view in found] == [empty, job]
    assert await journal.operations(status="partial", first=10, after=None) == ([], False)


async def test_operations_begun_in_one_millisecond_still_list_newest_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests that arrive together begin in the same millisecond; the list must still
    show the later one first."""
    frozen = datetime.now(UTC).timestamp()

    class OneMillisecond:
        @staticmethod
        def time_ns() -> int:
            return int(frozen * 1_000_000_000)

    monkeypatch.setattr("gateway.store.identities.time", OneMillisecond)
    journal = Journal(store)
    began = [await journal.begin("upsertContact", {"n": n}, [(0, A)], lease=30) for n in range(8)]
    listed, more = await journal.operations(status=None, first=8, after=None)
    assert not more
    assert [view.request for view in listed] == [{"n": n} for n in reversed(range(8))]
    assert [view.id for view in listed] == began[::-1]


async def test_legs_page_by_item_then_provider_and_filter_by_status(store: Store) -> None:
    journal = Journal(store)
    keys = [(item, provider) for item in (2, 0, 1) for provider in (T, A, K)]
    operation_id = await journal.begin("upsertContacts", REQUEST, keys, inputs=3, lease=30)
    retry_at = later(120)
    await journal.record(
        operation_id,
        {
            (0, T): LegOutcome("failed", message="refused", dropped=("tags", "notes")),
            (1, A): LegOutcome("queued", message="503", next_attempt_at=retry_at),
            (2, K): LegOutcome("failed", message="refused again"),
            (2, A): LegOutcome("created", remote_id="a-2"),
        },
    )

    every = await journal.legs(operation_id, status=None, offset=0, limit=100)
    order = [(item, provider) for item in (0, 1, 2) for provider in (A, K, T)]
    assert [(leg.item, leg.provider) for leg in every] == order
    page = await journal.legs(operation_id, status=None, offset=2, limit=3)
    assert [(leg.item, leg.provider) for leg in page] == order[2:5]
    assert await journal.legs(operation_id, status=None, offset=9, limit=3) == []

    failed = await journal.legs(operation_id, status="failed", offset=0, limit=10)
    assert [(leg.item, leg.provider, leg.message, leg.dropped) for leg in failed] == [
        (0, T, "refused", ["tags", "notes"]),
        (2, K, "refused again", []),
    ]
    second = await journal.legs(operation_id, status="failed", offset=1, limit=10)
    assert [(leg.item, leg.provider) for leg in second] == [(2, K)]
    [queued] = await journal.legs(operation_id, status="queued", offset=0, limit=10)
    assert (queued.item, queued.provider, queued.next_attempt_at) == (1, A, retry_at)
    assert queued.next_attempt_at is not None
    assert queued.next_attempt_at.utcoffset() is not None
    [created] = await journal.legs(operation_id, status="created", offset=0, limit=10)
    assert (created.remote_id, created.message, created.dropped) == ("a-2", None, [])
    running = await journal.legs(operation_id, status="running", offset=0, limit=10)
    assert len(running) == 5
    assert all(leg.message is None and leg.dropped == [] for leg in running)


async def test_a_retry_time_given_in_another_zone_is_the_same_instant(store: Store) -> None:
    journal = Journal(store)
    operation_id = await journal.begin("upsertContact", REQUEST, [(0, A), (0, K)], lease=30)
    helsinki = timezone(timedelta(hours=2))
    soon = (datetime.now(UTC) + timedelta(hours=1)).astimezone(helsinki)
    await journal.record(
        operation_id,
        {
            (0, A): LegOutcome("queued", message="503", next_attempt_at=soon),
            # Already due, but only when read as the instant it is.
            (0, K): LegOutcome(
                "queued", message="503", next_attempt_at=ago(60).astimezone(helsinki)
            ),
        },
    )
    legs = await journal.legs(operation_id, status="queued", offset=0, limit=10)
    assert legs[0].next_attempt_at == soon
    due = await journal.claim_due(limit=10, lease=30)
    assert [(leg.item, leg.provider) for leg in due] == [(0, K)]


# -- retries ---------------------------------------------------------------------------


async def test_claim_due_takes_queued_legs_whose_time_has_come_once(store: Store) -> None:
    journal = Journal(store)
    operation_id = await journal.begin(
        "upsertContacts", REQUEST, [(0, A), (0, K), (0, T), (1, A), (1, K)], inputs=2, lease=30
    )
    await journal.record(
        operation_id,
        {
            (0, A): LegOutcome("queued", message="503", next_attempt_at=ago(5)),
            (0, K): LegOutcome("queued", message="429", next_attempt_at=later(60)),
            (0, T): LegOutcome("failed", message="refused"),
            (1, A): LegOutcome("created"),
        },  # (1, K) stays running
    )
    view = await journal.operation(operation_id)
    assert view is not None

    [due] = await journal.claim_due(limit=10, lease=30)
    assert due.operation_id == operation_id
    assert (due.kind, due.item, due.provider, due.attempts) == ("upsertContacts", 0, A, 1)
    assert due.request == REQUEST
    assert due.created_at == view.created_at
    assert due.created_at.tzinfo is not None
    assert await statuses(journal, operation_id) == {
        (0, A): "running",
        (0, K): "queued",
        (0, T): "failed",
        (1, A): "created",
        (1, K): "running",
    }
    # Taken: neither another claim nor the requeue (its lease is live) takes it again,
    # and a look that finds nothing due is one transaction, not a claim.
    begun: list[object] = []
    count = begun.append
    event.listen(Engine, "begin", count)
    try:
        assert await journal.claim_due(limit=10, lease=30) == []
    finally:
        event.remove(Engine, "begin", count)
    assert len(begun) == 1
    assert await journal.requeue_expired() == 0
    assert (await statuses(journal, operation_id))[0, A] == "running"

    # The longest due first, up to the limit, across operations.
    first = await journal.begin("upsertContact", {"n": 1}, [(0, A), (0, K)], lease=30)
    second = await journal.begin("deleteContact", {"n": 2}, [(0, T)], lease=30)
    await journal.record(
        first,
        {
            (0, A): LegOutcome("queued", message="x", next_attempt_at=ago(1)),
            (0, K): LegOutcome("queued", message="x", next_attempt_at=ago(3)),
        },
    )
    await journal.record(
        second, {(0, T): LegOutcome("queued", message="x", next_attempt_at=ago(2))}
    )
    taken = await journal.claim_due(limit=2, lease=30)
    assert [(leg.operation_id, leg.provider) for leg in taken] == [(first, K), (second, T)]
    assert [(leg.kind, leg.request) for leg in taken] == [
        ("upsertContact", {"n": 1}),
        ("deleteContact", {"n": 2}),
    ]
    [rest] = await journal.claim_due(limit=2, lease=30)
    assert (rest.operation_id, rest.provider) == (first, A)
    assert await journal.claim_due(limit=2, lease=30) == []


async def test_two_processes_never_take_the_same_leg(store: Store) -> None:
    """Retries, bulk batches and one idempotency key, claimed by two processes at once:
    each leg is taken by one of them (a claim may come back short while the other holds
    rows; the next claim takes what it missed), and one request goes ahead."""
    journal = Journal(store)
    keys = [(item, provider) for item in range(4) for provider in (A, K)]
    retried = await journal.begin("upsertContacts", REQUEST, keys, inputs=4, lease=30)
    await journal.record(
        retried,
        {key: LegOutcome("queued", message="503", next_attempt_at=ago(1)) for key in keys},
    )
    job = await journal.begin(BULK, REQUEST, [(item, A) for item in range(12)], inputs=12)
    due: list[LegKey] = []
    items: list[int] = []
    async with another_process(store) as other:
        for _ in range(10):
            claims = await asyncio.gather(
                *((journal if n % 2 else other).claim_due(limit=3, lease=30) for n in range(6))
            )
            batches = await asyncio.gather(
                *(
                    (journal if n % 2 else other).claim_items(job, A, limit=3, lease=30)
                    for n in range(6)
                )
            )
            taken = [(leg.item, leg.provider) for claim in claims for leg in claim]
            due += taken
            items += [item for batch in batches for item in batch]
            if not taken and not any(batches):
                break
        keys_claimed = await asyncio.gather(
            *(
                (journal if n % 2 else other).claim_key("crm:k1", "hash-1", ttl=3600)
                for n in range(4)
            )
        )
    assert sorted(due) == sorted(keys)  # every leg, none twice
    assert sorted(items) == list(range(12))
    assert set((await statuses(journal, retried)).values()) == {"running"}
    assert await journal.progress(job) == {A: Counter({"running": 12})}
    assert sorted(claim.verdict for claim in keys_claimed) == ["in_use", "in_use", "in_use", "new"]


async def test_requeue_expired_queues_legs_whose_lease_ran_out(store: Store) -> None:
    journal = Journal(store)
    dead = await journal.begin("upsertContact", REQUEST, [(0, A), (0, K)], lease=0.02)
    live = await journal.begin("upsertContact", REQUEST, [(0, A)], lease=30)
    job = await journal.begin(BULK, REQUEST, [(0, A), (1, A)], inputs=2)
    assert await journal.claim_items(job, A, limit=10, lease=0.02) == [0, 1]
    await asyncio.sleep(0.05)

    assert await journal.requeue_expired() == 2
    requeued = await journal.legs(dead, status=None, offset=0, limit=10)
    assert [(leg.provider, leg.status, leg.attempts) for leg in requeued] == [
        (A, "queued", 0),
        (K, "queued", 0),
    ]
    for leg in requeued:
        assert leg.next_attempt_at is not None
        assert leg.next_attempt_at <= datetime.now(UTC)
    assert await statuses(journal, live) == {(0, A): "running"}
    assert await statuses(journal, job) == {(0, A): "running", (1, A): "running"}  # the runner's
    assert await journal.requeue_expired() == 0

    # Queued for now: the retry loop takes them up at once.
    due = await journal.claim_due(limit=10, lease=30)
    assert sorted((leg.operation_id, leg.provider) for leg in due) == [(dead, A), (dead, K)]


async def test_renewing_holds_keeps_legs_from_being_requeued(store: Store) -> None:
    journal = Journal(store)
    await journal.renew(Holds(), lease=30)  # nothing held: nothing to do
    held = await journal.begin(
        "upsertContacts", REQUEST, [(0, A), (1, A), (0, K), (2, A)], inputs=3, lease=0.02
    )
    other = await journal.begin("upsertContact", REQUEST, [(0, A)], lease=0.02)
    holds = Holds()
    holds.add(held, [(0, A), (1, A), (0, K), (2, A)])
    holds.drop(held, [(0, K)])  # let go of: it is requeued
    await journal.record(held, {(2, A): LegOutcome("created")})  # finished while held
    await asyncio.sleep(0.05)

    await journal.renew(holds, lease=30)
    assert await journal.requeue_expired() == 2
    assert await statuses(journal, held) == {
        (0, A): "running",
        (1, A): "running",
        (0, K): "queued",
        (2, A): "created",  # renewing does not reopen a finished leg
    }
    assert await statuses(journal, other) == {(0, A): "queued"}


# -- bulk jobs -------------------------------------------------------------------------


async def test_open_jobs_are_bulk_jobs_with_legs_left_to_take(store: Store) -> None:
    journal = Journal(store)
    untouched = await journal.begin(BULK, REQUEST, [(0, A), (1, A)], inputs=2)
    taken = await journal.begin(BULK, REQUEST, [(0, A), (1, A)], inputs=2)
    assert await journal.claim_items(taken, A, limit=10, lease=30) == [0, 1]
    abandoned = await journal.begin(BULK, REQUEST, [(0, A), (1, A)], inputs=2)
    assert await journal.claim_items(abandoned, A, limit=10, lease=0.02) == [0, 1]
    finished = await journal.begin(BULK, REQUEST, [(0, A)])
    assert await journal.claim_items(finished, A, limit=10, lease=30) == [0]
    await journal.record(finished, {(0, A): LegOutcome("created")})
    half = await journal.begin(BULK, REQUEST, [(0, A), (0, K)])
    assert await journal.claim_items(half, A, limit=10, lease=30) == [0]  # akita left
    await journal.begin("upsertContacts", REQUEST, [(0, A)], inputs=1)  # not a bulk job
    await journal.begin("upsertContact", REQUEST, [(0, A)], lease=0.02)  # not a bulk job
    await asyncio.sleep(0.05)

    assert sorted(await journal.open_jobs()) == sorted([untouched, abandoned, half])


async def test_a_bulk_job_starts_when_its_first_items_are_claimed(store: Store) -> None:
    journal = Journal(store)
    keys = [(item, provider) for item in range(5) for provider in (A, K)]
    job = await journal.begin(BULK, REQUEST, keys, inputs=5)
    view = await journal.operation(job)
    assert view is not None
    assert (view.kind, view.status, view.started_at, view.finished_at) == (
        "startBulkUpsert",
        "pending",
        None,
        None,
    )
    assert view.counts == Counter({"pending": 10})
    assert await journal.progress(job) == {A: Counter({"pending": 5}), K: Counter({"pending": 5})}

    before = datetime.now(UTC)
    assert await journal.claim_items(job, A, limit=2, lease=30) == [0, 1]
    view = await journal.operation(job)
    assert view is not None
    started = view.started_at
    assert started is not None
    assert before <= started <= datetime.now(UTC)
    assert await journal.claim_items(job, A, limit=2, lease=30) == [2, 3]
    assert await journal.claim_items(job, A, limit=2, lease=30) == [4]
    assert await journal.claim_items(job, A, limit=2, lease=30) == []
    assert await journal.claim_items(job, K, limit=3, lease=30) == [0, 1, 2]  # its own legs
    view = await journal.operation(job)
    assert view is not None
    assert view.started_at == started  # started once
    assert view.status == "pending"
    assert await journal.progress(job) == {
        A: Counter({"running": 5}),
        K: Counter({"running": 3, "pending": 2}),
    }
    assert await journal.open_jobs() == [job]  # akita's last two are left

    status = await journal.record(
        job,
        {
            (0, A): LegOutcome("created"),
            (1, A): LegOutcome("failed", message="refused"),
            (2, A): LegOutcome("queued", message="503", next_attempt_at=later(60)),
        },
    )
    assert status == "pending"
    assert await journal.progress(job) == {
        A: Counter({"created": 1, "failed": 1, "queued": 1, "running": 2}),
        K: Counter({"running": 3, "pending": 2}),
    }


async def test_claim_items_takes_up_items_whose_process_stopped(store: Store) -> None:
    journal = Journal(store)
    job = await journal.begin(BULK, REQUEST, [(item, A) for item in range(6)], inputs=6)
    assert await journal.claim_items(job, A, limit=2, lease=30) == [0, 1]  # a live runner
    assert await journal.claim_items(job, A, limit=3, lease=0.02) == [2, 3, 4]  # one that stops
    await journal.record(job, {(2, A): LegOutcome("created")})  # written before it stopped
    await asyncio.sleep(0.05)
    assert await journal.open_jobs() == [job]
    assert await journal.claim_items(job, A, limit=10, lease=30) == [3, 4, 5]
    assert await journal.claim_items(job, A, limit=10, lease=30) == []
    assert await journal.open_jobs() == []
    assert await journal.progress(job) == {A: Counter({"running": 5, "created": 1})}


# -- retention -------------------------------------------------------------------------


async def test_prune_deletes_finished_operations_and_keys_older_than_before(
    store: Store,
) -> None:
    journal = Journal(store)
    old_done = await journal.begin("upsertContact", REQUEST, [(0, A), (0, K)], lease=30)
    await journal.record(old_done, {(0, A): LegOutcome("created"), (0, K): LegOutcome("updated")})
    old_failed = await journal.begin("deleteContact", REQUEST, [(0, A)], lease=30)
    await journal.record(old_failed, {(0, A): LegOutcome("failed", message="gone")})
    old_partial = await journal.begin("upsertContact", REQUEST, [(0, A), (0, K)], lease=30)
    await journal.record(old_partial, {(0, A): LegOutcome("created"), (0, K): LegOutcome("failed")})
    old_pending = await journal.begin(BULK, REQUEST, [(0, A), (1, A)], inputs=2)
    old_queued = await journal.begin("upsertContact", REQUEST, [(0, A)], lease=30)
    await journal.record(
        old_queued, {(0, A): LegOutcome("queued", message="503", next_attempt_at=later(60))}
    )
    assert (await journal.claim_key("old", "h", ttl=3600)).verdict == "new"
    await asyncio.sleep(0.01)
    cutoff = datetime.now(UTC)
    await asyncio.sleep(0.01)
    new_done = await journal.begin("upsertContact", REQUEST, [(0, T)], lease=30)
    await journal.record(new_done, {(0, T): LegOutcome("created")})
    assert (await journal.claim_key("young", "h", ttl=3600)).verdict == "new"

    assert await journal.prune(before=cutoff) == 3
    for gone in (old_done, old_failed, old_partial):
        assert await journal.operation(gone) is None
        assert await journal.legs(gone, status=None, offset=0, limit=10) == []
        assert await journal.progress(gone) == {}
    kept, _ = await journal.operations(status=None, first=10, after=None)
    assert sorted(view.id for view in kept) == sorted([old_pending, old_queued, new_done])
    assert await statuses(journal, old_pending) == {(0, A): "pending", (1, A): "pending"}
    assert await statuses(journal, old_queued) == {(0, A): "queued"}
    assert await statuses(journal, new_done) == {(0, T): "created"}
    # The old key is forgotten (the same request is new again); the young one is kept.
    assert await journal.claim_key("old", "h", ttl=3600) == KeyClaim("new")
    assert await journal.claim_key("young", "h", ttl=3600) == KeyClaim("in_use")
    assert await journal.prune(before=cutoff) == 0


# -- idempotency keys ------------------------------------------------------------------


async def test_an_idempotency_key_is_new_then_in_use_then_replayed(store: Store) -> None:
    journal = Journal(store)
    assert await journal.claim_key("crm:k1", "hash-1", ttl=3600) == KeyClaim("new")
    assert await journal.claim_key("crm:k1", "hash-1", ttl=3600) == KeyClaim("in_use")
    assert await journal.claim_key("crm:k1", "hash-2", ttl=3600) == KeyClaim("reused")
    assert await journal.claim_key("crm:k2", "hash-1", ttl=3600) == KeyClaim("new")

    answer = '{"data": {"upsertContact": {"id": "p-1"}}}'
    await journal.finish_key("crm:k1", answer)
    assert await journal.claim_key("crm:k1", "hash-1", ttl=3600) == KeyClaim("replay", answer)
    assert await journal.claim_key("crm:k1", "hash-1", ttl=3600) == KeyClaim("replay", answer)
    assert await journal.claim_key("crm:k1", "hash-2", ttl=3600) == KeyClaim("reused")
    assert await journal.claim_key("crm:k2", "hash-1", ttl=3600) == KeyClaim("in_use")


async def test_a_key_finished_without_an_answer_or_older_than_its_ttl_is_new_again(
    store: Store,
) -> None:
    journal = Journal(store)
    assert await journal.claim_key("crm:k1", "hash-1", ttl=3600) == KeyClaim("new")
    await journal.finish_key("crm:k1", None)
    assert await journal.claim_key("crm:k1", "hash-1", ttl=3600) == KeyClaim("new")
    await journal.finish_key("crm:k1", None)
    assert await journal.claim_key("crm:k1", "hash-2", ttl=3600) == KeyClaim("new")
    assert await journal.claim_key("crm:k1", "hash-2", ttl=3600) == KeyClaim("in_use")
    await journal.finish_key("never-claimed", None)  # nothing to forget: no error

    assert await journal.claim_key("crm:k2", "hash-1", ttl=60) == KeyClaim("new")
    await journal.finish_key("crm:k2", "first answer")
    assert await journal.claim_key("crm:k2", "hash-1", ttl=60) == KeyClaim("replay", "first answer")
    await asyncio.sleep(0.05)
    assert await journal.claim_key("crm:k2", "hash-1", ttl=0.02) == KeyClaim("new")
    assert await journal.claim_key("crm:k2", "hash-1", ttl=60) == KeyClaim("in_use")
    # Expired, the key may come with another request.
    assert await journal.claim_key("crm:k1", "hash-3", ttl=0.02) == KeyClaim("new")
