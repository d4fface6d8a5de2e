"""Per-request dataloaders, and the pages a request has read: one class, `Loaders`.

Resolvers never call a connector for a per-item lookup: they `load` here, and
every key asked for in the same tick reaches the connector as one batch, which
spends the fewest provider calls its API allows. With a record cache, a lookup
it can answer reaches no provider at all. With an identity store, every person
found is given its stable id, and a person asked for by that id is found
through the records and identifiers the store links to them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader

from connectors.errors import ConnectorError
from connectors.protocol import ActivitySource, Lister
from gateway.domain.activity import ActivityFilter
from gateway.domain.federation import Person, merge
from gateway.domain.keys import KeyKind, PersonKey
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    ActivityRecord,
    CompanyLink,
    ContactRecord,
    Page,
    Provider,
    TagRef,
    WriteResult,
    WriteStatus,
)
from gateway.store import StoreUnavailable
from gateway.store.identities import Identified, StoredPerson
from resolvers.runtime import brief
from resolvers.runtime.internals import BatchLoader

if TYPE_CHECKING:
    from resolvers.runtime.context import Failure, Runtime, StoreFailure

K = TypeVar("K")
V = TypeVar("V")
C = TypeVar("C")
Fetch = Callable[..., Awaitable[Mapping[str, ContactRecord]]]

PageKey = tuple[Provider, str | None, int, bool]
# A contact's activity: (remote id, how many of the newest items, which items).
ActivityKey = tuple[str, int, ActivityFilter]


@dataclass(slots=True)
class Lookup:
    """A person found by key, with the providers that failed to answer for it."""

    person: Person | None
    failures: list[Failure] = field(default_factory=list)


async def _answer(
    fetch: Callable[[list[str]], Awaitable[Mapping[str, ContactRecord]]], keys: list[str]
) -> list[Any]:
    """One batch call: each key's record or None; a failure is every key's answer, which
    the DataLoader raises to each caller (hence `Any`: its typing has no room for it)."""
    try:
        found = await fetch(keys)
    except ConnectorError as exc:
        return [exc] * len(keys)
    return [found.get(key) for key in keys]


class PerProvider(Mapping[Provider, "DataLoader[K, V]"]):
    """One dataloader per provider that can serve it, made when first asked for.

    A request asks for a few of the thirty-odd loaders it could use (a lookup by
    email: three); making each one costs more than the lookup's own bookkeeping.
    """

    def __init__(
        self,
        serving: Mapping[Provider, C],
        batch: Callable[[Provider, C], Callable[[list[K]], Coroutine[Any, Any, list[Any]]]],
    ) -> None:
        self._serving = serving
        self._batch = batch
        self._made: dict[Provider, DataLoader[K, V]] = {}

    def __getitem__(self, provider: Provider) -> DataLoader[K, V]:
        loader = self._made.get(provider)
        if loader is None:
            loader = self._made[provider] = BatchLoader(
                self._batch(provider, self._serving[provider])
            )
        return loader

    def __contains__(self, provider: object) -> bool:
        return provider in self._serving

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._serving)

    def __len__(self) -> int:
        return len(self._serving)

    def made(self) -> list[DataLoader[K, V]]:
        """The loaders made so far."""
        return list(self._made.values())

    def drop(self) -> None:
        """Forget every loader made (and what each holds)."""
        self._made.clear()


class Loaders:
    """The dataloaders of one request, and the listing pages it has read.

    Attributes:
        by_email: per provider, normalized email -> `ContactRecord | None`.
        by_id: per provider, remote id -> `ContactRecord | None`.
        by_external_id: per provider, external id -> `ContactRecord | None`.
        activity: per provider, (remote id, limit, filter) -> newest activity first.
        segments: per provider, remote id -> the contact's segments (kind "segment").
        companies: per provider, remote id -> the contact's companies.
        people: `PersonKey` -> `Lookup`.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.precedence = runtime.precedence
        # Pages read while enumerating: a page read to skip duplicates is not read again.
        self._pages: dict[PageKey, Page] = {}
        # Every record of a provider whose whole listing was read in this request,
        # by normalized email: lookups by email are answered from it, no call.
        self._complete: dict[Provider, dict[str, ContactRecord]] = {}
        # What each provider answered for an email asked directly (`find`, alone): a
        # record, None, or its failure; later lookups of the email are answered from it.
        self._answered: dict[Provider, dict[str, Any]] = {}
        # Set when the store did not answer: reported once, and reads go on without it.
        self.store_failure: StoreFailure | None = None
        # What may read brief records (`resolvers.runtime.brief`): set for the operation
        # by the pipeline; lookups never with a record cache (it would keep them).
        self.brief = brief.NONE

    def _store_down(self, exc: StoreUnavailable) -> None:
        from resolvers.runtime.context import StoreFailure

        if self.store_failure is None:
            self.store_failure = StoreFailure(f"the identity store did not answer: {exc}")

    async def page(
        self, provider: Provider, cursor: str | None, limit: int, *, brief: bool = False
    ) -> Page:
        """One page of `provider`'s listing, read once per request."""
        key = (provider, cursor, limit, brief)
        page = self._pages.get(key)
        if page is None:
            lister: Lister = self.runtime.listers[provider]
            page = await lister.list_contacts(cursor=cursor, limit=limit, brief=brief)
            self._pages[key] = page
            if cursor is None and page.next_cursor is None:
                self._remember_listing(provider, page.contacts)
        return page

    def prime(self, record: ContactRecord) -> None:
        """Remember a record read some other way, so no loader asks for it again."""
        if (loader := self.by_id.get(record.provider)) is not None:
            loader.prime(record.remote_id, record)
        email = normalize_email(record.email)
        if email and (loader := self.by_email.get(record.provider)) is not None:
            loader.prime(email, record)

    def after_write(self, results: Iterable[WriteResult]) -> None:
        """Forget every answer (reads must see the providers anew), then keep the
        records the providers answered the write with: they are what is stored now."""
        for loaders in self._per_provider():
            for loader in loaders.made():
                loader.clear_all()
        self.__dict__.pop("people", None)
        self._pages.clear()
        self._complete.clear()
        self._answered.clear()
        for result in results:
            kept = result.status in (WriteStatus.CREATED, WriteStatus.UPDATED)
            if kept and result.contact is not None and result.contact.remote_id:
                result.contact.fetched_at = datetime.now(UTC)
                self.prime(result.contact)

    def release(self) -> None:
        """Drop every answer and loader once the request is answered.

        The loaders and the request's context refer to each other (a batch function
        is a bound method, or a closure over this object), so what they hold would
        wait for the cycle collector, which a serving worker runs rarely: thousands of
        records per bulk request piled up between collections. Once released, nothing
        here is left in a cycle."""
        for name in _KINDS:
            loaders = self.__dict__.pop(name, None)
            if loaders is not None:
                loaders.drop()
        self.__dict__.pop("people", None)
        self._pages.clear()
        self._complete.clear()
        self._answered.clear()

    # Each loader is made when first asked for: a merged lookup uses none (`find`).

    @functools.cached_property
    def people(self) -> DataLoader[PersonKey, Lookup]:
        """`PersonKey` -> `Lookup`."""
        return BatchLoader(self._load_people)

    @functools.cached_property
    def by_email(self) -> PerProvider[str, ContactRecord | None]:
        return PerProvider(
            self.runtime.email_readers,
            lambda p, c: partial(self._load_records, p, "email", c.fetch_by_emails),
        )

    @functools.cached_property
    def by_id(self) -> PerProvider[str, ContactRecord | None]:
        return PerProvider(
            self.runtime.id_readers,
            lambda p, c: partial(self._load_records, p, "id", c.fetch_by_ids),
        )

    @functools.cached_property
    def by_external_id(self) -> PerProvider[str, ContactRecord | None]:
        return PerProvider(
            self.runtime.external_id_readers, lambda p, c: partial(_answer, c.fetch_by_external_ids)
        )

    @functools.cached_property
    def activity(self) -> PerProvider[ActivityKey, list[ActivityRecord]]:
        return PerProvider(self.runtime.activity_sources, lambda p, c: partial(_load_activity, c))

    @functools.cached_property
    def segments(self) -> PerProvider[str, list[TagRef]]:
        return PerProvider(
            self.runtime.segment_readers, lambda p, c: partial(_load_per_contact, c.fetch_segments)
        )

    @functools.cached_property
    def companies(self) -> PerProvider[str, list[CompanyLink]]:
        return PerProvider(
            self.runtime.company_readers,
            lambda p, c: partial(_load_per_contact, c.fetch_companies),
        )

    def _per_provider(self) -> list[PerProvider[Any, Any]]:
        """The kinds of loader made so far."""
        made = self.__dict__
        return [made[name] for name in _KINDS if name in made]

    def _remember_listing(self, provider: Provider, records: Sequence[ContactRecord]) -> None:
        known: dict[str, ContactRecord] = {}
        for record in records:
            if email := normalize_email(record.email):
                known.setdefault(email, record)
        self._complete[provider] = known

    # -- batch functions ------------------------------------------------------

    async def _load_records(
        self, provider: Provider, kind: str, fetch: Fetch, keys: list[str]
    ) -> list[Any]:
        """One batch of lookups by email or by id: from the listing read whole, or what
        the provider answered when asked directly (`find`), else from the record cache,
        else from the provider (whose answers are then cached)."""
        if kind == "email":
            if (known := self._complete.get(provider)) is not None:
                return [known.get(key) for key in keys]
            if answered := self._answered.get(provider):
                rest = [key for key in keys if key not in answered]
                read = await self._read_records(provider, kind, fetch, rest) if rest else []
                found = dict(zip(rest, read, strict=True))
                return [answered[key] if key in answered else found[key] for key in keys]
        return await self._read_records(provider, kind, fetch, keys)

    async def _read_records(
        self, provider: Provider, kind: str, fetch: Fetch, keys: list[str]
    ) -> list[Any]:
        """`_load_records` past what this request already knows: the record cache, else
        the provider."""
        cache = self.runtime.cache
        if cache is None:  # the default: every key from the provider
            if not keys:
                return []
            try:
                fresh, _ = await _fetched(fetch, keys, brief=kind == "email" and self.brief.lookups)
            except ConnectorError as exc:
                return [exc for _ in keys]
            return [fresh.get(key) for key in keys]
        hits: dict[str, tuple[ContactRecord | None, datetime]] = {}
        try:
            hits = await cache.get(provider, [f"{kind}:{key}" for key in keys])
        except StoreUnavailable as exc:
            self._store_down(exc)
        missing = [key for key in keys if f"{kind}:{key}" not in hits]
        found: Mapping[str, ContactRecord] = {}
        if missing:
            # Cached records are whole: brief ones would answer a later request's tags.
            try:
                found, now = await _fetched(fetch, missing, brief=False)
            except ConnectorError as exc:
                return [hit[0] if (hit := hits.get(f"{kind}:{k}")) else exc for k in keys]
            entries = [(f"{kind}:{key}", found.get(key)) for key in missing]
            entries += [(f"id:{r.remote_id}", r) for r in found.values() if kind == "email"]
            try:
                await cache.put(provider, entries, now)
            except StoreUnavailable as exc:
                self._store_down(exc)
        return [
            hit[0] if (hit := hits.get(f"{kind}:{key}")) is not None else found.get(key)
            for key in keys
        ]

    async def find(self, key: PersonKey, *, alone: bool = False) -> Lookup:
        """One person's lookup, made at once (see `lookup.find_at_root`).

        `alone`: nothing else in the operation can share its provider calls (it is the
        document's only root field, and it runs first), so a lookup by email asks each
        provider directly rather than through its loader's batch, two turns of the
        event loop later; what each answers is kept for later lookups of the email all
        the same.
        """
        if alone and key.kind is KeyKind.EMAIL:
            asked = [
                self._by_email_now(provider, reader, key.value)
                for provider, reader in self.runtime.email_readers.items()
            ]
            records: list[ContactRecord] = []
            failures: list[Failure] = []
            for answer in await asyncio.gather(*asked, return_exceptions=True):
                _take(answer, records, failures)
            return (await self._concluded([key], {key: records}, {key: failures}, {}))[0]
        return (await self._load_people([key]))[0]

    async def _by_email_now(self, provider: Provider, reader: Any, email: str) -> Any:
        """`email`'s record at `provider` (None, or the provider's failure), asked now, and
        kept for later lookups of the email in this request, as its loader would keep it."""
        [found] = await self._read_records(provider, "email", reader.fetch_by_emails, [email])
        self._answered.setdefault(provider, {})[email] = found
        return found

    async def _load_people(self, keys: list[PersonKey]) -> list[Lookup]:
        records: dict[PersonKey, list[ContactRecord]] = {key: [] for key in keys}
        failures: dict[PersonKey, list[Failure]] = {key: [] for key in keys}
        emails: dict[PersonKey, set[str]] = {}  # person key -> normalized emails to look up
        stored = await self._stored([k for k in keys if k.kind is KeyKind.PERSON])
        for key in keys:
            if key.kind is KeyKind.EMAIL:
                emails[key] = {key.value}
            elif key in stored:
                emails[key] = set(stored[key].emails)

        async def by_record(
            key: PersonKey, loader: DataLoader[str, ContactRecord | None], value: str
        ) -> None:
            try:
                record = await loader.load(value)
            except ConnectorError as exc:
                failures[key].append(exc)
                return
            if record is not None:
                _add(records[key], record)
                # Its provider's lookup by its email is answered by it: no second call.
                self.prime(record)
                if (email := normalize_email(record.email)) and key.kind is not KeyKind.PERSON:
                    emails.setdefault(key, set()).add(email)

        first: list[Awaitable[None]] = []
        for key in keys:
            if key.kind is KeyKind.RECORD:
                assert key.provider is not None
                if (loader := self.by_id.get(key.provider)) is not None:
                    first.append(by_record(key, loader, key.value))
            elif key.kind is KeyKind.EXTERNAL_ID:
                first.extend(
                    by_record(key, loader, key.value) for loader in self.by_external_id.values()
                )
            elif key in stored:
                for provider, remote_id in stored[key].links:
                    if (loader := self.by_id.get(Provider(provider))) is not None:
                        first.append(by_record(key, loader, remote_id))
                for external_id in stored[key].external_ids:
                    first.extend(
                        by_record(key, loader, external_id)
                        for loader in self.by_external_id.values()
                    )
        if first:
            await asyncio.gather(*first)

        if emails:
            # Every provider's answer for every email, awaited together: the loaders'
            # futures, without a task per provider around them.
            wanted = [(key, email) for key, found in emails.items() for email in sorted(found)]
            asked = [
                (key, loader.load(email))
                for loader in self.by_email.values()
                for key, email in wanted
            ]
            answers = await asyncio.gather(*(f for _, f in asked), return_exceptions=True)
            for (key, _), answer in zip(asked, answers, strict=True):
                _take(answer, records[key], failures[key])
        return await self._concluded(keys, records, failures, stored)

    async def _concluded(
        self,
        keys: list[PersonKey],
        records: Mapping[PersonKey, list[ContactRecord]],
        failures: Mapping[PersonKey, list[Failure]],
        stored: Mapping[PersonKey, StoredPerson],
    ) -> list[Lookup]:
        """Each key's lookup from the records found for it: merged into one person,
        given the store's id, with its failures."""
        people: dict[PersonKey, Person | None] = {}
        for key in keys:
            merged = merge(records[key], self.precedence)
            person = merged[0] if merged else None
            if person is not None and len(merged) > 1:
                # An external-id join cannot split a lookup by one email: keep them together.
                person.sources = [r for p in merged for r in p.sources]
            if person is None and key in stored and stored[key].written:
                # Only written records (Akita, Interakt): the person is still known.
                person = Person(key=key, sources=[], precedence=self.precedence)
            people[key] = person
        await self._identify(people, stored)
        for key, person in people.items():
            if person is not None and not person.sources and not person.written:
                people[key] = None  # every record it had was placed elsewhere, or deleted
        results = []
        for key in keys:
            found_failures = _unique(failures[key])
            if self.store_failure is not None:
                found_failures.append(self.store_failure)
            results.append(Lookup(people[key], found_failures))
        return results

    async def _stored(self, keys: list[PersonKey]) -> dict[PersonKey, StoredPerson]:
        identities = self.runtime.identities
        if not keys or identities is None:
            return {}
        try:
            found = await identities.persons([key.value for key in keys])
        except StoreUnavailable as exc:
            self._store_down(exc)
            return {}
        return {key: found[key.value] for key in keys if key.value in found}

    async def _identify(
        self, people: dict[PersonKey, Person | None], stored: Mapping[PersonKey, StoredPerson]
    ) -> None:
        """Give every person found its stable id (and what the gateway wrote for them);
        a record placed elsewhere by hand leaves the person it was found with."""
        identities = self.runtime.identities
        if identities is None:
            return
        wanted = [(key, p) for key, p in people.items() if p is not None and p.sources]
        try:
            answers = await identities.identify([p.sources for _, p in wanted])
            for (key, found), answer in zip(wanted, answers, strict=True):
                chosen = _choose(key, answer, stored.get(key))
                found.id = chosen.person_id
                found.sources = chosen.records
            for key, person in people.items():
                if person is not None and person.id is None and key in stored:
                    person.id = stored[key].id
            ids = [p.id for p in people.values() if p is not None and p.id is not None]
            written = await identities.written(ids)
        except StoreUnavailable as exc:
            self._store_down(exc)
            return
        for each in people.values():
            if each is not None and each.id is not None:
                each.written = written.get(each.id, [])


async def _fetched(
    fetch: Fetch, keys: list[str], *, brief: bool
) -> tuple[Mapping[str, ContactRecord], datetime]:
    """`fetch(keys)` (asking for brief records, or not), each record stamped with when."""
    found = await (fetch(keys, brief=True) if brief else fetch(keys))
    now = datetime.now(UTC)
    for record in found.values():
        record.fetched_at = now
    return found, now


_KINDS = ("by_email", "by_id", "by_external_id", "activity", "segments", "companies")


def _choose(key: PersonKey, answer: list[Identified], stored: StoredPerson | None) -> Identified:
    """The person a lookup by `key` means, when the store splits its records."""
    if stored is not None:
        for identified in answer:
            if identified.person_id == stored.id:
                return identified
        return Identified(stored.id, [])
    if key.kind is KeyKind.EMAIL:
        for identified in answer:
            if any(normalize_email(r.email) == key.value for r in identified.records):
                return identified
    return max(answer, key=lambda identified: len(identified.records))


def _take(answer: Any, records: list[ContactRecord], failures: list[Failure]) -> None:
    """One provider's answer to a lookup (gathered with `return_exceptions`): its record
    kept, its failure reported, anything else unexpected raised."""
    if isinstance(answer, ConnectorError):
        failures.append(answer)
    elif isinstance(answer, BaseException):
        raise answer
    elif answer is not None:
        _add(records, answer)


def _add(records: list[ContactRecord], record: ContactRecord) -> None:
    if all((r.provider, r.remote_id) != (record.provider, record.remote_id) for r in records):
        records.append(record)


async def _load_activity(source: ActivitySource, keys: list[ActivityKey]) -> list[Any]:
    """One `fetch_activity` per (limit, filter) asked for, with every id asked it."""
    by_ask: dict[tuple[int, ActivityFilter], list[str]] = {}
    for remote_id, limit, wanted in keys:
        by_ask.setdefault((limit, wanted), []).append(remote_id)
    answers: dict[ActivityKey, Any] = {}

    async def one(limit: int, wanted: ActivityFilter, ids: list[str]) -> None:
        try:
            found = await source.fetch_activity(ids, limit=limit, wanted=wanted)
        except ConnectorError as exc:
            answers.update({(i, limit, wanted): exc for i in ids})
            return
        answers.update({(i, limit, wanted): found.get(i, []) for i in ids})

    await asyncio.gather(*(one(limit, wanted, ids) for (limit, wanted), ids in by_ask.items()))
    return [answers[key] for key in keys]


async def _load_per_contact(
    fetch: Callable[[list[str]], Awaitable[Mapping[str, list[Any]]]], keys: list[str]
) -> list[Any]:
    """One batch of per-contact reads (segments, companies): each contact's list, empty
    for one the provider does not hold; a failure is every key's answer."""
    try:
        found = await fetch(keys)
    except ConnectorError as exc:
        return [exc] * len(keys)
    return [found.get(key, []) for key in keys]


def _unique(errors: list[Failure]) -> list[Failure]:
    seen: set[Provider | None] = set()
    out = []
    for error in errors:
        if error.provider not in seen:
            seen.add(error.provider)
            out.append(error)
    return out
