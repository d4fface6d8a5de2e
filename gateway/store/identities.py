"""Who is who: stable person ids, the records linked to them, merges and unlinks.

`identify` is asked, for each group of records the federation rules put
together (same email or external id), which person it is. It answers from the
links and identifiers already stored, records what it learns (new records, new
emails), and splits off any record a person placed elsewhere by hand: an unlink
is never undone by the rules, and persons merged by hand stay merged. When the
rules join records that the store knew as two persons, they become one
(`auto-merge`), the older id surviving. Every change happens in one
transaction; two processes that first see the same email at once end with one
person, because an identifier belongs to exactly one person (its primary key)
and the loser of the race adopts the winner's person.

Known links and identifiers are also kept in memory for `memory_seconds`, so a
person looked up again soon costs no query; another process's merge or unlink
is seen once that time has passed.

Each call's transaction is one `Store.run`: the functions after `Identities` do
its statements on a synchronous connection (on SQLite, on the store's thread)
and touch nothing else; what is kept in memory changes on the event loop, once
the transaction is over.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Executable,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from gateway.domain.keys import AccountKey
from gateway.domain.normalize import normalize_email
from gateway.domain.records import ContactRecord, Provider, WrittenSource
from gateway.store.engine import Store, StoreUnavailable
from gateway.store.tables import accounts, decisions, identifiers, links, persons

LinkKey = tuple[str, str]  # (provider, remote id)
IdentifierKey = tuple[str, str]  # ("email" | "eid", value)


_last_id = 0
_id_lock = threading.Lock()


# People a write may remember and still be done on the event loop (`Store.run`).
SMALL = 5


def new_id() -> str:
    """A UUIDv7: 48 bits of Unix milliseconds, then random bits (RFC 9562). Within a
    process each id is greater than the one before, also in the same millisecond (the
    random bits then count up, RFC 9562 method 2), so ids sort in the order made."""
    global _last_id
    millis = time.time_ns() // 1_000_000
    value = (millis & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    with _id_lock:
        if value <= _last_id:
            value = _last_id + 1
            if value & (0x3 << 62) != 0x2 << 62:  # the counter ran into the variant bits
                value = (value & ~(0x3 << 62)) | (0x2 << 62)
        _last_id = value
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def record_identifiers(record: ContactRecord) -> list[IdentifierKey]:
    found = [("email", e) for e in map(normalize_email, [record.email, *record.emails]) if e]
    if record.external_id:
        found.append(("eid", record.external_id))
    return list(dict.fromkeys(found))


def _asked(group: Sequence[ContactRecord]) -> tuple[Any, ...]:
    """What the store is asked about a group: its records' links and identifiers."""
    return tuple(
        (record.provider.value, record.remote_id, *record_identifiers(record)) for record in group
    )


@dataclass(frozen=True, slots=True)
class Identified:
    """One person of a group: its id and the group's records that are theirs (`placed`:
    by a person's decision, against what the rules would say)."""

    person_id: str
    records: list[ContactRecord]
    placed: bool = False


@dataclass(slots=True)
class StoredPerson:
    """What the store knows of a person (merged persons' included).

    Attributes:
        id: the surviving person's id.
        links: (provider, remote id) of every record linked to them.
        emails: normalized emails they own.
        external_ids: external ids they own.
        written: the records the gateway wrote, with what and when.
    """

    id: str
    links: list[LinkKey] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    written: list[WrittenSource] = field(default_factory=list)


class UnknownPerson(LookupError):
    """An id no person has (or had)."""


class _Conflict(Exception):
    """Another process stored the same identifier first: identify again."""


class Identities:
    """The identity half of the store.

    Args:
        store: the open store.
        memory_seconds: how long a known link or identifier is trusted from memory.
    """

    def __init__(self, store: Store, *, memory_seconds: float = 10.0) -> None:
        self.store = store
        self.memory_seconds = memory_seconds
        self._links: dict[LinkKey, tuple[str, bool, float]] = {}
        self._identifiers: dict[IdentifierKey, tuple[str, float]] = {}
        self._accounts: dict[str, str] = {}
        self._account_keys: dict[str, str] = {}
        self._written: dict[str, tuple[list[WrittenSource], float]] = {}
        # What the calls asking the store right now asked for (`_asked`), and their end.
        self._asking: dict[tuple[Any, ...], asyncio.Future[BaseException | None]] = {}
        # Counts `forget`s: an answer asked for before one is not remembered.
        self._generation = 0

    # -- identify ---------------------------------------------------------------------

    async def identify(self, groups: Sequence[Sequence[ContactRecord]]) -> list[list[Identified]]:
        """The persons each group of records belongs to (usually one per group).

        A group asked of the store while another call is asking it for the same records
        (requests in flight for one person when what was remembered ran out) waits for
        that call: the store's failure is its failure too, and otherwise it takes the
        answer the call left in memory. When there is none (the call was cancelled, or
        lost a race; a merge or an unlink since), it asks the store itself. Nothing is
        shared when nothing is remembered (`memory_seconds` 0).
        """
        answers = [self._remembered(group) for group in groups]
        todo = [i for i, answer in enumerate(answers) if answer is None]
        if not todo:
            return [a for a in answers if a is not None]
        if self.memory_seconds <= 0:
            await self._ask(groups, todo, {}, answers)
            return [a for a in answers if a is not None]
        keys = {i: _asked(groups[i]) for i in todo}
        others = {i: self._asking[key] for i, key in keys.items() if key in self._asking}
        mine = [i for i in todo if i not in others]
        if mine:
            await self._ask(groups, mine, keys, answers)
        if others:
            await asyncio.wait(set(others.values()))
            for i, done in others.items():
                failure = done.result()
                if isinstance(failure, StoreUnavailable):
                    raise StoreUnavailable(str(failure)) from failure
                answers[i] = self._remembered(groups[i])
            again = [i for i in others if answers[i] is None]
            if again:
                await self._ask(groups, again, {}, answers)
        return [a for a in answers if a is not None]

    async def _ask(
        self,
        groups: Sequence[Sequence[ContactRecord]],
        todo: list[int],
        keys: Mapping[int, tuple[Any, ...]],
        answers: list[list[Identified] | None],
    ) -> None:
        """Ask the store for `todo`'s groups (one transaction), filling `answers`; calls
        asking for the same records (`keys`) meanwhile wait for this one, and learn how
        it ended (None, or what it raised)."""
        done: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
        mine = {keys[i] for i in todo if i in keys and keys[i] not in self._asking}
        for key in mine:
            self._asking[key] = done
        generation = self._generation
        asked = [groups[i] for i in todo]
        failure: BaseException | None = None
        try:
            for attempt in range(3):
                try:
                    found = await self.store.run(lambda connection: _identify(connection, asked))
                    break
                except _Conflict:
                    if attempt == 2:
                        raise
            for i, answer in zip(todo, found, strict=True):
                answers[i] = answer
                if generation == self._generation:  # not across a merge or an unlink
                    self._learn(answer)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            for key in mine:
                if self._asking.get(key) is done:
                    del self._asking[key]
            done.set_result(failure)

    def _remembered(self, group: Sequence[ContactRecord]) -> list[Identified] | None:
        """The answer from memory, when every record's link is known and fresh."""
        now = time.monotonic()
        by_person: dict[str, list[ContactRecord]] = {}
        for record in group:
            known = self._links.get((record.provider.value, record.remote_id))
            if known is None or known[2] < now or known[1]:
                return None  # unknown, stale, or placed by hand: ask the store
            by_person.setdefault(known[0], []).append(record)
        for record in group:
            for key in record_identifiers(record):
                known_id = self._identifiers.get(key)
                if known_id is None or known_id[1] < now:
                    return None
        return [Identified(p, records) for p, records in by_person.items()]

    def _learn(self, answer: Sequence[Identified]) -> None:
        until = time.monotonic() + self.memory_seconds
        for identified in answer:
            for record in identified.records:
                self._links[(record.provider.value, record.remote_id)] = (
                    identified.person_id,
                    identified.placed,
                    until,
                )
                if not identified.placed:
                    for key in record_identifiers(record):
                        self._identifiers[key] = (identified.person_id, until)
        if len(self._links) > 100_000:
            self._links.clear()
            self._identifiers.clear()

    def forget(self) -> None:
        """Drop what is remembered (after a merge or an unlink), and what the calls still
        asking the store would remember: they began before it."""
        self._links.clear()
        self._identifiers.clear()
        self._written.clear()
        self._asking.clear()
        self._generation += 1

    # -- persons by id ----------------------------------------------------------------

    async def persons(self, ids: Sequence[str]) -> dict[str, StoredPerson]:
        """What the store knows of each id's person (merged ids resolve to the survivor);
        ids no person has are left out."""

        def read(connection: Connection) -> dict[str, StoredPerson]:
            exists = {row.id for row in connection.execute(_PERSONS, {"ids": list(ids)})}
            survivors = _survivors(connection, exists)
            wanted = list(set(survivors.values()))
            people = {p: StoredPerson(p) for p in wanted}
            for row in connection.execute(_LINKS_OF, {"ids": wanted}):
                person = people[row.person_id]
                person.links.append((row.provider, row.remote_id))
                if row.last_written_at is not None:
                    person.written.append(
                        WrittenSource(
                            Provider(row.provider),
                            row.remote_id,
                            _aware(row.last_written_at),
                            row.written or {},
                        )
                    )
            for row in connection.execute(_IDENTIFIERS_OF, {"ids": wanted}):
                target = (
                    people[row.person_id].emails
                    if row.kind == "email"
                    else people[row.person_id].external_ids
                )
                target.append(row.value)
            return {i: people[survivors[i]] for i in ids if i in survivors}

        return await self.store.run(read)

    async def records_by_external_id(
        self, provider: Provider, external_ids: Sequence[str]
    ) -> dict[str, str]:
        """The remote id of the `provider` record of the person owning each external id,
        for the ids whose person has one (the most recently written, when several)."""
        wanted = list(dict.fromkeys(external_ids))
        if not wanted:
            return {}

        def read(connection: Connection) -> dict[str, str]:
            found: dict[str, tuple[str, datetime | None]] = {}
            for chunk in _chunks(wanted):
                rows = connection.execute(
                    _RECORDS_BY_EID, {"values": list(chunk), "provider": provider.value}
                )
                for row in rows:
                    at = _aware(row.last_written_at) if row.last_written_at else None
                    known = found.get(row.value)
                    newer = known is None or (
                        at is not None and (known[1] is None or at > known[1])
                    )
                    if newer:
                        found[row.value] = (row.remote_id, at)
            return {value: remote_id for value, (remote_id, _) in found.items()}

        return await self.store.run(read)

    async def written(self, person_ids: Sequence[str]) -> dict[str, list[WrittenSource]]:
        """The records the gateway wrote for each person (remembered for a while, and
        forgotten here as soon as this process writes for the person)."""
        now = time.monotonic()
        found: dict[str, list[WrittenSource]] = {}
        missing = []
        for person_id in dict.fromkeys(person_ids):
            known = self._written.get(person_id)
            if known is not None and known[1] >= now:
                found[person_id] = known[0]
            else:
                missing.append(person_id)
        if not missing:
            return found

        def read(connection: Connection) -> dict[str, list[WrittenSource]]:
            fresh: dict[str, list[WrittenSource]] = {p: [] for p in missing}
            for row in connection.execute(_WRITTEN, {"ids": missing}):
                fresh[row.person_id].append(
                    WrittenSource(
                        Provider(row.provider),
                        row.remote_id,
                        _aware(row.last_written_at),
                        row.written or {},
                    )
                )
            return fresh

        generation = self._generation
        fresh = await self.store.run(read)
        until = now + self.memory_seconds
        if generation == self._generation:  # not across a merge or an unlink
            for person_id, sources in fresh.items():
                self._written[person_id] = (sources, until)
        found.update(fresh)
        return found

    # -- writes -----------------------------------------------------------------------

    async def wrote(
        self,
        person_keys: Sequence[IdentifierKey],
        writes: Sequence[tuple[Provider, str, Mapping[str, Any]]],
    ) -> str:
        """Remember what the gateway wrote for one person; see `wrote_many`."""
        return (await self.wrote_many([(person_keys, writes)]))[0]

    async def wrote_many(
        self,
        items: Sequence[
            tuple[Sequence[IdentifierKey], Sequence[tuple[Provider, str, Mapping[str, Any]]]]
        ],
    ) -> list[str]:
        """Remember what the gateway wrote: per item, a person's identifiers (emails,
        external ids; a person is created when none owns them) and the (provider,
        remote id, what was written) of each record written. One transaction for all
        of them, a handful of statements however many there are. Returns each item's
        person id."""
        now = datetime.now(UTC)
        for attempt in range(3):
            try:
                people = await self.store.run(
                    lambda connection: _wrote(connection, items, now), small=len(items) <= SMALL
                )
                for person, (_, writes) in zip(people, items, strict=True):
                    self._written.pop(person, None)
                    for provider, remote_id, _payload in writes:
                        self._links.pop((provider.value, remote_id), None)
                return people
            except _Conflict:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- decisions --------------------------------------------------------------------

    async def merge(self, person_ids: Sequence[str]) -> str:
        """Make the persons one; the oldest id survives and every id resolves to it.

        Raises:
            UnknownPerson: an id no person has (its text is the id).
            ValueError: fewer than two distinct persons.
        """
        now = datetime.now(UTC)

        def write(connection: Connection) -> str:
            known = {row.id for row in connection.execute(_CREATED, {"ids": list(person_ids)})}
            for person_id in person_ids:
                if person_id not in known:
                    raise UnknownPerson(person_id)
            survivors = _survivors(connection, set(person_ids))
            distinct = set(survivors.values())
            if len(distinct) < 2:
                raise ValueError("these ids are already one person")
            survivor = _oldest(connection, distinct)
            for other in sorted(distinct - {survivor}):
                _merge_into(connection, other, survivor, now, kind="merge")
            # A merge is a decision: the records stay together whatever the rules say.
            connection.execute(
                update(links).where(links.c.person_id == survivor).values(manual=True)
            )
            return survivor

        survivor = await self.store.run(write)
        self.forget()
        return survivor

    async def unlink(self, person_id: str, provider: Provider, remote_id: str) -> str:
        """Split one record off into a person of its own, for good. Returns the new id.

        Raises:
            UnknownPerson: the person does not exist, or does not have this record.
        """
        now = datetime.now(UTC)

        def write(connection: Connection) -> str:
            owner = _survivors(connection, {person_id})[person_id]
            row = connection.execute(
                select(links.c.person_id)
                .where(links.c.provider == provider.value)
                .where(links.c.remote_id == remote_id)
            ).first()
            if row is None or _survivors(connection, {row.person_id})[row.person_id] != owner:
                raise UnknownPerson(f"{provider.value}:{remote_id}")
            detached = new_id()
            connection.execute(_INSERT_PERSON, {"id": detached, "created_at": now})
            connection.execute(
                update(links)
                .where(links.c.provider == provider.value)
                .where(links.c.remote_id == remote_id)
                .values(person_id=detached, manual=True)
            )
            connection.execute(
                insert(decisions).values(
                    at=now,
                    kind="unlink",
                    person_id=owner,
                    other=f"{provider.value}:{remote_id}",
                    detail={"detached": detached},
                )
            )
            return detached

        detached = await self.store.run(write)
        self.forget()
        return detached

    # -- accounts ---------------------------------------------------------------------

    async def account_id(self, key: AccountKey) -> str:
        """The opaque id of an account key, minted on first use."""
        token = key.token
        known = self._accounts.get(token)
        if known is not None:
            return known

        def mint(connection: Connection) -> str:
            _insert_missing(connection, accounts, [{"id": new_id(), "key": token}])
            return str(connection.execute(_ACCOUNT_ID, {"key": token}).scalar_one())

        found = await self.store.run(mint)
        self._accounts[token] = found
        self._account_keys[found] = token
        return found

    async def account_key(self, account_id: str) -> AccountKey | None:
        token = self._account_keys.get(account_id)
        if token is None:
            token = await self.store.run(
                lambda connection: connection.execute(
                    _ACCOUNT_KEY, {"id": account_id}
                ).scalar_one_or_none()
            )
            if token is None:
                return None
            self._account_keys[account_id] = token
        return AccountKey.parse(token)

    async def clear_all(self) -> None:
        """Delete every identity (tests)."""

        def clear(connection: Connection) -> None:
            for table in (decisions, identifiers, links, accounts):
                connection.execute(delete(table))
            connection.execute(update(persons).values(merged_into=None))
            connection.execute(delete(persons))

        await self.store.run(clear)
        self.forget()


# -- one transaction's statements, on a synchronous connection --------------------------


def _ignoring_conflicts(table: Table) -> dict[str, Executable]:
    """`INSERT ... ON CONFLICT DO NOTHING` into `table`, by dialect name."""
    return {
        "postgresql": postgresql.insert(table).on_conflict_do_nothing(),
        "sqlite": sqlite.insert(table).on_conflict_do_nothing(),
    }


# Built once, executed with parameters: a statement made per call with literal values
# costs more to build than SQLite takes to run it.
_INSERT_PERSON = insert(persons)
_INSERT_MISSING = {
    table.name: _ignoring_conflicts(table) for table in (links, identifiers, accounts)
}
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)  # a list of person ids
_PERSONS = select(persons.c.id).where(persons.c.id.in_(_IDS))
_CREATED = select(persons.c.id, persons.c.created_at).where(persons.c.id.in_(_IDS))
_MERGED = select(persons.c.id, persons.c.merged_into).where(
    persons.c.id.in_(_IDS), persons.c.merged_into.is_not(None)
)
_LINKS_OF = select(links).where(links.c.person_id.in_(_IDS))
_IDENTIFIERS_OF = select(identifiers).where(identifiers.c.person_id.in_(_IDS))
_WRITTEN = _LINKS_OF.where(links.c.last_written_at.is_not(None))
_RECORDS_BY_EID = (
    select(identifiers.c.value, links.c.remote_id, links.c.last_written_at)
    .join(links, links.c.person_id == identifiers.c.person_id)
    .where(identifiers.c.kind == "eid")
    .where(identifiers.c.value.in_(bindparam("values", expanding=True)))
    .where(links.c.provider == bindparam("provider"))
    .order_by(links.c.remote_id)
)
_FOLLOW_RULES = (
    update(links)
    .where(links.c.provider == bindparam("p"))
    .where(links.c.remote_id == bindparam("r"))
    .where(links.c.person_id != bindparam("person"))
    .where(links.c.manual.is_(False))
    .values(person_id=bindparam("person"))
)
_RECORD_WRITE = (
    update(links)
    .where(links.c.provider == bindparam("p"))
    .where(links.c.remote_id == bindparam("r"))
    .values(last_written_at=bindparam("at"), written=bindparam("w"))
)
_ACCOUNT_ID = select(accounts.c.id).where(accounts.c.key == bindparam("key"))
_ACCOUNT_KEY = select(accounts.c.key).where(accounts.c.id == bindparam("id"))


def _identify(
    connection: Connection, groups: Sequence[Sequence[ContactRecord]]
) -> list[list[Identified]]:
    now = datetime.now(UTC)
    link_keys = list({(r.provider.value, r.remote_id) for g in groups for r in g})
    ident_keys = list({k for g in groups for r in g for k in record_identifiers(r)})
    stored_links = _select_links(connection, link_keys)
    stored_idents = _select_identifiers(connection, ident_keys)
    survivors = _survivors(
        connection, {p for p, _ in stored_links.values()} | set(stored_idents.values())
    )
    answers: list[list[Identified]] = []
    for group in groups:
        # The rules' person comes first; records placed elsewhere by hand after it.
        answer: dict[str, list[ContactRecord]] = {}
        placed: dict[str, list[ContactRecord]] = {}
        automatic: list[ContactRecord] = []
        for record in group:
            stored = stored_links.get((record.provider.value, record.remote_id))
            if stored is not None and stored[1]:  # placed by hand: it stays
                placed.setdefault(survivors[stored[0]], []).append(record)
            else:
                automatic.append(record)
        if automatic:
            candidates = {
                survivors[stored_links[key][0]]
                for r in automatic
                if (key := (r.provider.value, r.remote_id)) in stored_links
            }
            candidates |= {
                survivors[stored_idents[k]]
                for r in automatic
                for k in record_identifiers(r)
                if k in stored_idents
            }
            person = _one_of(connection, candidates, now)
            for other in candidates - {person}:
                survivors.update({k: person for k, v in survivors.items() if v == other})
            _attach(connection, person, automatic, now)
            for record in automatic:
                stored_links[(record.provider.value, record.remote_id)] = (person, False)
                for k in record_identifiers(record):
                    stored_idents.setdefault(k, person)
            survivors[person] = person
            answer.setdefault(person, []).extend(automatic)
        found = [Identified(p, rs) for p, rs in answer.items()]
        found += [Identified(p, rs, placed=True) for p, rs in placed.items() if p not in answer]
        answers.append(found)
    return answers


def _one_of(connection: Connection, candidates: set[str], now: datetime) -> str:
    """The person `candidates` are: a new one, the one, or the oldest, the others merged in."""
    if not candidates:
        person = new_id()
        connection.execute(_INSERT_PERSON, {"id": person, "created_at": now})
        return person
    if len(candidates) == 1:
        return next(iter(candidates))
    survivor = _oldest(connection, candidates)
    for other in sorted(candidates - {survivor}):
        _merge_into(connection, other, survivor, now, kind="auto-merge")
    return survivor


def _oldest(connection: Connection, ids: set[str]) -> str:
    """The person of `ids` made first (the smaller id when two were made at once)."""
    rows = connection.execute(_CREATED, {"ids": list(ids)}).all()
    return str(min(rows, key=lambda row: (row.created_at, row.id)).id)


def _attach(
    connection: Connection, person: str, records: Sequence[ContactRecord], now: datetime
) -> None:
    """Link `records` and their identifiers to `person` where nothing is stored yet;
    a concurrent transaction that stored them first makes this one start again."""
    wanted_links = {(r.provider.value, r.remote_id) for r in records}
    wanted_idents = {k for r in records for k in record_identifiers(r)}
    _insert_missing(
        connection,
        links,
        [
            {
                "provider": p,
                "remote_id": rid,
                "person_id": person,
                "manual": False,
                "first_seen_at": now,
            }
            for p, rid in wanted_links
        ],
    )
    _insert_missing(
        connection,
        identifiers,
        [{"kind": kind, "value": value, "person_id": person} for kind, value in wanted_idents],
    )
    # Links of this group that an earlier automatic sighting put on another person
    # follow the rules' decision (manual ones were set aside before).
    if wanted_links:
        connection.execute(
            _FOLLOW_RULES, [{"p": p, "r": rid, "person": person} for p, rid in wanted_links]
        )
    owners = _select_identifiers(connection, list(wanted_idents))
    survivors = _survivors(connection, set(owners.values()))
    if any(survivors[owner] != person for owner in owners.values()):
        raise _Conflict


def _insert_missing(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table` (links, identifiers or accounts), but none that is
    there already."""
    if rows:
        connection.execute(_INSERT_MISSING[table.name][connection.dialect.name], rows)


def _select_links(
    connection: Connection, keys: Sequence[LinkKey]
) -> dict[LinkKey, tuple[str, bool]]:
    found: dict[LinkKey, tuple[str, bool]] = {}
    for chunk in _chunks(keys):
        groups, params = _pairs_params(chunk)
        for row in connection.execute(_links_query(groups), params):
            found[(row.provider, row.remote_id)] = (row.person_id, bool(row.manual))
    return found


def _select_identifiers(
    connection: Connection, keys: Sequence[IdentifierKey]
) -> dict[IdentifierKey, str]:
    found: dict[IdentifierKey, str] = {}
    for chunk in _chunks(keys):
        groups, params = _pairs_params(chunk)
        for row in connection.execute(_identifiers_query(groups), params):
            found[(row.kind, row.value)] = row.person_id
    return found


def _pairs_in(first: Column[str], second: Column[str], groups: int) -> ColumnElement[bool]:
    """`(first, second) IN pairs`, written so an index on (first, second) serves it:
    SQLite plans a row-value `IN (VALUES ...)` of two or more pairs as a scan of the
    whole table (2-4 ms at 10,000 persons, growing with the store); grouped by the first
    column each group is `first = :first0 AND second IN :second0 OR ...`, an index
    search. The values come from `_pairs_params`; built once per number of groups
    (providers, kinds: a handful)."""
    return or_(
        *(
            and_(
                first == bindparam(f"first{i}"),
                second.in_(bindparam(f"second{i}", expanding=True)),
            )
            for i in range(groups)
        )
    )


def _pairs_params(pairs: Iterable[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
    """How many distinct first values `pairs` have, and the parameters of `_pairs_in`."""
    grouped: dict[str, list[str]] = {}
    for first, second in pairs:
        grouped.setdefault(first, []).append(second)
    params: dict[str, Any] = {}
    for i, (first, seconds) in enumerate(grouped.items()):
        params[f"first{i}"] = first
        params[f"second{i}"] = seconds
    return len(grouped), params


@functools.cache
def _links_query(groups: int) -> Executable:
    return select(links.c.provider, links.c.remote_id, links.c.person_id, links.c.manual).where(
        _pairs_in(links.c.provider, links.c.remote_id, groups)
    )


@functools.cache
def _identifiers_query(groups: int) -> Executable:
    return select(identifiers.c.kind, identifiers.c.value, identifiers.c.person_id).where(
        _pairs_in(identifiers.c.kind, identifiers.c.value, groups)
    )


def _survivors(connection: Connection, ids: Iterable[str]) -> dict[str, str]:
    """Each id's surviving person (itself unless merged away)."""
    result = {i: i for i in ids}
    pending = set(result)
    for _ in range(32):  # merges chain only as long as people merged them
        if not pending:
            break
        rows = connection.execute(_MERGED, {"ids": list(pending)}).all()
        moved = {row.id: row.merged_into for row in rows}
        for start, now_at in result.items():
            if now_at in moved:
                result[start] = moved[now_at]
        pending = set(moved.values())
    return result


def _merge_into(
    connection: Connection, other: str, survivor: str, now: datetime, *, kind: str
) -> None:
    connection.execute(update(persons).where(persons.c.id == other).values(merged_into=survivor))
    connection.execute(
        update(persons).where(persons.c.merged_into == other).values(merged_into=survivor)
    )
    connection.execute(update(links).where(links.c.person_id == other).values(person_id=survivor))
    connection.execute(
        update(identifiers).where(identifiers.c.person_id == other).values(person_id=survivor)
    )
    connection.execute(insert(decisions).values(at=now, kind=kind, person_id=survivor, other=other))


def _wrote(
    connection: Connection,
    items: Sequence[
        tuple[Sequence[IdentifierKey], Sequence[tuple[Provider, str, Mapping[str, Any]]]]
    ],
    now: datetime,
) -> list[str]:
    wanted_idents = list({k for keys, _ in items for k in keys})
    wanted_links = list({(p.value, rid) for _, writes in items for p, rid, _ in writes})
    owners = _select_identifiers(connection, wanted_idents)
    stored = _select_links(connection, wanted_links)
    survivors = _survivors(connection, set(owners.values()) | {pid for pid, _ in stored.values()})
    new_persons: list[str] = []
    new_idents: dict[IdentifierKey, str] = {}
    new_links: dict[LinkKey, dict[str, Any]] = {}
    updates: list[dict[str, Any]] = []
    people: list[str] = []
    for keys, writes in items:
        candidates = {survivors[owners[k]] for k in keys if k in owners}
        candidates |= {
            survivors[stored[key][0]]
            for p, rid, _ in writes
            if (key := (p.value, rid)) in stored and not stored[key][1]
        }
        if len(candidates) > 1:
            person = _one_of(connection, candidates, now)
        elif candidates:
            person = next(iter(candidates))
        else:
            person = new_id()
            new_persons.append(person)
        survivors[person] = person
        for key in keys:
            if key not in owners:
                owners[key] = new_idents[key] = person
        for provider, remote_id, payload in writes:
            link = (provider.value, remote_id)
            if link in stored or link in new_links:
                updates.append({"p": link[0], "r": link[1], "at": now, "w": dict(payload)})
                continue
            stored[link] = (person, False)
            new_links[link] = {
                "provider": link[0],
                "remote_id": link[1],
                "person_id": person,
                "manual": False,
                "first_seen_at": now,
                "last_written_at": now,
                "written": dict(payload),
            }
        people.append(person)
    if new_persons:
        connection.execute(_INSERT_PERSON, [{"id": p, "created_at": now} for p in new_persons])
    _insert_missing(
        connection,
        identifiers,
        [{"kind": k, "value": v, "person_id": p} for (k, v), p in new_idents.items()],
    )
    _insert_missing(connection, links, list(new_links.values()))
    if updates:
        connection.execute(_RECORD_WRITE, updates)
    # Another process took one of the new identifiers first: start again.
    taken = _select_identifiers(connection, list(new_idents))
    if any(taken.get(key) != person for key, person in new_idents.items()):
        raise _Conflict
    return people


def _chunks(keys: Sequence[Any], size: int = 300) -> list[Sequence[Any]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes: they were stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
