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
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from connectors.errors import ConnectorError
from gateway.domain.federation import Person, sort_people
from gateway.domain.keys import AccountKey, AccountKind, PersonKey
from gateway.domain.normalize import normalize_company, normalize_email
from gateway.domain.records import ContactRecord, Provider, SearchField
from resolvers.runtime.context import Context, Info
from resolvers.runtime.cursors import Window, decode_cursor, encode_cursor
from resolvers.runtime.errors import BadUserInput
from resolvers.runtime.internals import document_fragments
from resolvers.services.lookup import complete

ENUMERATION_ORDER = (Provider.ADAPTIX, Provider.TRUSTMARY)
DUPLICATE_CHECK_CHUNK = 200
# Fields whose values a brief provider record leaves out (see `list_contacts`).
FULL_RECORD_FIELDS = frozenset({"tags", "doNotContact", "raw"})


@dataclass(frozen=True)
class ListingFilter:
    """What `contacts` was asked to match, checked (`resolvers.types.inputs.ContactFilter`)."""

    email: str | None = None
    search: str | None = None
    provider: Provider | None = None
    tag: str | None = None
    company: str | None = None

    @property
    def needs_lookup(self) -> bool:
        return any(v for v in (self.email, self.search, self.tag, self.company))


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


def brief_records_suffice(info: Info) -> bool:
    """Whether the operation asks for nothing a brief provider record leaves out.

    Decided for the whole document, not one field: the records a listing reads
    answer later lookups in the same operation too.
    """
    fragments = document_fragments(info)
    seen: set[str] = set()
    stack: list[SelectionSetNode] = [info.operation.selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in FULL_RECORD_FIELDS:
                    return False
                if selection.selection_set is not None:
                    stack.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)
    return True


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


def _listing_state(after: str | None, phases: Sequence[Provider]) -> dict[str, Any]:
    """Where to resume: the provider, and its cursor after the last record listed."""
    if after is None:
        return {"p": phases[0].value, "a": None}
    state = decode_cursor(after)
    provider, position = state.get("p"), state.get("a")
    if (
        provider not in {p.value for p in phases}
        or set(state) != {"p", "a"}
        or not (position is None or (isinstance(position, str) and len(position) <= 200))
    ):
        raise BadUserInput("not a cursor of this listing", field="after")
    return {"p": provider, "a": position}


async def enumerate_people(
    ctx: Context, info: Info, *, first: int, after: str | None, provider: Provider | None
) -> Window[Person]:
    """The first `first` people after `after`, listing each enumerable provider in turn.

    Every cursor names the last record listed (by the provider's own key, see
    `Page.positions`), so a page goes on after it however many contacts were
    deleted or added before it since.
    """
    phases = enumerable(ctx, provider)
    if not phases:
        return Window([], [], False)
    state: dict[str, Any] | None = _listing_state(after, phases)

    brief = brief_records_suffice(info)
    collected: list[ContactRecord] = []
    cursors: list[str] = []
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
                    cursors.append(
                        encode_cursor({"p": phase.value, "a": page.positions[consumed - 1]})
                    )
        if consumed < len(records):
            state = {"p": phase.value, "a": page.positions[consumed - 1]}
        elif page.next_cursor is not None:
            state = {"p": phase.value, "a": page.next_cursor}
        else:
            state = _next_phase(phases, index)

    if state is not None and cursors:
        cursors[-1] = encode_cursor(state)
    for record in collected:
        ctx.loaders.prime(record)
    people = await complete(ctx, info, [PersonKey.of(r) for r in collected])
    found = [(p, c) for p, c in zip(people, cursors, strict=True) if p is not None]
    return Window([p for p, _ in found], [c for _, c in found], state is not None)


def _next_phase(phases: Sequence[Provider], index: int) -> dict[str, Any] | None:
    if index + 1 < len(phases):
        return {"p": phases[index + 1].value, "a": None}
    return None


# -- lookup -------------------------------------------------------------------


async def _scan_all(ctx: Context, provider: Provider) -> list[ContactRecord]:
    records: list[ContactRecord] = []
    cursor: str | None = None
    while True:
        page = await ctx.loaders.page(provider, cursor, 1000)
        records.extend(page.contacts)
        if page.next_cursor is None:
            return records
        cursor = page.next_cursor


async def _candidates(ctx: Context, info: Info, flt: ListingFilter) -> list[ContactRecord]:
    """Records that may match, from every provider that can answer the filter."""
    if flt.tag:
        by, value = SearchField.TAG, flt.tag
    elif flt.company:
        by, value = SearchField.COMPANY, flt.company
    else:
        assert flt.search
        by, value = SearchField.TEXT, flt.search
    local = _predicate(ListingFilter(tag=flt.tag, company=flt.company, search=flt.search))

    runtime = ctx.runtime

    async def ask(provider: Provider) -> list[ContactRecord]:
        searcher = runtime.searchers.get(provider)
        try:
            if searcher is not None and by in searcher.search_fields:
                return await searcher.search(by, value)
            if provider in runtime.listers and by is not SearchField.TAG:
                return [r for r in await _scan_all(ctx, provider) if local([r])]
        except ConnectorError as exc:
            ctx.report(info, exc)
        return []

    providers = list(runtime.connectors)
    found = await asyncio.gather(*(ask(p) for p in providers))
    return [r for records in found for r in records]


def _predicate(flt: ListingFilter) -> Callable[[Sequence[ContactRecord]], bool]:
    email = normalize_email(flt.email)
    company = normalize_company(flt.company)
    tag = flt.tag.strip().lower() if flt.tag else None
    text = flt.search.strip().lower() if flt.search else None

    def matches(records: Sequence[ContactRecord]) -> bool:
        if flt.provider is not None and all(r.provider is not flt.provider for r in records):
            return False
        if email and all(normalize_email(r.email) != email for r in records):
            return False
        if company and all(normalize_company(r.company) != company for r in records):
            return False
        if tag and all(t.name.lower() != tag for r in records for t in r.tags):
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


async def lookup_people(ctx: Context, info: Info, flt: ListingFilter) -> list[Person]:
    if flt.email:
        keys = [PersonKey.email(flt.email)]
    else:
        candidates = await _candidates(ctx, info, flt)
        for record in candidates:
            ctx.loaders.prime(record)
        keys = list(dict.fromkeys(PersonKey.of(r) for r in candidates))
    people = await complete(ctx, info, keys)
    matches = _predicate(flt)
    unique = {p.key: p for p in people if p is not None and matches(p.sources)}
    return sort_people(unique.values())


async def account_people(
    ctx: Context, info: Info, key: AccountKey, name: str | None
) -> list[Person]:
    """The people of an account: found by company name, kept when their account key matches."""
    if key.kind is not AccountKind.COMPANY:
        # No readable provider stores external account ids: only written ones have them.
        return []
    people = await lookup_people(ctx, info, ListingFilter(company=name or key.value))
    return [
        p
        for p in people
        if AccountKey.of(None, p.pick("company")) == key
        or any(AccountKey.of(r.account_external_id, r.company) == key for r in p.sources)
    ]
