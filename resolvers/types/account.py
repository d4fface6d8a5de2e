"""`Account`: the company a contact belongs to, across providers."""

from __future__ import annotations

import strawberry

from resolvers.contact import MAX_PAGE, ContactConnection
from resolvers.context import Info
from resolvers.cursors import decode_offset, offset_window, page_size
from resolvers.federation import Person, account_key, encode_id
from resolvers.listing import ContactsFilter, lookup_people
from resolvers.node import Node


@strawberry.type(
    description="A company, grouping contacts by external account id or by normalized "
    "company name across providers."
)
class Account(Node):
    name: str | None
    external_id: str | None = strawberry.field(
        description="The customer's own account id (Akita internal_account_id), when known."
    )
    key: strawberry.Private[str]
    # The people already found when the account itself was looked up.
    people: strawberry.Private[list[Person] | None] = None

    @classmethod
    def for_person(cls, person: Person) -> Account | None:
        key = person.account_key
        if key is None:
            return None
        return cls(
            id=strawberry.ID(encode_id("Account", key)),
            name=person.pick("company"),
            external_id=person.pick("account_external_id"),
            key=key,
        )

    @classmethod
    def for_key(cls, key: str, people: list[Person]) -> Account:
        return cls(
            id=strawberry.ID(encode_id("Account", key)),
            name=next(filter(None, (p.pick("company") for p in people)), None),
            external_id=key.removeprefix("ext:") if key.startswith("ext:") else None,
            key=key,
            people=people,
        )

    @strawberry.field(
        description="The account's contacts. Found by company name in every provider that "
        "can look it up (Adaptix, Lunar Send) or list it (Trustmary)."
    )
    async def contacts(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> ContactConnection:
        first = page_size(first, default=20, maximum=MAX_PAGE)
        offset = decode_offset(after)
        people = self.people
        if people is None:
            people = await account_people(info, self.key, self.name)
        return ContactConnection.of(offset_window(people, offset=offset, first=first), after)


async def account_people(info: Info, key: str, name: str | None) -> list[Person]:
    if key.startswith("company:"):
        company = name or key.removeprefix("company:")
        people = await lookup_people(info.context, info, ContactsFilter(company=company))
        return [p for p in people if account_key(None, p.pick("company")) == key or _any(p, key)]
    # No readable provider stores external account ids: only written ones have them.
    return []


def _any(person: Person, key: str) -> bool:
    return any(account_key(r.account_external_id, r.company) == key for r in person.sources)
