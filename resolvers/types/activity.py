"""`Activity`: Adaptix events and notes, and notes other providers keep on a record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.activity import ActivityFilter
from gateway.domain.federation import Person
from gateway.domain.keys import PersonKey
from gateway.domain.records import ActivityKind, ActivityRecord
from resolvers.runtime.context import Info
from resolvers.runtime.cursors import Paging, Window
from resolvers.runtime.errors import BadUserInput
from resolvers.services.lookup import find_person
from resolvers.types.ids import encode_id
from resolvers.types.node import PageInfo
from resolvers.types.scalars import JSON, ActivityKindEnum, ProviderEnum

if TYPE_CHECKING:
    from resolvers.types.contact import ContactNode

# The descriptions of the filter arguments `Contact.activity` and `Query.activity` share.
KINDS = "Only items of these kinds (all kinds when left out; none for an empty list)."
SINCE = "Only items at or after this time (with a time zone offset)."
UNTIL = "Only items at or before this time (with a time zone offset)."


def _utc(moment: datetime | None, field: str) -> datetime | None:
    if moment is None:
        return None
    offset = moment.utcoffset()
    if offset is None:
        raise BadUserInput(
            f"{field} needs a time zone offset (e.g. 2026-01-31T09:00:00Z)", field=field
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # before the calendar's first moment in UTC, or past its last
        edge = datetime.min if offset.total_seconds() > 0 else datetime.max
        return edge.replace(tzinfo=UTC)


def activity_filter(
    kinds: list[ActivityKindEnum] | None, since: datetime | None, until: datetime | None
) -> ActivityFilter:
    """The filter the arguments ask for, checked.

    Raises:
        BadUserInput: a time without an offset, or `since` after `until`.
    """
    low, high = _utc(since, "since"), _utc(until, "until")
    if low is not None and high is not None and low > high:
        raise BadUserInput("since must not be after until", field="since")
    wanted = None if kinds is None else frozenset(ActivityKind[k.name] for k in kinds)
    return ActivityFilter(wanted, low, high)


@strawberry.type(name="Activity", description="One event or note in a contact's history.")
class ActivityNode:
    id: strawberry.ID = strawberry.field(
        description="An opaque id, the same every time the item is read; `node(id:)` does "
        "not resolve it."
    )
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider that keeps the item (Adaptix, or Lunar Send for its "
        "`notes` field)."
    )
    kind: ActivityKindEnum = strawberry.field(description="An event or a note.")
    type: str = strawberry.field(
        description="The provider's type of the item: an Adaptix event type "
        "(e.g. page.hit) or note type (e.g. general); `note` for Lunar Send's notes."
    )
    label: str | None = strawberry.field(
        description="A line to show: Adaptix's event label (else its event type), or a "
        "note's text; null for Lunar Send's notes (their text is in `details`)."
    )
    timestamp: datetime = strawberry.field(
        description="When it happened, or the note was written. Lunar Send keeps no date on "
        "its notes: its note shows when the contact was created."
    )
    details: JSON = strawberry.field(
        description="More about the item, as a JSON object: an Adaptix event's own details; "
        'for a note, `{"text": ...}`. Empty when the provider gives none.'
    )
    # The contact it belongs to: known (Contact.activity), or to be found by its record.
    person: strawberry.Private[Person | None] = None
    contact_key: strawberry.Private[PersonKey | None] = None

    @classmethod
    def from_record(cls, item: ActivityRecord, person: Person | None = None) -> ActivityNode:
        key = f"{item.provider.value}:{item.contact_remote_id}:{item.kind}:{item.id}"
        return cls(
            id=strawberry.ID(encode_id("Activity", key)),
            provider=item.provider,
            kind=ActivityKindEnum(item.kind.value),
            type=item.type,
            label=item.label,
            timestamp=item.timestamp,
            details=JSON(dict(item.details)),
            person=person,
            contact_key=(
                PersonKey.record(item.provider, item.contact_remote_id)
                if item.contact_remote_id
                else None
            ),
        )

    @strawberry.field(
        description="The contact the item belongs to. In `Query.activity`, found by the "
        "provider's contact id, for a whole page at once (one Adaptix call for every "
        "contact of the page, then the other providers by email as for `contact`); in "
        "`Contact.activity`, that contact, at no cost. Null when the provider no longer "
        "holds the contact."
    )
    async def contact(
        self, info: Info
    ) -> Annotated[ContactNode, strawberry.lazy("resolvers.types.contact")] | None:
        from resolvers.types.contact import ContactNode

        person = self.person
        if person is None and self.contact_key is not None:
            person = await find_person(info.context, info, self.contact_key)
        return ContactNode.from_person(person) if person is not None else None


@strawberry.type(description="One activity item of a page, with its cursor.")
class ActivityEdge:
    cursor: str = strawberry.field(description="Where this item is: for `after` or `before`.")
    node: ActivityNode = strawberry.field(description="The item.")


@strawberry.type(description="A page of activity, newest first.")
class ActivityConnection:
    edges: list[ActivityEdge] = strawberry.field(description="The page's items, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where the page starts and ends.")
    total_count: int | None = strawberry.field(
        default=None,
        description="How many items the whole list holds (every page), where a provider "
        "says: for `Query.activity`, Adaptix's count of the events matching the filters; "
        "null for a contact's activity (counting it would read the whole history).",
    )

    @strawberry.field(description="The page's items, without cursors.")
    def nodes(self) -> list[ActivityNode]:
        return [edge.node for edge in self.edges]

    @classmethod
    def of(
        cls,
        window: Window[ActivityRecord],
        paging: Paging,
        *,
        person: Person | None = None,
        total: int | None = None,
    ) -> ActivityConnection:
        return cls(
            edges=[
                ActivityEdge(cursor=cursor, node=ActivityNode.from_record(item, person))
                for cursor, item in zip(window.cursors, window.items, strict=True)
            ],
            page_info=PageInfo.of(window, paging),
            total_count=total,
        )
