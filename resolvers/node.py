"""The `Node` interface and the page info shared by every connection."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a stable, opaque global id that `node` resolves.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
