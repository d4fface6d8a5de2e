"""`Query`: contacts, accounts, tags and providers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from typing import Annotated, TypeVar

import strawberry

from connectors.errors import ConnectorError
from connectors.protocol import TagLister
from gateway.domain.federation import Person
from gateway.domain.keys import AccountKey, PersonKey
from gateway.domain.records import Provider
from gateway.store import StoreUnavailable
from gateway.store.journal import BULK, Journal
from resolvers.runtime.context import Info
from resolvers.runtime.cursors import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Window,
    decode_key,
    keyset_window,
    page_size,
)
from resolvers.runtime.errors import BadUserInput, StoreError
from resolvers.services import bulk
from resolvers.services.listing import (
    ListingFilter,
    account_people,
    enumerate_people,
    lookup_people,
)
from resolvers.services.lookup import account_key, find_person
from resolvers.types.account import AccountNode
from resolvers.types.contact import ContactConnection, ContactNode
from resolvers.types.ids import decode_id, person_key
from resolvers.types.inputs import ContactFilter, check_email
from resolvers.types.node import Node, PageInfo
from resolvers.types.operations import (
    BulkJob,
    WriteOperation,
    WriteOperationConnection,
    WriteOperationEdge,
    WriteOperationStatus,
    operation_after,
    operation_cursor,
)
from resolvers.types.provider import ProviderInfo
from resolvers.types.scalars import ProviderEnum
from resolvers.types.tag import TagNode

OPERATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _sort_key(person: Person) -> str:
    return person.key.token


async def _contact(info: Info, key: PersonKey) -> ContactNode | None:
    person = await find_person(info.context, info, key)
    return ContactNode.from_person(person) if person else None


async def _account(info: Info, key: AccountKey) -> AccountNode | None:
    people = await account_people(info.context, info, key, None)
    if not people:
        return None
    return await AccountNode.for_key(info, key, people)


@strawberry.type
class Query:
    @strawberry.field(
        description="One contact, by its global id or by email (asked of every readable "
        "provider at once). Give exactly one of `id` and `email`."
    )
    async def contact(
        self, info: Info, id: strawberry.ID | None = None, email: str | None = None
    ) -> ContactNode | None:
        if (id is None) == (email is None):
            raise BadUserInput("give exactly one of id and email", field="id")
        if email is not None:
            key = PersonKey.email(check_email(email, "email"))
        else:
            key = person_key(str(id))
        return await _contact(info, key)

    @strawberry.field(
        description="Contacts, one per person across providers, in a stable order. Without "
        "filters (or with only `provider`) it lists what the providers can enumerate: Adaptix, "
        "then Trustmary; people only in Lunar Send, Akita or Interakt are found by filters. "
        "Paging never skips or repeats anyone."
    )
    async def contacts(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ContactFilter | None = None,
    ) -> ContactConnection:
        first = page_size(first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        flt = filter.to_filter() if filter else ListingFilter()
        window: Window[Person]
        if flt.needs_lookup:
            resume = decode_key(after)
            people = await lookup_people(info.context, info, flt)
            window = keyset_window(people, _sort_key, after=resume, first=first)
        else:
            window = await enumerate_people(
                info.context, info, first=first, after=after, provider=flt.provider
            )
        return ContactConnection.of(window, after)

    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
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
    async def account(self, info: Info, id: strawberry.ID) -> AccountNode | None:
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
        provider: Annotated[ProviderEnum | None, strawberry.argument()] = None,  # type: ignore[valid-type]
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

    @strawberry.field(description="Every provider: enabled or not, capabilities, health.")
    def providers(self, info: Info) -> list[ProviderInfo]:
        return [ProviderInfo.for_provider(info, p) for p in Provider]

    @strawberry.field(
        description="A write operation (a mutation's `operationId`) as the journal keeps "
        "it: its status and each provider leg's. Null when no operation has this id (or "
        "it is past the journal's retention)."
    )
    async def write_operation(self, info: Info, id: strawberry.ID) -> WriteOperation | None:
        journal = _journal(info)
        view = await _stored(journal.operation(_operation_id(str(id))))
        return WriteOperation.of(view) if view is not None else None

    @strawberry.field(description="Write operations, newest first.")
    async def write_operations(
        self,
        info: Info,
        status: WriteOperationStatus | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> WriteOperationConnection:
        journal = _journal(info)
        size = page_size(first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        views, more = await _stored(
            journal.operations(
                status=status.value if status is not None else None,
                first=size,
                after=operation_after(after),
            )
        )
        edges = [
            WriteOperationEdge(cursor=operation_cursor(v.id), node=WriteOperation.of(v))
            for v in views
        ]
        return WriteOperationConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="A bulk job (from `startBulkUpsert`) and how far along it is.")
    async def bulk_job(self, info: Info, id: strawberry.ID) -> BulkJob | None:
        journal = _journal(info)
        view = await _stored(journal.operation(_operation_id(str(id))))
        if view is None or view.kind != BULK:
            return None
        progress = await _stored(journal.progress(view.id))
        return BulkJob.of(view, bulk.estimate(info.context.runtime, view, progress))


T = TypeVar("T")


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
