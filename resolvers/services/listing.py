"""How `contacts` finds people: enumeration and lookup.

Enumeration walks the providers that can list every contact (Adaptix, then
Trustmary), page by page. A person already listed from an earlier provider
is skipped in a later one (checked by email, in batches), so across all pages
everyone is listed exactly once. The cursor records the provider, its own page
cursor and how many records of that page were consumed; pages are stable
because both providers list in creation order.

Lookup answers filters (email, company, search, tag) by asking every provider
that can answer them: by search where the API has one, by scanning pages where
it can only list (Trustmary), by equality where that is all it offers (Lunar
Send). The people found are then completed from every readable provider and
paged by offset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from connectors.errors import ConnectorError
from gateway.domain.federation import Person, merge
from gateway.domain.keys import AccountKey, AccountKind, PersonKey
from gateway.domain.normalize import normalize_company, normalize_email
from gateway.domain.records import ContactRecord, Provider, SearchField
from resolvers.runtime.context import Context, Info
from resolvers.runtime.cursors import (
    MAX_SORTED_LISTING,
    Paging,
    Window,
    decode_cursor,
    encode_cursor,
)
from resolvers.runtime.errors import BadUserInput
from resolvers.services.lookup import complete

ENUMERATION_ORDER = (Provider.ADAPTIX, Provider.TRUSTMARY)
DUPLICATE_CHECK_CHUNK = 200


@dataclass(frozen=True)
class ListingFilter:
    """What `contacts` was asked to match, checked (`resolvers.types.inputs.ContactFilter`)."""

    email: str | None = None
    search: str | None = None
    provider: Provider | None = None
    tag: str | None = None
    company: str | None = None
    updated_since: datetime | None = None

    @property
    def needs_lookup(self) -> bool:
        return any(v for v in (self.email, self.search, self.tag, self.company, self.updated_since))


class OrderField(StrEnum):
    """What a listing can be sorted by."""

    EMAIL = "email"
    NAME = "name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@dataclass(frozen=True)
class Order:
    """A listing's order: `field` None is the listing order (see `listing_key`)."""

    field: OrderField | None = None
    descending: bool = False


# A sort value and the person's key, apart: no name or email holds this character.
_SEPARATOR = "\x1f"


def _stamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def listing_key(person: Person) -> str:
    """Where a person comes in the listing order, filtered or not: people Adaptix holds
    by Adaptix id, then people Trustmary holds (and Adaptix does not) in the order
    Trustmary created them, then everyone else by key."""
    for rank, provider in enumerate(ENUMERATION_ORDER):
        record = person.source(provider)
        if record is None:
            continue
        if provider is Provider.ADAPTIX and record.remote_id.isdigit():
            place = record.remote_id.zfill(12)
        else:
            place = (_stamp(record.created_at) or "") + _SEPARATOR + record.remote_id
        return f"{rank}{place}{_SEPARATOR}{person.key.token}"
    return f"{len(ENUMERATION_ORDER)}{person.key.token}"


def sort_key(order: Order) -> Callable[[Person], str]:
    """The key `order` sorts people by, as a string: a value first (nulls after every
    value, whichever the direction), then the person's key."""
    if order.field is None:
        return listing_key
    field = order.field

    def value(person: Person) -> str | None:
        if field is OrderField.EMAIL:
            return normalize_email(person.pick("email"))
        if field is OrderField.NAME:
            first, last = person.pick("first_name"), person.pick("last_name")
            name = person.pick("name") or " ".join(p for p in (first, last) if p)
            return name.strip().casefold() or None
        if field is OrderField.CREATED_AT:
            return _stamp(person.created_at)
        return _stamp(person.updated_at)

    present, absent = ("1", "0") if order.descending else ("0", "1")

    def key(person: Person) -> str:
        found = value(person)
        head = absent if found is None else present + found
        return head + _SEPARATOR + person.key.token

    return key


def ordered(people: Sequence[Person], order: Order) -> list[Person]:
    return sorted(people, key=sort_key(order), reverse=order.descending)


# -- enumeration --------------------------------------------------------------


def enumerable(ctx: Context, provider: Provider | None) -> list[Provider]:
    phases = [p for p in ENUMERATION_ORDER if p in ctx.runtime.listers]
    if provider is not None:
        if provider not in phases:
            reason = (
                "is not enabled"
                if not ctx.runtime.enabled(provider)
                else "cannot list its contacts; filter by email or company instead"
            )
            raise BadUserInput(f"{provider.name} {reason}", field="filter.provider")
        phases = [provider]
    return phases


async def _listed_earlier(
    ctx: Context, info: Info, earlier: Sequence[Provider], records: Sequence[ContactRecord]
) -> list[bool]:
    """For each record, whether a provider enumerated before has the same email."""
    emails = [normalize_email(r.email) for r in records]
    seen = [False] * len(records)
    for provider in earlier:
        loader = ctx.loaders.by_email.get(provider)
        if loader is None:
            continue
        wanted = [(i, e) for i, e in enumerate(emails) if e and not seen[i]]
        answers = await asyncio.gather(*(loader.load(e) for _, e in wanted), return_exceptions=True)
        for (i, _), answer in zip(wanted, answers, strict=True):
            if isinstance(answer, ConnectorError):
                # Without the earlier provider's answer a duplicate cannot be ruled out;
                # the earlier provider's own failure is reported where it was listed.
                info.context.report(info, answer)
            elif isinstance(answer, BaseException):
                raise answer
            elif answer is not None:
                seen[i] = True
    return seen


def _phase_of(value: Any, phases: Sequence[Provider], field: str) -> int:
    names = [p.value for p in phases]
    if value not in names:
        raise BadUserInput("not a cursor of this listing", field=field)
    return names.index(value)


def _position(value: Any, field: str) -> str | None:
    if not (value is None or (isinstance(value, str) and len(value) <= 200)):
        raise BadUserInput("not a cursor of this listing", field=field)
    return value


def _listing_state(after: str | None, phases: Sequence[Provider]) -> dict[str, Any]:
    """Where to resume: the provider, and its cursor after the last record listed."""
    if after is None:
        return {"p": phases[0].value, "a": None}
    state = decode_cursor(after)
    if not {"p", "a"} <= set(state) <= {"p", "a", "b"}:
        raise BadUserInput("not a cursor of this listing", field="after")
    index = _phase_of(state["p"], phases, "after")
    return {"p": phases[index].value, "a": _position(state["a"], "after")}


def _boundary(before: str | None, phases: Sequence[Provider]) -> tuple[int, str | None] | None:
    """What a backward page ends before: a phase and the position of the record the
    cursor stands for (None: the phase's end); None when nothing precedes it."""
    if before is None:
        return len(phases) - 1, None
    state = decode_cursor(before, field="before")
    if not {"p", "a"} <= set(state) <= {"p", "a", "b"}:
        raise BadUserInput("not a cursor of this listing", field="before")
    if "b" in state:  # the cursor says where to go on; its own record is here
        own = state["b"]
        if not isinstance(own, list) or len(own) != 2:
            raise BadUserInput("not a cursor of this listing", field="before")
        return _phase_of(own[0], phases, "before"), _position(own[1], "before")
    index = _phase_of(state["p"], phases, "before")
    position = _position(state["a"], "before")
    if position is None:  # the start of a phase: everything of the phase before it
        return (index - 1, None) if index > 0 else None
    return index, position


async def enumerate_people(
    ctx: Context, info: Info, *, paging: Paging, provider: Provider | None
) -> Window[Person]:
    """A page of the listing of every enumerable provider in turn (`listing_key`).

    Every cursor names a record (by the provider's own key, see `Page.positions`), so
    a page goes on after it, or ends before it, however many contacts were deleted or
    added since.
    """
    phases = enumerable(ctx, provider)
    if not phases:
        return Window([], [], False)
    if paging.after is not None and paging.before is not None:
        raise BadUserInput("after and before together bound only filtered listings", field="before")
    if paging.backward:
        return await _enumerate_backward(ctx, info, paging, phases)
    if paging.before is not None:
        raise BadUserInput("before pages backward: give last with it", field="before")
    first = paging.size
    state: dict[str, Any] | None = _listing_state(paging.after, phases)

    brief = ctx.loaders.brief.listings
    collected: list[ContactRecord] = []
    cursors: list[dict[str, Any]] = []
    while state is not None and len(collected) < first:
        phase = Provider(state["p"])
        index = phases.index(phase)
        need = first - len(collected)
        try:
            page = await ctx.loaders.page(phase, state["a"], need, brief=brief)
        except ConnectorError as exc:
            ctx.report(info, exc)
            state = _next_phase(phases, index)
            continue
        records = page.contacts
        consumed = 0
        while consumed < len(records) and len(collected) < first:
            chunk = records[consumed : consumed + DUPLICATE_CHECK_CHUNK]
            duplicate = await _listed_earlier(ctx, info, phases[:index], chunk)
            for record, dup in zip(chunk, duplicate, strict=True):
                if len(collected) == first:
                    break
                consumed += 1
                if not dup:
                    collected.append(record)
                    cursors.append({"p": phase.value, "a": page.positions[consumed - 1]})
        if consumed < len(records):
            state = {"p": phase.value, "a": page.positions[consumed - 1]}
        elif page.next_cursor is not None:
            state = {"p": phase.value, "a": page.next_cursor}
        else:
            state = _next_phase(phases, index)

    if state is not None and cursors and state != cursors[-1]:
        # Go on from where the listing stopped, and keep the record's own place for
        # a page backward from it.
        cursors[-1] = {**state, "b": [cursors[-1]["p"], cursors[-1]["a"]]}
    return await _window(
        ctx, info, collected, cursors, has_next=state is not None, has_previous=paging.after
    )


async def _enumerate_backward(
    ctx: Context, info: Info, paging: Paging, phases: Sequence[Provider]
) -> Window[Person]:
    """The last `paging.size` people before `paging.before` (of the whole listing when
    None), read back through each phase's pages."""
    boundary = _boundary(paging.before, phases)
    brief = ctx.loaders.brief.listings
    collected: list[ContactRecord] = []  # newest first, reversed at the end
    cursors: list[dict[str, Any]] = []
    while boundary is not None and len(collected) < paging.size:
        index, position = boundary
        phase = phases[index]
        lister = ctx.runtime.listers[phase]
        need = paging.size - len(collected)
        try:
            page = await lister.list_contacts_before(cursor=position, limit=need, brief=brief)
        except ConnectorError as exc:
            ctx.report(info, exc)
            boundary = (index - 1, None) if index > 0 else None
            continue
        records = page.contacts
        duplicate = await _listed_earlier(ctx, info, phases[:index], records)
        taken = len(records)
        for at in range(len(records) - 1, -1, -1):
            if len(collected) == paging.size:
                break
            taken = at
            if not duplicate[at]:
                collected.append(records[at])
                cursors.append({"p": phase.value, "a": page.positions[at]})
        if taken > 0:
            boundary = (index, page.positions[taken])
        elif page.next_cursor is not None:
            boundary = (index, page.next_cursor)
        else:
            boundary = (index - 1, None) if index > 0 else None
    collected.reverse()
    cursors.reverse()
    return await _window(
        ctx, info, collected, cursors, has_next=paging.before, has_previous=boundary is not None
    )


async def _window(
    ctx: Context,
    info: Info,
    records: list[ContactRecord],
    states: list[dict[str, Any]],
    *,
    has_next: Any,
    has_previous: Any,
) -> Window[Person]:
    for record in records:
        ctx.loaders.prime(record)
    people = await complete(ctx, info, [PersonKey.of(r) for r in records])
    found = [(p, encode_cursor(c)) for p, c in zip(people, states, strict=True) if p is not None]
    return Window(
        [p for p, _ in found],
        [c for _, c in found],
        has_next=bool(has_next),
        has_previous=bool(has_previous),
    )


async def enumerate_all(ctx: Context, info: Info, provider: Provider | None) -> list[Person]:
    """Every person of the listing, as the enumerable providers alone know them (to be
    sorted by a field; `complete` fills in a page's people from every provider).
    Refused past `MAX_SORTED_LISTING` records: no provider sorts across the others."""
    records: list[ContactRecord] = []
    for phase in enumerable(ctx, provider):
        try:
            records += await _scan_all(ctx, phase, limit=MAX_SORTED_LISTING - len(records))
        except ConnectorError as exc:
            ctx.report(info, exc)
    return merge(records, ctx.runtime.precedence)


def _next_phase(phases: Sequence[Provider], index: int) -> dict[str, Any] | None:
    if index + 1 < len(phases):
        return {"p": phases[index + 1].value, "a": None}
    return None


# -- lookup -------------------------------------------------------------------


async def _scan_all(
    ctx: Context, provider: Provider, *, limit: int | None = None
) -> list[ContactRecord]:
    """Every record `provider` lists; past `limit` records, BadUserInput."""
    records: list[ContactRecord] = []
    cursor: str | None = None
    while True:
        page = await ctx.loaders.page(provider, cursor, 1000)
        records.extend(page.contacts)
        if limit is not None and len(records) > limit:
            raise BadUserInput(
                f"orderBy sorts an unfiltered listing of at most {MAX_SORTED_LISTING} "
                "contacts; filter it (e.g. by updatedSince or company) or leave orderBy out",
                field="orderBy",
            )
        if page.next_cursor is None:
            return records
        cursor = page.next_cursor


async def _candidates(
    ctx: Context, info: Info, flt: ListingFilter
) -> tuple[list[ContactRecord], list[Provider]]:
    """Records that may match, from every provider that can answer the filter, and
    which providers those are."""
    if flt.tag:
        by, value = SearchField.TAG, flt.tag
    elif flt.company:
        by, value = SearchField.COMPANY, flt.company
    elif flt.search:
        by, value = SearchField.TEXT, flt.search
    else:
        assert flt.updated_since is not None
        by, value = SearchField.UPDATED_SINCE, flt.updated_since.isoformat()
    local = _predicate(
        ListingFilter(
            tag=flt.tag, company=flt.company, search=flt.search, updated_since=flt.updated_since
        )
    )

    runtime = ctx.runtime

    def able(provider: Provider) -> bool:
        searcher = runtime.searchers.get(provider)
        if searcher is not None and by in searcher.search_fields:
            return True
        return provider in runtime.listers and by is not SearchField.TAG

    async def ask(provider: Provider) -> list[ContactRecord]:
        searcher = runtime.searchers.get(provider)
        try:
            if searcher is not None and by in searcher.search_fields:
                return await searcher.search(by, value)
            return [r for r in await _scan_all(ctx, provider) if local([r])]
        except ConnectorError as exc:
            ctx.report(info, exc)
        return []

    providers = [p for p in runtime.connectors if able(p)]
    found = await asyncio.gather(*(ask(p) for p in providers))
    return [r for records in found for r in records], providers


def _changed_since(record: ContactRecord, since: datetime) -> bool:
    stamp = record.updated_at or record.created_at
    return stamp is not None and stamp > since


def _predicate(flt: ListingFilter) -> Callable[[Sequence[ContactRecord]], bool]:
    email = normalize_email(flt.email)
    company = normalize_company(flt.company)
    tag = flt.tag.strip().lower() if flt.tag else None
    text = flt.search.strip().lower() if flt.search else None
    since = flt.updated_since

    def matches(records: Sequence[ContactRecord]) -> bool:
        if flt.provider is not None and all(r.provider is not flt.provider for r in records):
            return False
        if email and all(normalize_email(r.email) != email for r in records):
            return False
        if company and all(normalize_company(r.company) != company for r in records):
            return False
        if tag and all(t.name.lower() != tag for r in records for t in r.tags):
            return False
        if since is not None and not any(_changed_since(r, since) for r in records):
            return False
        if text:
            haystack = " ".join(
                v.lower()
                for r in records
                for v in (r.first_name, r.last_name, r.name, r.email, r.company)
                if v
            )
            if text not in haystack:
                return False
        return True

    return matches


@dataclass(frozen=True, slots=True)
class Found:
    """The people a filtered listing found (unsorted), and the providers it asked: a
    person held only elsewhere cannot be among them."""

    people: list[Person]
    covered: list[Provider]


async def lookup_people(ctx: Context, info: Info, flt: ListingFilter) -> Found:
    if flt.email:
        keys = [PersonKey.email(flt.email)]
        covered = [p for p in ctx.runtime.connectors if p in ctx.loaders.by_email]
    else:
        candidates, covered = await _candidates(ctx, info, flt)
        for record in candidates:
            ctx.loaders.prime(record)
        keys = list(dict.fromkeys(PersonKey.of(r) for r in candidates))
    people = await complete(ctx, info, keys)
    matches = _predicate(flt)
    unique = {p.key: p for p in people if p is not None and matches(p.sources)}
    return Found(list(unique.values()), covered)


async def account_people(
    ctx: Context, info: Info, key: AccountKey, name: str | None
) -> list[Person]:
    """The people of an account: found by company name, kept when their account key matches."""
    if key.kind is not AccountKind.COMPANY:
        # No readable provider stores external account ids: only written ones have them.
        return []
    found = await lookup_people(ctx, info, ListingFilter(company=name or key.value))
    return [
        p
        for p in found.people
        if AccountKey.of(None, p.pick("company")) == key
        or any(AccountKey.of(r.account_external_id, r.company) == key for r in p.sources)
    ]
