"""`Contact`: one person across providers, and its connection types."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

import strawberry
from aiodataloader import DataLoader
from strawberry.types import get_object_definition

from connectors.errors import ConnectorError
from gateway.domain import provenance
from gateway.domain.federation import PRECEDENCE_FIELDS, Person
from gateway.domain.keys import PersonKey
from gateway.domain.records import (
    ActivityRecord,
    CompanyLink,
    ContactRecord,
    OwnerRef,
    PostalAddress,
    Provider,
    TagRef,
    WrittenSource,
)
from resolvers.runtime.context import Info
from resolvers.runtime.cursors import (
    DEFAULT_ACTIVITY_PAGE,
    MAX_ACTIVITY_PAGE,
    MAX_OFFSET,
    Paging,
    Window,
    decode_offset,
    offset_window,
    paging,
)
from resolvers.types.activity import KINDS, SINCE, UNTIL, ActivityConnection, activity_filter
from resolvers.types.ids import contact_id
from resolvers.types.marketing import ContactCompanyNode, DoNotContactNode, UtmTagNode
from resolvers.types.node import After, Before, Node, PageInfo
from resolvers.types.provenance import FieldConflictNode, FieldSourceNode
from resolvers.types.scalars import (
    JSON,
    ActivityKindEnum,
    ContactStatusEnum,
    ContactTypeEnum,
    ProviderEnum,
    TagKind,
)
from resolvers.types.tag import TagNode

if TYPE_CHECKING:
    from resolvers.types.account import AccountNode

T = TypeVar("T")

_PROVIDER_ORDER = {p: i for i, p in enumerate(ProviderEnum)}
# The kinds of tag a contact's records carry, free to show.
_RECORD_KINDS = (TagKind.TAG, TagKind.LIST)


@strawberry.type(
    description="One provider's record of a contact: as the provider gave it, or, for "
    "Akita and Interakt (which cannot be read), as the gateway last wrote it."
)
class Source:
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider that holds the record."
    )
    remote_id: strawberry.ID = strawberry.field(
        description="The provider's id of the record (Interakt, which has none: the email)."
    )
    raw: JSON = strawberry.field(
        description="The record as the provider answered it; for a provider that cannot be "
        "read, what the gateway wrote."
    )
    created_at: datetime | None = strawberry.field(
        description="When the provider created the record, as it says (Adaptix `dateAdded`, "
        "Trustmary and Lunar Send `created_at`); null for a record the gateway only wrote."
    )
    updated_at: datetime | None = strawberry.field(
        description="When the record last changed, as the provider says (Adaptix "
        "`dateModified`, Trustmary `updated_at`); null when it does not say (Lunar Send) or "
        "the gateway only wrote the record."
    )
    fetched_at: datetime | None = strawberry.field(
        default=None,
        description="When the gateway read this record from the provider: older than the "
        "query when it came from the record cache; null for a record that cannot be read.",
    )
    last_written_at: datetime | None = strawberry.field(
        default=None, description="When the gateway last wrote this record, if it did."
    )

    @classmethod
    def from_record(cls, record: ContactRecord, written: WrittenSource | None) -> Source:
        return cls(
            provider=record.provider,
            remote_id=strawberry.ID(record.remote_id),
            raw=JSON(dict(record.raw)),
            created_at=record.created_at,
            updated_at=record.updated_at,
            fetched_at=record.fetched_at,
            last_written_at=written.written_at if written is not None else None,
        )

    @classmethod
    def from_written(cls, written: WrittenSource) -> Source:
        return cls(
            provider=written.provider,
            remote_id=strawberry.ID(written.remote_id),
            raw=JSON(dict(written.written)),
            created_at=None,
            updated_at=None,
            last_written_at=written.written_at,
        )


@strawberry.type(description="A postal address, as one provider keeps it.")
class Address:
    line1: str | None = strawberry.field(description="First line (Adaptix `address1`).")
    line2: str | None = strawberry.field(description="Second line (Adaptix `address2`).")
    city: str | None = strawberry.field(description="City (Adaptix `city`).")
    state: str | None = strawberry.field(description="State or region (Adaptix `state`).")
    postal_code: str | None = strawberry.field(
        description="Postal or ZIP code (Adaptix `zipcode`)."
    )
    country: str | None = strawberry.field(description="Country, as the provider names it.")

    @classmethod
    def from_address(cls, address: PostalAddress) -> Address:
        return cls(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            state=address.state,
            postal_code=address.postal_code,
            country=address.country,
        )


@strawberry.type(description="The provider user a contact is assigned to (Adaptix `owner`).")
class Owner:
    id: strawberry.ID = strawberry.field(description="The provider's id of the user.")
    name: str | None = strawberry.field(
        description="First and last name, else the username, as the provider gives them."
    )
    email: str | None = strawberry.field(
        description="The user's email; null from Adaptix, whose owner object and "
        "`list/owners` carry none."
    )

    @classmethod
    def from_ref(cls, owner: OwnerRef) -> Owner:
        return cls(id=strawberry.ID(owner.id), name=owner.name, email=owner.email)


def _name(person: Person) -> str | None:
    first, last = person.pick("first_name"), person.pick("last_name")
    return person.pick("name") or (" ".join(p for p in (first, last) if p) or None)


def _picked(name: str, wrap: Callable[[Any], Any] | None = None) -> Callable[[Person], Any]:
    def shown(person: Person) -> Any:
        value = person.pick(name)
        return value if wrap is None or value is None else wrap(value)

    return shown


def _providers(person: Person) -> list[Provider]:
    return sorted(
        {r.provider for r in person.sources} | {w.provider for w in person.written},
        key=_PROVIDER_ORDER.__getitem__,
    )


# How each plain field of a contact is shown, from its person (`ContactNode.from_person`).
_SHOWN_FROM: dict[str, Callable[[Person], Any]] = {
    "id": lambda person: strawberry.ID(
        contact_id(PersonKey.person(person.id) if person.id else person.key)
    ),
    "email": _picked("email"),
    "emails": lambda person: person.emails,
    "first_name": _picked("first_name"),
    "last_name": _picked("last_name"),
    "name": _name,
    "phones": lambda person: list(person.pick("phones") or []),
    "urls": lambda person: list(person.pick("urls") or []),
    "company": _picked("company"),
    "job_title": _picked("job_title"),
    "title": _picked("title"),
    "address": _picked("address", lambda a: Address.from_address(a)),
    "website": _picked("website"),
    "owner": _picked("owner", lambda o: Owner.from_ref(o)),
    "external_id": _picked("external_id"),
    "type": _picked("type", lambda t: ContactTypeEnum(t.value)),
    "status": _picked("status", lambda s: ContactStatusEnum(s.value)),
    "points": _picked("points"),
    "last_active_at": _picked("last_active_at"),
    "custom_fields": lambda person: JSON(person.custom_fields),
    "do_not_contact": lambda person: sorted({c for r in person.sources for c in r.do_not_contact}),
    "providers": _providers,
    "created_at": lambda person: person.created_at,
    "updated_at": lambda person: person.updated_at,
}


@strawberry.type(
    name="Contact",
    description=(
        "A person, federated: records from every provider that share a normalized email "
        "(or the customer's external id) are one contact. Each field takes the value of the "
        "first provider, in the configured precedence, that has one; `sources` shows every "
        "record."
    ),
)
class ContactNode(Node):
    email: str | None = strawberry.field(
        description="The email shown, from the first provider in the precedence that has "
        "one; as the provider keeps it (case included)."
    )
    emails: list[str] = strawberry.field(
        description="Every email of every record, the shown one first, each once (compared "
        "case-insensitively)."
    )
    first_name: str | None = strawberry.field(
        description="First name, by precedence (Trustmary, which keeps one `name`: the part "
        "before its first space)."
    )
    last_name: str | None = strawberry.field(
        description="Last name, by precedence (Trustmary: the part of its `name` after the "
        "first space)."
    )
    name: str | None = strawberry.field(
        description="The full name, by precedence (Trustmary `name`; Adaptix and Lunar Send: "
        "first and last name joined); null when no record has a name."
    )
    phones: list[str] = strawberry.field(
        description="Phone numbers as the provider keeps them (not normalized), all from the "
        "first provider in the precedence that has any (Adaptix `mobile`, then `phone`)."
    )
    urls: list[str] = strawberry.field(
        description="Web addresses, all from the first provider in the precedence that has "
        "any (Adaptix `website`)."
    )
    company: str | None = strawberry.field(
        description="The company's name, by precedence (Adaptix, Trustmary, Lunar Send `company`)."
    )
    job_title: str | None = strawberry.field(
        description="The job title, by precedence (Adaptix `position`, Lunar Send `job_title`)."
    )
    title: str | None = strawberry.field(
        description="A salutation such as Mr or Dr (Adaptix `title`); the job is `jobTitle`."
    )
    address: Address | None = strawberry.field(
        description="The postal address, taken whole (never pieced together) from the first "
        "provider in the precedence that has any part of one; null when none has."
    )
    website: str | None = strawberry.field(
        description="The contact's website (Adaptix `website`; `urls` lists it too)."
    )
    owner: Owner | None = strawberry.field(
        description="The user the contact is assigned to (Adaptix `owner`)."
    )
    external_id: str | None = strawberry.field(
        description="The customer's own user id (Akita internal_id, Trustmary eid)."
    )
    type: ContactTypeEnum | None = strawberry.field(
        description="What the contact is to your company (Trustmary `type`)."
    )
    status: ContactStatusEnum | None = strawberry.field(
        description="Where the contact stands with its provider (Trustmary `status`)."
    )
    points: int | None = strawberry.field(
        description="The contact's points at Adaptix (`points`); `addPoints` changes them. "
        "Null when no provider keeps points for the contact."
    )
    last_active_at: datetime | None = strawberry.field(
        description="When the provider last recorded the contact as active (Adaptix `lastActive`)."
    )
    custom_fields: JSON = strawberry.field(
        description="Custom fields by name, from every provider that can be read (Adaptix: "
        "every field outside its core group, social profiles included); a name several "
        "providers have takes the value of the first in the precedence for "
        "`custom_fields`. What was written to Akita and Interakt, which cannot be read, "
        "is in their `sources.raw`."
    )
    do_not_contact: list[str] = strawberry.field(
        description="Channels on which the contact must not be contacted (Adaptix). "
        "`doNotContactEntries` has each entry with its reason, date and comments."
    )
    providers: list[ProviderEnum] = strawberry.field(  # type: ignore[valid-type]
        description="The providers that hold a record of the contact (Akita and Interakt: "
        "where the gateway wrote one), in the order of the Provider enum."
    )
    created_at: datetime | None = strawberry.field(
        description="When the earliest provider record was created; null when no provider says."
    )
    updated_at: datetime | None = strawberry.field(
        description="When a provider record last changed (or, where a provider keeps no "
        "change time, was created): the latest of them; null when no provider says."
    )
    person: strawberry.Private[Person]
    # How the execution plan reads each plain field (`resolvers.runtime.execution`):
    # the value once worked out, or worked out now, without the attribute lookup that
    # fails first and lands in `__getattr__`.
    plain_readers: ClassVar[dict[str, Callable[[Any], Any]]]
    # Strawberry's `is_type_of` looks for a cast on every contact it completes; without
    # this the miss would reach `__getattr__` and raise.
    __as_strawberry_type__: ClassVar[Any] = None

    @classmethod
    def from_person(cls, person: Person) -> ContactNode:
        """The contact shown for `person`; each field is worked out (by precedence) when it
        is first read, so a query asking for a few fields pays for those alone."""
        node = cls.__new__(cls)
        node.person = person
        return node

    def __getattr__(self, name: str) -> Any:
        # Only called for an attribute not set yet: a field not read before, worked out
        # by the reader the execution plan calls directly.
        read = self.plain_readers.get(name)
        if read is None or "person" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return read(self)

    @strawberry.field(
        description="Every provider record this contact was federated from, and the records "
        "the gateway wrote where a provider cannot be read (Akita, Interakt)."
    )
    def sources(self) -> list[Source]:
        person = self.person
        if not person.written:  # the common case: nothing written through the gateway
            return [Source.from_record(r, None) for r in person.ordered_sources()]
        written = {(w.provider, w.remote_id): w for w in person.written}
        found = [
            Source.from_record(r, written.pop((r.provider, r.remote_id), None))
            for r in person.ordered_sources()
        ]
        readable = {r.provider for r in person.sources}
        found += [Source.from_written(w) for w in written.values() if w.provider not in readable]
        return found

    @strawberry.field(
        description="Which provider supplied each field shown, in the order of the fields "
        "on Contact: for each field with a value taken by precedence (`phones` and `urls` "
        "whole from one provider; `name`, when no record holds one, from the first name's "
        "record). Fields merged from every provider (`emails`, `doNotContact`, `tags`) are "
        "not listed. Only records read from providers count, never what the gateway wrote "
        "to Akita or Interakt."
    )
    def field_sources(self) -> list[FieldSourceNode]:
        return [FieldSourceNode.of(s) for s in provenance.field_sources(self.person, _SHOWN)]

    @strawberry.field(
        description="Fields whose providers hold different non-empty values, in the order "
        "of the fields on Contact. Values are compared normalized: emails, names, companies "
        "and other text case-insensitively with whitespace collapsed, phones by their "
        "digits, `phones` and `urls` as sets. Only records read from providers count, never "
        "what the gateway wrote to Akita or Interakt (it may since have changed there)."
    )
    def conflicts(self) -> list[FieldConflictNode]:
        return [FieldConflictNode.of(c) for c in provenance.conflicts(self.person, _SHOWN)]

    @strawberry.field(
        description="Tags, lists and segments from every provider, of the kinds asked for. "
        "TAG and LIST (the default) come with the contact's records: no extra provider call. "
        "SEGMENT costs one Adaptix call per contact (Adaptix has no batch read of "
        "segments; each contact is read once per request however often it is asked). "
        "Trustmary lists do not show: its contact records do not say which lists a "
        "contact is on."
    )
    async def tags(
        self,
        info: Info,
        kinds: Annotated[
            list[TagKind],
            strawberry.argument(
                description="Which kinds to show; add SEGMENT for segments (one call per contact)."
            ),
        ] = list(_RECORD_KINDS),  # noqa: B006 - never mutated; the schema shows it
    ) -> list[TagNode]:
        wanted = set(kinds)
        found = [
            TagNode.from_ref(provider, ref)
            for provider, ref in self.person.tags
            if TagKind(ref.kind) in wanted
        ]
        if TagKind.SEGMENT in wanted:
            loaders = info.context.loaders.segments
            segments: list[list[tuple[Provider, TagRef]]] = await _per_record(
                info, self.person, loaders
            )
            seen = {(t.provider, t.kind, t.name) for t in found}
            for provider, ref in (pair for each in segments for pair in each):
                node = TagNode.from_ref(provider, ref)
                if (node.provider, node.kind, node.name) not in seen:
                    seen.add((node.provider, node.kind, node.name))
                    found.append(node)
        return found

    @strawberry.field(
        description="The companies the contact is associated with (Adaptix), the primary "
        "(current) one first. Costs one Adaptix call per contact (Adaptix has no batch "
        "read of companies), only when asked; `company` is the primary company's name as "
        "the contact's own field holds it."
    )
    async def companies(self, info: Info) -> list[ContactCompanyNode]:
        found: list[list[tuple[Provider, CompanyLink]]] = await _per_record(
            info, self.person, info.context.loaders.companies
        )
        return [ContactCompanyNode.of(provider, c) for each in found for provider, c in each]

    @strawberry.field(
        description="The UTM tags (one per recorded visit) kept on the contact's records "
        "(Adaptix `utmtags`), oldest first; no extra provider call."
    )
    def utm_tags(self) -> list[UtmTagNode]:
        return [
            UtmTagNode.of(record.provider, tag)
            for record in self.person.ordered_sources()
            for tag in record.utm_tags
        ]

    @strawberry.field(
        description="Every do-not-contact entry on the contact's records (Adaptix "
        "`doNotContact`), with its reason, channel id, date and comments; no extra "
        "provider call. `doNotContact` lists the channels alone."
    )
    def do_not_contact_entries(self) -> list[DoNotContactNode]:
        return [
            DoNotContactNode.of(record.provider, entry)
            for record in self.person.ordered_sources()
            for entry in record.do_not_contact_entries
        ]

    @strawberry.field(
        description="The account (company) the contact belongs to: grouped by external "
        "account id, else by normalized company name."
    )
    async def account(
        self, info: Info
    ) -> Annotated[AccountNode, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import AccountNode

        return await AccountNode.for_person(info, self.person)

    @strawberry.field(
        description="Events and notes from every provider that keeps them, newest first. "
        "`last` without `before` reads the whole history (the oldest items). Filtered by "
        "`kinds`, `since` and `until`, the cursors are positions in the filtered list: "
        "keep the same filters while paging. Adaptix is asked only for the kinds wanted "
        "and filters its events by date itself; its notes and Lunar Send's `notes` field "
        "are filtered by the gateway."
    )
    async def activity(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many items from the start (10).")
        ] = None,
        after: After = None,
        last: Annotated[
            int | None, strawberry.argument(description="How many items from the end.")
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
        wanted = activity_filter(kinds, since, until)
        if asked.backward:
            need = decode_offset(before, field="before") if before else MAX_OFFSET
        else:
            need = decode_offset(after) + asked.size + 1
        items: list[ActivityRecord] = [
            a for r in self.person.sources for a in r.inline_activity if wanted.admits(a)
        ]
        loaders = info.context.loaders.activity

        async def load(record: ContactRecord) -> list[ActivityRecord]:
            try:
                return await loaders[record.provider].load((record.remote_id, need, wanted))
            except ConnectorError as exc:
                info.context.report(info, exc)
                return []

        readable = [r for r in self.person.sources if r.provider in loaders]
        if not wanted.empty:
            for found in await asyncio.gather(*(load(r) for r in readable)):
                items.extend(found)
        items.sort(key=lambda a: (a.timestamp, a.id), reverse=True)
        window = offset_window(items, asked)
        return ActivityConnection.of(window, asked, person=self.person)


async def _per_record(
    info: Info, person: Person, loaders: Mapping[Provider, DataLoader[str, list[T]]]
) -> list[list[tuple[Provider, T]]]:
    """What `loaders` answer for each of the person's records at a provider that has
    one, in the records' order; a provider that failed is reported and shows nothing."""

    async def load(record: ContactRecord) -> list[tuple[Provider, T]]:
        try:
            found = await loaders[record.provider].load(record.remote_id)
        except ConnectorError as exc:
            info.context.report(info, exc)
            return []
        return [(record.provider, item) for item in found]

    wanted = [r for r in person.ordered_sources() if r.provider in loaders]
    return list(await asyncio.gather(*(load(r) for r in wanted)))


# The fields a contact shows by precedence, in the schema's order.
_SHOWN = tuple(
    f.python_name
    for f in get_object_definition(ContactNode, strict=True).fields
    # customFields merges every provider's keys: no one provider is its source.
    if f.python_name in PRECEDENCE_FIELDS and f.python_name != "custom_fields"
)

_UNREAD: Any = object()


def _reader(name: str, shown: Callable[[Person], Any]) -> Callable[[Any], Any]:
    def read(node: ContactNode) -> Any:
        known = node.__dict__
        value = known.get(name, _UNREAD)
        if value is _UNREAD:
            value = known[name] = shown(known["person"])
        return value

    return read


ContactNode.plain_readers = {name: _reader(name, shown) for name, shown in _SHOWN_FROM.items()}


@strawberry.type(description="One contact of a page, with its cursor.")
class ContactEdge:
    cursor: str = strawberry.field(description="Where this contact is: for `after` or `before`.")
    node: ContactNode = strawberry.field(description="The contact.")


@strawberry.type(description="A page of contacts.")
class ContactConnection:
    edges: list[ContactEdge] = strawberry.field(description="The page's contacts, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where the page starts and ends.")
    # The listing's size when known, or how to ask a provider for it (only when asked).
    counter: strawberry.Private[int | Callable[[], Awaitable[int | None]] | None] = None
    covered_providers: list[ProviderEnum] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list,
        description="The providers this listing could find people in: a person held only "
        "at another provider is not in it (e.g. Lunar Send cannot search text, and Akita "
        "and Interakt cannot be read).",
    )

    @strawberry.field(description="The page's contacts, without cursors.")
    def nodes(self) -> list[ContactNode]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="How many contacts the whole listing holds (every page). Exact for a "
        "filtered listing (the gateway finds every match) and for a listing of Adaptix alone "
        "(Adaptix says how many it holds: one provider call); null where it cannot be known: "
        "Trustmary does not say how many contacts it holds."
    )
    async def total_count(self) -> int | None:
        if self.counter is None or isinstance(self.counter, int):
            return self.counter
        return await self.counter()

    @classmethod
    def of(
        cls,
        window: Window[Person],
        paging: Paging,
        counter: int | Callable[[], Awaitable[int | None]] | None = None,
        covered: list[Provider] | None = None,
    ) -> ContactConnection:
        return cls(
            edges=[
                ContactEdge(cursor=cursor, node=ContactNode.from_person(person))
                for cursor, person in zip(window.cursors, window.items, strict=True)
            ],
            page_info=PageInfo.of(window, paging),
            counter=counter,
            covered_providers=sorted(covered or [], key=_PROVIDER_ORDER.__getitem__),
        )
