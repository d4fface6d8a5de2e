"""`Account`: the company a contact belongs to, across providers."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.domain.federation import Person
from gateway.domain.keys import AccountKey, AccountKind
from resolvers.runtime.context import Info
from resolvers.runtime.cursors import DEFAULT_PAGE, MAX_PAGE, keyset_window, paging
from resolvers.services.listing import account_people, listing_key
from resolvers.services.lookup import account_id
from resolvers.types.contact import ContactConnection
from resolvers.types.node import After, Before, Node


@strawberry.type(
    name="Account",
    description="A company, grouping contacts by external account id or by normalized "
    "company name across providers. Its id is opaque and stable (minted by the identity "
    "store: it carries no company name).",
)
class AccountNode(Node):
    name: str | None = strawberry.field(
        description="The company's name, as its contacts' `company` shows it; null when "
        "none has one."
    )
    external_id: str | None = strawberry.field(
        description="The customer's own account id (Akita internal_account_id), when known."
    )
    key: strawberry.Private[AccountKey]
    # The people already found when the account itself was looked up.
    people: strawberry.Private[list[Person] | None] = None

    @classmethod
    async def for_person(cls, info: Info, person: Person) -> AccountNode | None:
        key = person.account_key
        if key is None:
            return None
        return cls(
            id=strawberry.ID(await account_id(info, key)),
            name=person.pick("company"),
            external_id=person.pick("account_external_id"),
            key=key,
        )

    @classmethod
    async def for_key(cls, info: Info, key: AccountKey, people: list[Person]) -> AccountNode:
        return cls(
            id=strawberry.ID(await account_id(info, key)),
            name=next(filter(None, (p.pick("company") for p in people)), None),
            external_id=key.value if key.kind is AccountKind.EXTERNAL_ID else None,
            key=key,
            people=people,
        )

    @strawberry.field(
        description="The account's contacts, in the listing order of `contacts`. Found by "
        "company name in every provider that can look it up (Adaptix, Lunar Send) or list it "
        "(Trustmary)."
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
    ) -> ContactConnection:
        asked = paging(first, after, last, before, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        people = self.people
        if people is None:
            people = await account_people(info.context, info, self.key, self.name)
        people = sorted(people, key=listing_key)
        window = keyset_window(people, listing_key, asked)
        return ContactConnection.of(window, asked, len(people))
