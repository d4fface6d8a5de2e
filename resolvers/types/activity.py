"""`Activity`: Adaptix events and notes, and notes other providers keep on a record."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain.records import ActivityRecord
from resolvers.runtime.cursors import Paging, Window
from resolvers.types.ids import encode_id
from resolvers.types.node import PageInfo
from resolvers.types.scalars import JSON, ActivityKindEnum, ProviderEnum


@strawberry.type(name="Activity", description="One event or note in a contact's history.")
class ActivityNode:
    id: strawberry.ID
    provider: ProviderEnum  # type: ignore[valid-type]
    kind: ActivityKindEnum = strawberry.field(description="An event or a note.")
    type: str = strawberry.field(description="The provider's event type, e.g. page.hit.")
    label: str | None
    timestamp: datetime
    details: JSON

    @classmethod
    def from_record(cls, item: ActivityRecord) -> ActivityNode:
        key = f"{item.provider.value}:{item.contact_remote_id}:{item.kind}:{item.id}"
        return cls(
            id=strawberry.ID(encode_id("Activity", key)),
            provider=item.provider,
            kind=ActivityKindEnum(item.kind.value),
            type=item.type,
            label=item.label,
            timestamp=item.timestamp,
            details=JSON(dict(item.details)),
        )


@strawberry.type(description="One activity item of a page, with its cursor.")
class ActivityEdge:
    cursor: str = strawberry.field(description="Where this item is: for `after` or `before`.")
    node: ActivityNode = strawberry.field(description="The item.")


@strawberry.type(description="A page of activity, newest first.")
class ActivityConnection:
    edges: list[ActivityEdge] = strawberry.field(description="The page's items, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where the page starts and ends.")

    @strawberry.field(description="The page's items, without cursors.")
    def nodes(self) -> list[ActivityNode]:
        return [edge.node for edge in self.edges]

    @classmethod
    def of(cls, window: Window[ActivityRecord], paging: Paging) -> ActivityConnection:
        return cls(
            edges=[
                ActivityEdge(cursor=cursor, node=ActivityNode.from_record(item))
                for cursor, item in zip(window.cursors, window.items, strict=True)
            ],
            page_info=PageInfo.of(window, paging),
        )
