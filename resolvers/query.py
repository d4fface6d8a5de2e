"""`Query`: contacts, accounts, tags and providers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from connectors.errors import ConnectorError
from connectors.protocol import TagLister
from gateway.domain.federation import Person
from gateway.domain.keys import AccountKey, PersonKey
from gateway.domain.records import Provider
from gateway.store import StoreUnavailable
from gateway.store.journal import BULK, Journal, OperationView
from resolvers.runtime.context import Info
from resolvers.runtime.cursors import (
    DEFAULT_ACTIVITY_PAGE,
    DEFAULT_PAGE,
    MAX_ACTIVITY_PAGE,
    MAX_PAGE,
    MAX_SORTED_LISTING,
    Window,
    decode_key,
    decode_offset,
    encode_offset,
    keyset_window,
    paging,
)
from resolvers.runtime.errors import BadUserInput, StoreError
from resolvers.services import bulk, writes
from resolvers.services.listing import (
    ListingFilter,
    Order,
    OrderField,
    account_people,
    enumerable,
    enumerate_all,
    enumerate_people,
    lookup_people,
    ordered,
    sort_key,
)
from resolvers.services.lookup import account_key, complete, find_at_root, find_person
from resolvers.types.account import AccountNode
from resolvers.types.activity import KINDS, SINCE, UNTIL, ActivityConnection, activity_filter
from resolvers.types.contact import ContactConnection, ContactNode
from resolvers.types.ids import decode_id, person_key
from resolvers.types.inputs import (
    ContactFilter,
    ContactInput,
    ContactOrder,
    check_email,
    target_providers,
)
from resolvers.types.node import After, Before, Node, PageInfo
from resolvers.types.operations import (
    BulkJob,
    WriteOperation,
    WriteOperationConnection,
    WriteOperationEdge,
    WriteOperationStatus,
    operation_after,
    operation_cursor,
)
from resolvers.types.payloads import ProviderWriteResult, UpsertPreviewPayload
from resolvers.types.provider import ProviderInfo
from resolvers.types.provider_field import DESCRIPTION as PROVIDER_FIELDS
from resolvers.types.provider_field import ProviderField, provider_fields
from resolvers.types.scalars import ActivityKindEnum, ProviderEnum
from resolvers.types.tag import TagNode

OPERATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _completed(info: Info, window: Window[Person]) -> Window[Person]:
    """A page's people with every provider's records."""
    people = await complete(info.context, info, [p.key for p in window.items])
    kept = [(p, c) for p, c in zip(people, window.cursors, strict=True) if p is not None]
    return replace(window, items=[p for p, _ in kept], cursors=[c for _, c in kept])


def _listing_count(info: Info, phases: list[Provider]) -> Callable[[], Awaitable[int | None]]:
    """An unfiltered listing's size: Adaptix's own count when it is all the listing reads;
    unknown (None) once Trustmary is in it."""

    async def total() -> int | None:
        counter = info.context.runtime.counters.get(phases[0]) if len(phases) == 1 else None
        if counter is None:
            return None
        try:
            return await counter.count_contacts()
        except ConnectorError as exc:
            info.context.report(info, exc)
            return None

    return total


async def _contact(info: Info, key: PersonKey, *, root: bool = False) -> ContactNode | None:
    if root:
        person = await find_at_root(info.context, info, key)
    else:
        person = await find_person(info.context, info, key)
    return ContactNode.from_person(person) if person else None


async def _account(info: Info, key: AccountKey) -> AccountNode | None:
    people = await account_people(info.context, info, key, None)
    if not people:
        return None
    return await AccountNode.for_key(info, key, people)


@strawberry.type(
    description="Reads: contacts federated across the providers, accounts, tags, the "
    "providers themselves, and the write journal. Nothing here writes to a provider."
)
class Query:
    @strawberry.field(
        description="One contact, by its global id or by email (asked of every readable "
        "provider at once). Give exactly one of `id` and `email`."
    )
    async def contact(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The contact's global id (`Contact.id`)."),
        ] = None,
        email: Annotated[
            str | None,
            strawberry.argument(
                description="An email of the contact, compared case-insensitively (the rule "
                "of ContactInput.email)."
            ),
        ] = None,
    ) -> ContactNode | None:
        if (id is None) == (email is None):
            raise BadUserInput("give exactly one of id and email", field="id")
        if email is not None:
            key = PersonKey.email(check_email(email, "email"))
        else:
            key = person_key(str(id))
        return await _contact(info, key, root=True)

    @strawberry.field(
        description="Contacts, one per person across providers. Filtered or not, they come "
        "in one listing order unless `orderBy` says otherwise: people Adaptix holds by "
        "Adaptix id, then people Trustmary holds in the order Trustmary created them, then "
        "(filtered listings) everyone else by key. Without filters (or with only `provider`) "
        "it lists what the providers can enumerate (Adaptix, Trustmary); people only in "
        "Lunar Send, Akita or Interakt are found by filters (see `coveredProviders`). "
        "Paging, forward (`first`, `after`) or backward (`last`, `before`), never skips or "
        "repeats anyone."
    )
    async def contacts(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many contacts from the start (20)."),
        ] = None,
        after: After = None,
        last: Annotated[
            int | None, strawberry.argument(description="How many contacts from the end.")
        ] = None,
        before: Before = None,
        filter: Annotated[
            ContactFilter | None,
            strawberry.argument(description="What the contacts must match (all of it)."),
        ] = None,
        order_by: Annotated[
            ContactOrder | None,
            strawberry.argument(
                description="How to sort them. An unfiltered listing is read whole to be "
                f"sorted (at most {MAX_SORTED_LISTING} contacts: filter a larger one)."
            ),
        ] = None,
    ) -> ContactConnection:
        asked = paging(first, after, last, before, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        flt = filter.to_filter() if filter else ListingFilter()
        order = order_by.to_order() if order_by else Order()
        ctx = info.context
        if flt.needs_lookup or order.field is not None:
            decode_key(asked.after)  # refused before any provider call
            decode_key(asked.before, field="before")
            if flt.needs_lookup:
                found = await lookup_people(ctx, info, flt)
                people, covered = found.people, found.covered
            else:
                people = await enumerate_all(ctx, info, flt.provider)
                covered = enumerable(ctx, flt.provider)
            people = ordered(people, order)
            window = keyset_window(people, sort_key(order), asked, descending=order.descending)
            if not flt.needs_lookup:  # sorted as the listing knows them; shown complete
                window = await _completed(info, window)
            return ContactConnection.of(window, asked, len(people), covered)
        window = await enumerate_people(ctx, info, paging=asked, provider=flt.provider)
        phases = enumerable(ctx, flt.provider)
        return ContactConnection.of(window, asked, _listing_count(info, phases), phases)

    @strawberry.field(
        description="People created or changed since a time, oldest change first, for "
        "incremental sync: keep the last `endCursor` (or the latest `updatedAt` seen) and ask "
        "again. What a provider can tell: Adaptix and Trustmary keep a change time (Trustmary "
        "read page by page); Lunar Send keeps only a creation time (a person only there "
        "shows when created, not when changed); Akita and Interakt cannot be read."
    )
    async def contact_changes(
        self,
        info: Info,
        since: Annotated[
            datetime,
            strawberry.argument(description="Changes after this time (with an offset)."),
        ],
        first: Annotated[
            int | None,
            strawberry.argument(description="How many contacts from the start (20)."),
        ] = None,
        after: After = None,
        last: Annotated[
            int | None,
            strawberry.argument(description="How many contacts from the latest change."),
        ] = None,
        before: Before = None,
    ) -> ContactConnection:
        asked = paging(first, after, last, before, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        decode_key(asked.after)  # refused before any provider call
        decode_key(asked.before, field="before")
        if since.tzinfo is None:
            raise BadUserInput(
                "since needs a time zone offset (e.g. 2026-01-31T09:00:00Z)", field="since"
            )
        flt = ContactFilter(updated_since=since).to_filter()
        found = await lookup_people(info.context, info, flt)
        order = Order(OrderField.UPDATED_AT)
        people = ordered(found.people, order)
        window = keyset_window(people, sort_key(order), asked)
        return ContactConnection.of(window, asked, len(people), found.covered)

    @strawberry.field(description="Any object by its global id.")
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A global id: a `Contact.id` or an `Account.id` (null for any other)."
            ),
        ],
    ) -> Node | None:
        decoded = decode_id(str(id))
        if decoded is None:
            raise BadUserInput("id is not a global id of this gateway", field="id")
        type_name, token = decoded
        if type_name == "Contact":
            key = PersonKey.parse(token)
            return await _contact(info, key) if key is not None else None
        if type_name == "Account":
            account = await account_key(info.context, token)
            return await _account(info, account) if account is not None else None
        return None

    @strawberry.field(description="An account by its global id (from `Contact.account`).")
    async def account(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The `Account.id`.")],
    ) -> AccountNode | None:
        decoded = decode_id(str(id))
        if decoded is None or decoded[0] != "Account":
            raise BadUserInput("id is not an account id", field="id")
        key = await account_key(info.context, decoded[1])
        return await _account(info, key) if key is not None else None

    @strawberry.field(
        description="Tags from every enabled provider that has them (Adaptix tags, Trustmary "
        "lists, Akita's configured tags), or from one."
    )
    async def tags(
        self,
        info: Info,
        provider: Annotated[
            ProviderEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only this provider's (all when left out)."),
        ] = None,
    ) -> list[TagNode]:
        listers = info.context.runtime.tag_listers

        async def one(lister: TagLister) -> list[TagNode]:
            try:
                return [TagNode.from_info(t) for t in await lister.list_tags()]
            except ConnectorError as exc:
                info.context.report(info, exc)
                return []

        wanted = [c for p, c in listers.items() if provider is None or p is provider]
        found = await asyncio.gather(*(one(c) for c in wanted))
        return [tag for tags in found for tag in tags]

    @strawberry.field(
        description="What `upsertContact` with this input would do at each provider (all of "
        "them when `providers` is left out), without writing anything: whether it would "
        "create, update or skip the contact, the fields it would drop and why. Readable "
        "providers are asked what they hold (Adaptix, Trustmary, Lunar Send by email); for "
        "Akita, which cannot be read, the gateway knows only what it wrote itself; Interakt "
        "never tells new from known. Input is checked as for `upsertContact`."
    )
    async def preview_upsert(
        self,
        info: Info,
        input: Annotated[
            ContactInput, strawberry.argument(description="The contact an upsert would write.")
        ],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description="The providers the upsert would go to."),
        ] = None,
    ) -> UpsertPreviewPayload:
        write = input.to_write(phone_region=info.context.runtime.phone_region)
        rows = await writes.preview(info.context, write, target_providers(providers))
        return UpsertPreviewPayload(results=[ProviderWriteResult.from_result(r) for r in rows])

    @strawberry.field(description="Every provider: enabled or not, capabilities, health.")
    def providers(self, info: Info) -> list[ProviderInfo]:
        return [ProviderInfo.for_provider(info, p) for p in Provider]

    @strawberry.field(description=PROVIDER_FIELDS)
    async def provider_fields(
        self,
        info: Info,
        provider: Annotated[
            ProviderEnum,  # type: ignore[valid-type]
            strawberry.argument(description="Whose fields."),
        ],
    ) -> list[ProviderField]:
        return await provider_fields(info, provider)

    @strawberry.field(
        description="What happened to every contact, newest first: the global activity "
        "feed. Only Adaptix keeps one (`GET /contacts/activity`), so these are Adaptix "
        "events; no provider keeps a feed of every contact's notes, so `kinds: [NOTE]` "
        "gives an empty feed, and with Adaptix not enabled the feed is empty. Each item's "
        "`contact` is found by its Adaptix contact id. Cursors are positions in the "
        "filtered feed: keep the same filters while paging; events added meanwhile move "
        "the positions (a page may then repeat an item)."
    )
    async def activity(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many items from the newest (10)."),
        ] = None,
        after: After = None,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="How many items from the oldest (without `before`, the feed's "
                "total is asked for first: one more call)."
            ),
        ] = None,
        before: Before = None,
        kinds: Annotated[
            list[ActivityKindEnum] | None, strawberry.argument(description=KINDS)
        ] = None,
        since: Annotated[datetime | None, strawberry.argument(description=SINCE)] = None,
        until: Annotated[datetime | None, strawberry.argument(description=UNTIL)] = None,
    ) -> ActivityConnection:
        asked = paging(
            first, after, last, before, default=DEFAULT_ACTIVITY_PAGE, maximum=MAX_ACTIVITY_PAGE
        )
        start = decode_offset(after)
        end = decode_offset(before, field="before") - 1 if before is not None else None
        wanted = activity_filter(kinds, since, until)
        feed = next(iter(info.context.runtime.activity_feeds.values()), None)
        if feed is None:  # Adaptix's is the only feed there is
            return ActivityConnection.of(Window([], [], False), asked, total=0)
        try:
            if asked.backward:
                if end is None:
                    end = (await feed.activity_feed(offset=0, limit=1, wanted=wanted)).total
                start = max(start, end - asked.size)
                limit = end - start
            else:
                limit = asked.size if end is None else max(0, min(asked.size, end - start))
            page = await feed.activity_feed(offset=start, limit=limit, wanted=wanted)
        except ConnectorError as exc:
            info.context.report(info, exc)  # not an empty feed: one that could not be read
            return ActivityConnection.of(Window([], [], False), asked, total=None)
        items, total = page.items, page.total
        cursors = [encode_offset(start + i) for i in range(1, len(items) + 1)]
        more = start + len(items) < total or (asked.backward and before is not None)
        window = Window(items, cursors, has_next=more, has_previous=start > 0)
        return ActivityConnection.of(window, asked, total=total)

    @strawberry.field(
        description="A write operation (a mutation's `operationId`) as the journal keeps "
        "it: its status and each provider leg's. Null when no operation has this id (or "
        "it is past the journal's retention), and, with `[auth]`, when it was sent with "
        "another key's or token's name."
    )
    async def write_operation(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A mutation's `operationId`, or a `BulkJob.id`."),
        ],
    ) -> WriteOperation | None:
        journal = _journal(info)
        view = _own(info, await _stored(journal.operation(_operation_id(str(id)))))
        return WriteOperation.of(view) if view is not None else None

    @strawberry.field(
        description="Write operations, newest first; with `[auth]`, those sent with the "
        "caller's own key or token name."
    )
    async def write_operations(
        self,
        info: Info,
        status: Annotated[
            WriteOperationStatus | None,
            strawberry.argument(description="Only the operations in this status."),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many operations from the newest (20)."),
        ] = None,
        after: After = None,
        last: Annotated[
            int | None,
            strawberry.argument(description="How many operations from the oldest."),
        ] = None,
        before: Before = None,
    ) -> WriteOperationConnection:
        journal = _journal(info)
        asked = paging(first, after, last, before, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        views, more = await _stored(
            journal.operations(
                status=status.value if status is not None else None,
                first=asked.size,
                after=operation_after(after),
                before=operation_after(before, field="before"),
                backward=asked.backward,
                caller=info.context.principal.name if info.context.principal else None,
            )
        )
        edges = [
            WriteOperationEdge(cursor=operation_cursor(v.id), node=WriteOperation.of(v))
            for v in views
        ]
        window = Window(
            edges,
            [e.cursor for e in edges],
            has_next=bool(before) if asked.backward else more,
            has_previous=more if asked.backward else bool(after),
        )
        return WriteOperationConnection(edges=edges, page_info=PageInfo.of(window, asked))

    @strawberry.field(
        description="A bulk job (from `startBulkUpsert`) and how far along it is; with "
        "`[auth]`, only one started with the caller's own key or token name."
    )
    async def bulk_job(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The `BulkJob.id` `startBulkUpsert` answered."),
        ],
    ) -> BulkJob | None:
        journal = _journal(info)
        view = _own(info, await _stored(journal.operation(_operation_id(str(id)))))
        if view is None or view.kind != BULK:
            return None
        progress = await _stored(journal.progress(view.id))
        return BulkJob.of(view, bulk.estimate(info.context.runtime, view, progress))


T = TypeVar("T")


def _own(info: Info, view: OperationView | None) -> OperationView | None:
    """`view` when the caller may see it: with `[auth]`, only the operations sent with
    the caller's own key or token name (their legs tell whom the caller wrote)."""
    principal = info.context.principal
    if view is None or principal is None or view.caller == principal.name:
        return view
    return None


def _journal(info: Info) -> Journal:
    journal = info.context.runtime.journal
    if journal is None:
        raise StoreError("this gateway keeps no write journal ([store] is disabled)")
    return journal


async def _stored(call: Awaitable[T]) -> T:
    try:
        return await call
    except StoreUnavailable as exc:
        raise StoreError(str(exc)) from None


def _operation_id(text: str) -> str:
    if not OPERATION_ID.fullmatch(text):
        raise BadUserInput("id: not an operation id", field="id")
    return text
