"""The growth scenario's people, given to a fresh store in-process: what it keeps per person.

No servers: a new SQLite store (the gateway's own `open_store` and migrations)
is told about `count` people the way a serving gateway tells it, through
`Identities`:

- `identify`, one call per listing page of `PAGE` people, each person one to
  three readable provider records (Adaptix, Trustmary, Lunar Send) with an
  email, in the seed's mix of providers (1.2 records a person), Trustmary's
  records with the customer's external id on every other person, as the sandbox
  seeds them;
- `wrote_many`, one call per `PAGE` people written, for every `WRITTEN_EVERY`th
  person: an upsert to Akita and Interakt, which cannot be read, so the store
  keeps what was written (JSON) with the two links.

Then the in-memory links are forgotten and the first pages identified again (people
the store knows, read back from it: what a lookup costs once `memory_seconds` has
passed or in another process), the store is closed, the file checkpointed and
VACUUMed, and its size is what the store costs: rows, indexes, the migrations'
table and SQLite's page slack. The record cache (`[cache] ttl`) is not in it:
it holds provider records for a ttl, not people.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.domain.records import ContactRecord, ContactWrite, Provider
from gateway.store import open_store
from gateway.store.identities import IdentifierKey, Identities
from sandbox.seed import generate

PAGE = 50
WRITTEN_EVERY = 5
# Pages identified again after the store's memory is dropped.
KNOWN_PAGES = 10
READABLE = (Provider.ADAPTIX, Provider.TRUSTMARY, Provider.LUNARSEND)

Write = tuple[Sequence[IdentifierKey], Sequence[tuple[Provider, str, dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class GrowthPerson:
    """One person as the store hears of them: their provider records, and what the
    gateway wrote for them (None: nothing)."""

    records: list[ContactRecord]
    written: Write | None = None


def provider_mix(seed: int = 0) -> list[tuple[Provider, ...]]:
    """The readable providers of each seed person, in the seed's order."""
    mixes = []
    for person in generate(seed).people:
        held = tuple(p for p in READABLE if p.value in person.records)
        if held:
            mixes.append(held)
    return mixes


def growth_people(count: int, *, seed: int = 0) -> list[GrowthPerson]:
    """`count` distinct people in the seed's provider mix (names and companies reused,
    emails and ids made unique); every `WRITTEN_EVERY`th was also written."""
    people = generate(seed).people
    mixes = provider_mix(seed)
    found = []
    for i in range(count):
        seed_record = next(iter(people[i % len(people)].records.values()))
        local, _, domain = seed_record.email.partition("@")
        email = f"{local.rsplit('.', 1)[0]}.{i}@{domain}"
        external_id = f"usr-{i:06d}"
        records = []
        for provider in mixes[i % len(mixes)]:
            if provider is Provider.ADAPTIX:
                records.append(ContactRecord(provider, str(i + 1), email=email))
            elif provider is Provider.TRUSTMARY:
                records.append(
                    ContactRecord(
                        provider,
                        f"Tm{i:07d}",
                        email=email,
                        external_id=external_id if i % 2 == 0 else None,
                    )
                )
            else:
                records.append(ContactRecord(provider, f"{25901561232255083192 + i}", email=email))
        written: Write | None = None
        if i % WRITTEN_EVERY == 0:
            write = ContactWrite(
                email=email,
                external_id=external_id,
                account_external_id=f"acct-{i % 40:03d}",
                first_name=seed_record.first_name,
                last_name=seed_record.last_name,
                company=seed_record.company,
                job_title=seed_record.job_title,
            )
            payload = write.values()
            written = (
                [("email", email), ("eid", external_id)],
                [(Provider.AKITA, str(i + 1), payload), (Provider.INTERAKT, email, payload)],
            )
        found.append(GrowthPerson(records, written))
    return found


@dataclass
class Growth:
    """What feeding a store measured.

    Attributes:
        people: people identified.
        records: provider records among them.
        written: people written to Akita and Interakt.
        file_bytes: the SQLite file after VACUUM.
        identify_ms: each `identify` call with new people (one listing page).
        wrote_ms: each `wrote_many` call.
        known_ms: each `identify` call with known people, their links read from the store.
        tables: bytes per table and index (SQLite's dbstat; empty where it is not built in).
        rows: rows per table.
    """

    people: int
    records: int
    written: int
    file_bytes: int
    identify_ms: list[float] = field(default_factory=list)
    wrote_ms: list[float] = field(default_factory=list)
    known_ms: list[float] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


class GrowthError(RuntimeError):
    """The store answered other than a gateway relies on (a person lost or doubled)."""


def measure_growth(path: Path, people: Sequence[GrowthPerson]) -> Growth:
    """Tell a new SQLite store at `path` about `people` (see the module docstring),
    then VACUUM it and measure the file.

    Raises:
        GrowthError: a page did not come back as one person per group, or a write
            or a second look found another person than the one identified.
    """
    path.unlink(missing_ok=True)
    growth = Growth(
        people=len(people),
        records=sum(len(p.records) for p in people),
        written=sum(p.written is not None for p in people),
        file_bytes=0,
    )
    asyncio.run(_feed(f"sqlite:///{path}", people, growth))
    growth.tables, growth.rows = vacuum(path)
    growth.file_bytes = path.stat().st_size
    return growth


async def _feed(url: str, people: Sequence[GrowthPerson], growth: Growth) -> None:
    store = open_store(url)
    try:
        await store.migrate()
        identities = Identities(store)
        ids: list[str] = []
        for start in range(0, len(people), PAGE):
            groups = [p.records for p in people[start : start + PAGE]]
            began = time.perf_counter()
            answers = await identities.identify(groups)
            growth.identify_ms.append((time.perf_counter() - began) * 1000)
            if any(len(answer) != 1 for answer in answers) or len(answers) != len(groups):
                raise GrowthError(f"identify answered {answers[:2]} for one person a group")
            ids += [answer[0].person_id for answer in answers]
        if len(set(ids)) != len(people):
            raise GrowthError(f"{len(people)} people became {len(set(ids))} persons")
        written = [(i, p.written) for i, p in enumerate(people) if p.written is not None]
        for start in range(0, len(written), PAGE):
            batch = written[start : start + PAGE]
            began = time.perf_counter()
            persons = await identities.wrote_many([w for _, w in batch])
            growth.wrote_ms.append((time.perf_counter() - began) * 1000)
            if persons != [ids[i] for i, _ in batch]:
                raise GrowthError("a write found another person than the one identified")
        identities.forget()
        for start in range(0, min(len(people), KNOWN_PAGES * PAGE), PAGE):
            groups = [p.records for p in people[start : start + PAGE]]
            began = time.perf_counter()
            answers = await identities.identify(groups)
            growth.known_ms.append((time.perf_counter() - began) * 1000)
            if [a[0].person_id for a in answers] != ids[start : start + PAGE]:
                raise GrowthError("a known person was identified as another")
    finally:
        await store.close()


def vacuum(path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Checkpoint the WAL into the file and VACUUM it; bytes per table and index
    (empty without dbstat), and rows per table."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        rows = {
            name: int(connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
            for name in names
        }
        tables: dict[str, int] = {}
        with contextlib.suppress(sqlite3.OperationalError):  # no dbstat in this build
            tables = {
                str(name): int(size)
                for name, size in connection.execute(
                    "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
                )
            }
    finally:
        connection.close()
    return tables, rows
