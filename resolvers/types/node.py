"""The `Node` interface and the page info shared by every connection."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.runtime.cursors import Window


@strawberry.interface(description="An object with a stable, opaque global id that `node` resolves.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, window: Window[Any], after: str | None) -> PageInfo:
        return cls(has_next_page=window.has_next, end_cursor=window.end_cursor(after))
