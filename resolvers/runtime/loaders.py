"""Per-request dataloaders, and the pages a request has read: one class, `Loaders`.

Resolvers never call a connector for a per-item lookup: they `load` here, and
every key asked for in the same tick reaches the connector as one batch, which
spends the fewest provider calls its API allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader

from connectors.errors import ConnectorError
from connectors.protocol import ActivitySource, EmailReader, Lister
from gateway.domain.federation import Person, merge
from gateway.domain.keys import KeyKind, PersonKey
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    ActivityRecord,
    ContactRecord,
    Page,
    Provider,
    WriteResult,
    WriteStatus,
)

if TYPE_CHECKING:
    from resolvers.runtime.context import Runtime

PageKey = tuple[Provider, str | None, int, bool]


@dataclass(slots=True)
class Lookup:
    """A person found by key, with the providers that failed to answer for it."""

    person: Person | None
    failures: list[ConnectorError] = field(default_factory=list)


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


class Loaders:
    """The dataloaders of one request, and the listing pages it has read.

    Attributes:
        by_email: per provider, normalized email -> `ContactRecord | None`.
        by_id: per provider, remote id -> `ContactRecord | None`.
        by_external_id: per provider, external id -> `ContactRecord | None`.
        activity: per provider, (remote id, limit) -> newest activity first.
        people: `PersonKey` -> `Lookup`.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.precedence = runtime.precedence
        self.by_email: dict[Provider, DataLoader[str, ContactRecord | None]] = {
            p: DataLoader(partial(self._load_by_email, p, c))
            for p, c in runtime.email_readers.items()
        }
        self.by_id: dict[Provider, DataLoader[str, ContactRecord | None]] = {
            p: DataLoader(partial(_answer, c.fetch_by_ids)) for p, c in runtime.id_readers.items()
        }
        self.by_external_id: dict[Provider, DataLoader[str, ContactRecord | None]] = {
            p: DataLoader(partial(_answer, c.fetch_by_external_ids))
            for p, c in runtime.external_id_readers.items()
        }
        self.activity: dict[Provider, DataLoader[tuple[str, int], list[ActivityRecord]]] = {
            p: DataLoader(partial(_load_activity, c)) for p, c in runtime.activity_sources.items()
        }
        self.people: DataLoader[PersonKey, Lookup] = DataLoader(self._load_people)
        # Pages read while enumerating: a page read to skip duplicates is not read again.
        self._pages: dict[PageKey, Page] = {}
        # Every record of a provider whose whole listing was read in this request,
        # by normalized email: lookups by email are answered from it, no call.
        self._complete: dict[Provider, dict[str, ContactRecord]] = {}

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
        for loaders in (self.by_email, self.by_id, self.by_external_id, self.activity):
            for loader in loaders.values():
                loader.clear_all()
        self.people.clear_all()
        self._pages.clear()
        self._complete.clear()
        for result in results:
            kept = result.status in (WriteStatus.CREATED, WriteStatus.UPDATED)
            if kept and result.contact is not None and result.contact.remote_id:
                self.prime(result.contact)

    def release(self) -> None:
        """Drop every answer and loader once the request is answered.

        The loaders and the request's context refer to each other (a batch function
        is a bound method), so what they hold would wait for the cycle collector,
        which a serving worker runs rarely: thousands of records per bulk request
        piled up between collections."""
        for loaders in (self.by_email, self.by_id, self.by_external_id, self.activity):
            loaders.clear()
        self.people.clear_all()
        self._pages.clear()
        self._complete.clear()

    def _remember_listing(self, provider: Provider, records: Sequence[ContactRecord]) -> None:
        known: dict[str, ContactRecord] = {}
        for record in records:
            if email := normalize_email(record.email):
                known.setdefault(email, record)
        self._complete[provider] = known

    # -- batch functions ------------------------------------------------------

    async def _load_by_email(
        self, provider: Provider, reader: EmailReader, emails: list[str]
    ) -> list[Any]:
        known = self._complete.get(provider)
        if known is not None:
            return [known.get(email) for email in emails]
        return await _answer(reader.fetch_by_emails, emails)

    async def _load_people(self, keys: list[PersonKey]) -> list[Lookup]:
        records: dict[PersonKey, list[ContactRecord]] = {key: [] for key in keys}
        failures: dict[PersonKey, list[ConnectorError]] = {key: [] for key in keys}
        emails: dict[PersonKey, str] = {}  # person key -> normalized email to look up
        for key in keys:
            if key.kind is KeyKind.EMAIL:
                emails[key] = key.value

        async def by_record(key: PersonKey, loader: DataLoader[str, ContactRecord | None]) -> None:
            try:
                record = await loader.load(key.value)
            except ConnectorError as exc:
                failures[key].append(exc)
                return
            if record is not None:
                _add(records[key], record)
                if email := normalize_email(record.email):
                    emails[key] = email

        first: list[Awaitable[None]] = []
        for key in keys:
            if key.kind is KeyKind.RECORD:
                assert key.provider is not None
                if (loader := self.by_id.get(key.provider)) is not None:
                    first.append(by_record(key, loader))
            elif key.kind is KeyKind.EXTERNAL_ID:
                first.extend(by_record(key, loader) for loader in self.by_external_id.values())
        await asyncio.gather(*first)

        async def by_email(loader: DataLoader[str, ContactRecord | None]) -> None:
            wanted = list(emails.items())
            answers = await asyncio.gather(
                *(loader.load(email) for _, email in wanted), return_exceptions=True
            )
            for (key, _), answer in zip(wanted, answers, strict=True):
                if isinstance(answer, ConnectorError):
                    failures[key].append(answer)
                elif isinstance(answer, BaseException):
                    raise answer
                elif answer is not None:
                    _add(records[key], answer)

        if emails:
            await asyncio.gather(*(by_email(loader) for loader in self.by_email.values()))

        results = []
        for key in keys:
            people = merge(records[key], self.precedence)
            person = people[0] if people else None
            if person is not None and len(people) > 1:
                # An external-id join cannot split a lookup by one email: keep them together.
                person.sources = [r for p in people for r in p.sources]
            results.append(Lookup(person, _unique(failures[key])))
        return results


def _add(records: list[ContactRecord], record: ContactRecord) -> None:
    if all((r.provider, r.remote_id) != (record.provider, record.remote_id) for r in records):
        records.append(record)


async def _load_activity(source: ActivitySource, keys: list[tuple[str, int]]) -> list[Any]:
    by_limit: dict[int, list[str]] = {}
    for remote_id, limit in keys:
        by_limit.setdefault(limit, []).append(remote_id)
    answers: dict[tuple[str, int], Any] = {}

    async def one(limit: int, ids: list[str]) -> None:
        try:
            found = await source.fetch_activity(ids, limit=limit)
        except ConnectorError as exc:
            answers.update({(i, limit): exc for i in ids})
            return
        answers.update({(i, limit): found.get(i, []) for i in ids})

    await asyncio.gather(*(one(limit, ids) for limit, ids in by_limit.items()))
    return [answers[key] for key in keys]


def _unique(errors: list[ConnectorError]) -> list[ConnectorError]:
    seen: set[Provider] = set()
    out = []
    for error in errors:
        if error.provider not in seen:
            seen.add(error.provider)
            out.append(error)
    return out
