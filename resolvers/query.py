"""`Query`: contacts, accounts, tags and providers."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from connectors.errors import ConnectorError, Unsupported
from connectors.types import Capability, Provider, normalize_email
from resolvers.account import Account, account_people
from resolvers.contact import MAX_PAGE, Contact, ContactConnection
from resolvers.context import Info
from resolvers.cursors import Window, decode_offset, offset_window, page_size
from resolvers.errors import BadUserInput
from resolvers.federation import Person, decode_id
from resolvers.inputs import ContactFilter, check_email
from resolvers.listing import ContactsFilter, enumerate_people, lookup_people
from resolvers.node import Node
from resolvers.provider import ProviderInfo
from resolvers.scalars import ProviderEnum
from resolvers.tag import Tag


async def find_person(info: Info, key: str) -> Person | None:
    lookup = await info.context.loaders.people.load(key)
    info.context.report(info, *lookup.failures)
    return lookup.person


async def find_contact(info: Info, key: str) -> Contact | None:
    """The contact behind a person key, null when no provider has it."""
    person = await find_person(info, key)
    return Contact.from_person(person) if person else None


def contact_key(global_id: str, field: str = "id") -> str:
    decoded = decode_id(global_id)
    if decoded is None or decoded[0] != "Contact":
        raise BadUserInput(f"{field} is not a contact id", field=field)
    return decoded[1]


@strawberry.type
class Query:
    @strawberry.field(
        description="One contact, by its global id or by email (asked of every readable "
        "provider at once). Give exactly one of `id` and `email`."
    )
    async def contact(
        self, info: Info, id: strawberry.ID | None = None, email: str | None = None
    ) -> Contact | None:
        if (id is None) == (email is None):
            raise BadUserInput("give exactly one of id and email", field="id")
        if email is not None:
            key = f"email:{normalize_email(check_email(email, 'email'))}"
        else:
            key = contact_key(str(id))
        return await find_contact(info, key)

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
        first = page_size(first, default=20, maximum=MAX_PAGE)
        flt = filter.to_filter() if filter else ContactsFilter()
        window: Window[Person]
        if flt.needs_lookup:
            offset = decode_offset(after)
            people = await lookup_people(info.context, info, flt)
            window = offset_window(people, offset=offset, first=first)
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
        type_name, key = decoded
        if type_name == "Contact":
            return await find_contact(info, key)
        if type_name == "Account":
            return await _account(info, key)
        return None

    @strawberry.field(description="An account by its global id (from `Contact.account`).")
    async def account(self, info: Info, id: strawberry.ID) -> Account | None:
        decoded = decode_id(str(id))
        if decoded is None or decoded[0] != "Account":
            raise BadUserInput("id is not an account id", field="id")
        return await _account(info, decoded[1])

    @strawberry.field(
        description="Tags from every enabled provider that has them (Adaptix tags, Trustmary "
        "lists, Akita's configured tags), or from one."
    )
    async def tags(
        self,
        info: Info,
        provider: Annotated[ProviderEnum | None, strawberry.argument()] = None,  # type: ignore[valid-type]
    ) -> list[Tag]:
        gateway = info.context.gateway
        providers = [
            p
            for p in Provider
            if (provider is None or p is provider)
            and (gateway.can(p, Capability.TAGS) or gateway.can(p, Capability.LISTS))
        ]

        async def one(p: Provider) -> list[Tag]:
            try:
                return [Tag.from_provider(t) for t in await gateway.connectors[p].list_tags()]
            except Unsupported:
                return []
            except ConnectorError as exc:
                info.context.report(info, exc)
                return []

        found = await asyncio.gather(*(one(p) for p in providers))
        return [tag for tags in found for tag in tags]

    @strawberry.field(description="Every provider: enabled or not, capabilities, health.")
    def providers(self, info: Info) -> list[ProviderInfo]:
        return [ProviderInfo.for_provider(info, p) for p in Provider]


async def _account(info: Info, key: str) -> Account | None:
    people = await account_people(info, key, None)
    if not people:
        return None
    return Account.for_key(key, people)
