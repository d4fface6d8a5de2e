"""Per-request dataloaders: one per provider and key kind, and one for people.

Resolvers never call a connector for a per-item lookup: they `load` here, and
every key asked for in the same tick reaches the connector as one batch, which
spends the fewest provider calls its API allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiodataloader import DataLoader

from connectors.errors import ConnectorError
from connectors.protocol import Connector
from connectors.types import Activity, Capability, Contact, Page, Provider, normalize_email
from resolvers.federation import Person, Precedence, merge


@dataclass(slots=True)
class Lookup:
    """A person found by key, with the providers that failed to answer for it."""

    person: Person | None
    failures: list[ConnectorError] = field(default_factory=list)


async def _answer(
    fetch: Callable[[list[str]], Awaitable[Mapping[str, Contact]]], keys: list[str]
) -> list[Any]:
    """One batch call: each key's record or None; a failure is every key's answer, which
    the DataLoader raises to each caller (hence `Any`: its typing has no room for it)."""
    try:
        found = await fetch(keys)
    except ConnectorError as exc:
        return [exc] * len(keys)
    return [found.get(key) for key in keys]


class Loaders:
    """The dataloaders of one request.

    Attributes:
        by_email: per provider, normalized email -> `Contact | None`.
        by_id: per provider, remote id -> `Contact | None`.
        activity: per provider, (remote id, limit) -> newest activity first.
        people: person key ("email:<normalized>" or "<provider>:<remote id>") -> `Lookup`.
    """

    def __init__(self, connectors: Mapping[Provider, Connector], precedence: Precedence) -> None:
        self.connectors = connectors
        self.precedence = precedence
        self.by_email: dict[Provider, DataLoader[str, Contact | None]] = {}
        self.by_id: dict[Provider, DataLoader[str, Contact | None]] = {}
        self.activity: dict[Provider, DataLoader[tuple[str, int], list[Activity]]] = {}
        for provider, connector in connectors.items():
            caps = connector.capabilities
            if Capability.READ_BY_EMAIL in caps:
                self.by_email[provider] = DataLoader(partial(self._load_by_email, connector))
            if Capability.READ_BY_ID in caps:
                self.by_id[provider] = DataLoader(partial(self._load_by_id, connector))
            if Capability.ACTIVITY in caps:
                self.activity[provider] = DataLoader(partial(self._load_activity, connector))
        self.people: DataLoader[str, Lookup] = DataLoader(self._load_people)
        # Pages read while enumerating, by (provider, cursor, limit, brief): a page
        # read to skip duplicates is not read again to list it.
        self.pages: dict[tuple[Provider, str | None, int, bool], Page] = {}
        # Every record of a provider whose whole listing was read in this request,
        # by normalized email: lookups by email are answered from it, no call.
        self.complete: dict[Provider, dict[str, Contact]] = {}

    def prime(self, record: Contact) -> None:
        """Remember a record read some other way, so no loader asks for it again."""
        if (loader := self.by_id.get(record.provider)) is not None:
            loader.prime(record.remote_id, record)
        email = normalize_email(record.email)
        if email and (loader := self.by_email.get(record.provider)) is not None:
            loader.prime(email, record)

    def clear(self) -> None:
        """Forget every answer (after a write, reads must see the providers anew)."""
        for loaders in (self.by_email, self.by_id, self.activity):
            for loader in loaders.values():
                loader.clear_all()
        self.people.clear_all()
        self.pages.clear()
        self.complete.clear()

    def remember_listing(self, provider: Provider, records: Sequence[Contact]) -> None:
        """Record that `records` are every contact `provider` has."""
        known: dict[str, Contact] = {}
        for record in records:
            if email := normalize_email(record.email):
                known.setdefault(email, record)
        self.complete[provider] = known

    # -- batch functions ------------------------------------------------------

    async def _load_by_email(self, connector: Connector, emails: list[str]) -> list[Any]:
        known = self.complete.get(connector.provider)
        if known is not None:
            return [known.get(email) for email in emails]
        return await _answer(connector.fetch_by_emails, emails)

    @staticmethod
    async def _load_by_id(connector: Connector, ids: list[str]) -> list[Any]:
        return await _answer(connector.fetch_by_ids, ids)

    @staticmethod
    async def _load_activity(connector: Connector, keys: list[tuple[str, int]]) -> list[Any]:
        by_limit: dict[int, list[str]] = {}
        for remote_id, limit in keys:
            by_limit.setdefault(limit, []).append(remote_id)
        answers: dict[tuple[str, int], Any] = {}

        async def one(limit: int, ids: list[str]) -> None:
            try:
                found = await connector.fetch_activity(ids, limit=limit)
            except ConnectorError as exc:
                answers.update({(i, limit): exc for i in ids})
                return
            answers.update({(i, limit): found.get(i, []) for i in ids})

        await asyncio.gather(*(one(limit, ids) for limit, ids in by_limit.items()))
        return [answers[key] for key in keys]

    async def _load_people(self, keys: list[str]) -> list[Lookup]:
        records: dict[str, list[Contact]] = {key: [] for key in keys}
        failures: dict[str, list[ConnectorError]] = {key: [] for key in keys}
        emails: dict[str, str] = {}  # person key -> normalized email to look up

        id_keys = [k for k in keys if not k.startswith("email:")]
        for key in keys:
            if key.startswith("email:"):
                emails[key] = key.removeprefix("email:")

        async def by_id(key: str) -> None:
            provider_name, _, remote_id = key.partition(":")
            try:
                provider = Provider(provider_name)
            except ValueError:
                return
            loader = self.by_id.get(provider)
            if loader is None:
                return
            try:
                record = await loader.load(remote_id)
            except ConnectorError as exc:
                failures[key].append(exc)
                return
            if record is not None:
                records[key].append(record)
                if email := normalize_email(record.email):
                    emails[key] = email

        await asyncio.gather(*(by_id(key) for key in id_keys))

        async def by_email(provider: Provider, loader: DataLoader[str, Contact | None]) -> None:
            wanted = list(emails.items())
            answers = await asyncio.gather(
                *(loader.load(email) for _, email in wanted), return_exceptions=True
            )
            for (key, _), answer in zip(wanted, answers, strict=True):
                if isinstance(answer, ConnectorError):
                    failures[key].append(answer)
                elif isinstance(answer, BaseException):
                    raise answer
                elif answer is not None and all(
                    (r.provider, r.remote_id) != (answer.provider, answer.remote_id)
                    for r in records[key]
                ):
                    records[key].append(answer)

        if emails:
            await asyncio.gather(*(by_email(p, loader) for p, loader in self.by_email.items()))

        results = []
        for key in keys:
            people = merge(records[key], self.precedence)
            person = people[0] if people else None
            if person is not None and len(people) > 1:
                # An external-id join cannot split a lookup by one email: keep them together.
                person.sources = [r for p in people for r in p.sources]
            results.append(Lookup(person, _unique(failures[key])))
        return results


def _unique(errors: list[ConnectorError]) -> list[ConnectorError]:
    seen: set[Provider] = set()
    out = []
    for error in errors:
        if error.provider not in seen:
            seen.add(error.provider)
            out.append(error)
    return out
