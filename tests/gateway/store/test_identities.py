"""Who is who, on SQLite and on PostgreSQL: stable ids, learning links, merges and unlinks,
and two first sightings of one email at once ending as one person."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from gateway.domain.keys import AccountKey
from gateway.domain.records import ContactRecord, Provider
from gateway.store import Store, StoreUnavailable, open_store
from gateway.store.identities import Identified, Identities, UnknownPerson, new_id

A, T, L = Provider.ADAPTIX, Provider.TRUSTMARY, Provider.LUNARSEND


def record(
    provider: Provider, remote_id: str, email: str | None = None, **kw: object
) -> ContactRecord:
    return ContactRecord(provider=provider, remote_id=remote_id, email=email, **kw)  # type: ignore[arg-type]


def ids(answer: list[Identified]) -> list[tuple[str, list[str]]]:
    return [
        (a.person_id, sorted(f"{r.provider.value}:{r.remote_id}" for r in a.records))
        for a in answer
    ]


def test_new_ids_are_uuid7_and_differ() -> None:
    first, second = new_id(), new_id()
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )
    assert first != second


async def test_a_person_keeps_their_id_and_records_are_learned(store: Store) -> None:
    identities = Identities(store, memory_seconds=0)
    [[ada]] = await identities.identify(
        [[record(A, "1", "ada@x.test"), record(T, "t1", "ADA@x.test")]]
    )
    # Later the same records (and a new one sharing the email) are the same person.
    [[again]] = await identities.identify(
        [[record(A, "1", "ada@x.test"), record(L, "l1", "ada@x.test")]]
    )
    assert again.person_id == ada.person_id
    # Her email changed at Adaptix: the link by remote id still finds her.
    [[moved]] = await identities.identify([[record(A, "1", "lovelace@new.test")]])
    assert moved.person_id == ada.person_id
    stored = (await identities.persons([ada.person_id]))[ada.person_id]
    assert set(stored.links) == {("adaptix", "1"), ("trustmary", "t1"), ("lunarsend", "l1")}
    assert set(stored.emails) == {"ada@x.test", "lovelace@new.test"}


async def test_a_restart_reads_the_same_ids(store: Store) -> None:
    [[ada]] = await Identities(store).identify([[record(A, "1", "ada@x.test")]])
    fresh = Identities(store)  # a new process: nothing in memory
    [[again]] = await fresh.identify([[record(A, "1", "ada@x.test")]])
    assert again.person_id == ada.person_id


async def test_rules_joining_two_known_persons_merge_them_into_the_older(store: Store) -> None:
    identities = Identities(store, memory_seconds=0)
    [[by_email]] = await identities.identify([[record(A, "1", "ada@x.test")]])
    [[by_eid]] = await identities.identify([[record(T, "t1", "other@x.test", external_id="u-7")]])
    assert by_email.person_id != by_eid.person_id
    # A record with both keys shows they are one person.
    [[joined]] = await identities.identify(
        [[record(A, "1", "ada@x.test"), record(L, "l9", "ada@x.test", external_id="u-7")]]
    )
    assert joined.person_id == by_email.person_id
    merged = await identities.persons([by_eid.person_id])
    assert merged[by_eid.person_id].id == by_email.person_id  # the old id resolves


async def test_merge_by_hand_then_every_id_resolves_to_the_survivor(store: Store) -> None:
    identities = Identities(store, memory_seconds=0)
    [[ada]] = await identities.identify([[record(A, "1", "ada@x.test")]])
    [[lovelace]] = await identities.identify([[record(L, "2", "lovelace@x.test")]])
    survivor = await identities.merge([ada.person_id, lovelace.person_id])
    assert survivor == ada.person_id
    found = await identities.persons([ada.person_id, lovelace.person_id])
    assert found[lovelace.person_id].id == survivor
    assert set(found[survivor].links) == {("adaptix", "1"), ("lunarsend", "2")}
    # Looking either record up again gives the survivor.
    [[again]] = await identities.identify([[record(L, "2", "lovelace@x.test")]])
    assert again.person_id == survivor


async def test_merge_refuses_unknown_ids_and_a_person_with_itself(store: Store) -> None:
    identities = Identities(store, memory_seconds=0)
    [[ada]] = await identities.identify([[record(A, "1", "ada@x.test")]])
    with pytest.raises(UnknownPerson) as unknown:
        await identities.merge([ada.person_id, new_id()])
    assert unknown.value.args[0] != ada.person_id
    with pytest.raises(ValueError, match="already one person"):
        await identities.merge([ada.person_id, ada.person_id])


async def test_an_unlinked_record_stays_apart_whatever_the_rules_say(store: Store) -> None:
    identities = Identities(store, memory_seconds=0)
    group = [record(A, "1", "ada@x.test"), record(L, "9", "ada@x.test")]
    [[ada]] = await identities.identify([group])
    detached = await identities.unlink(ada.person_id, L, "9")
    assert detached != ada.person_id
    # The rules still join them by email; the decision wins.
    answer = await identities.identify([group])
    assert sorted(ids(answer[0])) == sorted(
        [(ada.person_id, ["adaptix:1"]), (detached, ["lunarsend:9"])]
    )
    with pytest.raises(UnknownPerson):
        await identities.unlink(ada.person_id, L, "9")  # no longer hers


async def test_concurrent_first_sightings_of_one_email_make_one_person(
    store: Store,
) -> None:
    # Two processes (two engines, nothing shared in memory) see Ada at once.
    other = open_store(str(store.engine.url).replace("+aiosqlite", "").replace("+asyncpg", ""))
    try:
        first, second = Identities(store), Identities(other)
        answers = await asyncio.gather(
            *(
                (first if i % 2 else second).identify([[record(A, f"a{i}", "ada@x.test")]])
                for i in range(8)
            )
        )
    finally:
        await other.close()
    persons = {a[0][0].person_id for a in answers}
    assert len(persons) == 1


async def test_concurrent_lookups_of_one_person_share_one_store_transaction(
    store: Store,
) -> None:
    """When what is remembered runs out, the requests in flight for the same person
    do not each ask the store: one does, the others take its answer from memory, each
    with its own records."""
    identities = Identities(store)
    groups = [[record(A, "1", "ada@x.test"), record(T, "t1", "ADA@x.test")] for _ in range(8)]
    begun: list[object] = []

    def count(connection: object) -> None:
        begun.append(connection)

    event.listen(Engine, "begin", count)
    try:
        asked = asyncio.gather(*(identities.identify([group]) for group in groups))
        answers = await asyncio.wait_for(asked, 10)
    finally:
        event.remove(Engine, "begin", count)

    assert len(begun) == 1
    assert len({answer[0][0].person_id for answer in answers}) == 1
    for group, [[identified]] in zip(groups, answers, strict=True):
        assert len(identified.records) == 2
        assert all(mine is got for mine, got in zip(group, identified.records, strict=True))


async def test_a_lookup_waiting_on_a_failed_one_asks_the_store_itself(store: Store) -> None:
    """The request a concurrent one waited on ends without an answer (its task is
    cancelled: the client hung up): the waiting one still gets its person."""
    identities = Identities(store)
    first = asyncio.ensure_future(identities.identify([[record(A, "1", "ada@x.test")]]))
    await asyncio.sleep(0)  # the first is asking the store
    second = asyncio.ensure_future(identities.identify([[record(A, "1", "ada@x.test")]]))
    await asyncio.sleep(0)
    first.cancel()
    [[ada]] = await asyncio.wait_for(second, 10)
    assert first.cancelled()
    assert [r.remote_id for r in ada.records] == ["1"]
    [[again]] = await Identities(store).identify([[record(A, "1", "ada@x.test")]])
    assert again.person_id == ada.person_id


async def test_lookups_waiting_on_one_the_store_failed_fail_with_it(tmp_path: Path) -> None:
    """A store that does not answer fails the lookup asking it and every lookup waiting
    on it at once, not each after its own try in turn."""
    unreachable = tmp_path / "a-directory"
    unreachable.mkdir()
    store = open_store(f"sqlite:///{unreachable}")
    tries: list[object] = []

    def count(*_: object) -> None:
        tries.append(_)

    event.listen(Engine, "do_connect", count)
    try:
        identities = Identities(store)
        asked = [identities.identify([[record(A, "1", "ada@x.test")]]) for _ in range(4)]
        outcomes = await asyncio.wait_for(asyncio.gather(*asked, return_exceptions=True), 10)
    finally:
        event.remove(Engine, "do_connect", count)
        await store.close()
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert len(tries) == 1


async def test_an_answer_asked_for_before_a_merge_is_not_remembered_after_it(
    store: Store,
) -> None:
    """A lookup asking the store when a merge or an unlink makes this process forget
    what it remembered does not remember its (older) answer either."""
    identities = Identities(store)
    group = [record(A, "1", "ada@x.test")]
    before = asyncio.ensure_future(identities.identify([group]))
    await asyncio.sleep(0)  # it is asking the store
    identities.forget()  # as a merge or an unlink does
    await before
    begun: list[object] = []
    count = begun.append
    event.listen(Engine, "begin", count)
    try:
        await identities.identify([group])
    finally:
        event.remove(Engine, "begin", count)
    assert len(begun) == 1  # asked the store again: nothing was remembered


async def test_what_the_gateway_wrote_is_remembered_on_the_person(store: Store) -> None:
    identities = Identities(store, memory_seconds=0)
    person = await identities.wrote(
        [("email", "grace@navy.test"), ("eid", "u-1906")],
        [
            (Provider.AKITA, "55", {"first_name": "Grace"}),
            (Provider.INTERAKT, "grace@navy.test", {}),
        ],
    )
    [[read]] = await identities.identify([[record(A, "1", "GRACE@navy.test")]])
    assert read.person_id == person
    written = (await identities.written([person]))[person]
    assert {(w.provider, w.remote_id) for w in written} == {
        (Provider.AKITA, "55"),
        (Provider.INTERAKT, "grace@navy.test"),
    }
    assert next(w for w in written if w.provider is Provider.AKITA).written == {
        "first_name": "Grace"
    }


async def test_account_ids_are_opaque_and_stable(store: Store) -> None:
    identities = Identities(store)
    key = AccountKey.of(None, "Acme Oy")
    assert key is not None
    account = await identities.account_id(key)
    assert "acme" not in account.lower()
    assert await Identities(store).account_id(key) == account
    assert await Identities(store).account_key(account) == key
    assert await identities.account_key(new_id()) is None
