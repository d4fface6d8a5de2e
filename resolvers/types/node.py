"""The `Node` interface and the page info shared by every connection."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from resolvers.runtime.cursors import Paging, Window

# The cursor arguments every connection takes (Relay): what `first` and `last` count
# differs per connection, so each names them itself.
After = Annotated[
    str | None,
    strawberry.argument(description="The cursor to go on after (a page's `endCursor`)."),
]
Before = Annotated[
    str | None,
    strawberry.argument(description="The cursor to stop before (a page's `startCursor`)."),
]


@strawberry.interface(description="An object with a stable, opaque global id that `node` resolves.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="The object's global id: `node(id:)` takes it, and for a contact "
        "`contact(id:)` and the mutations. Opaque: pass it on, do not read it."
    )


@strawberry.type(
    description="Where a page starts and ends, and whether items precede or follow it (Relay)."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow this page (after `endCursor`)."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page (before `startCursor`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The first item's cursor: pass it as `before` (with `last`) for the "
        "page before; on an empty page, the cursor the page was asked with."
    )
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor: pass it as `after` (with `first`) for the "
        "next page; on an empty page, the cursor the page was asked with."
    )

    @classmethod
    def of(cls, window: Window[Any], paging: Paging) -> PageInfo:
        asked = paging.asked_with
        return cls(
            has_next_page=window.has_next,
            has_previous_page=window.has_previous,
            start_cursor=window.cursors[0] if window.cursors else asked,
            end_cursor=window.cursors[-1] if window.cursors else asked,
        )
