"""Opaque cursors, and the pages they bound: what a client hands back to get the next page."""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from resolvers.runtime.errors import BadUserInput

T = TypeVar("T")


def encode_cursor(state: dict[str, Any]) -> str:
    # One per edge of every page: orjson is ~4x faster than json.dumps here.
    raw = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# The largest pages a connection gives: contacts, and a contact's activity.
MAX_PAGE = 1000
MAX_ACTIVITY_PAGE = 100
# Page sizes when `first` is left out.
DEFAULT_PAGE = 20
DEFAULT_ACTIVITY_PAGE = 10

# The furthest an offset cursor can point (a contact's activity, a lookup's matches).
MAX_OFFSET = 100_000

# Cursors this gateway gives out are a few dozen characters; anything much longer
# is not one of them and is refused before it is decoded.
MAX_CURSOR = 512


def decode_cursor(cursor: str, *, field: str = "after") -> dict[str, Any]:
    if len(cursor) > MAX_CURSOR:
        raise BadUserInput("not a cursor this gateway gave out", field=field)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput("not a cursor this gateway gave out", field=field) from exc
    if not isinstance(state, dict):
        raise BadUserInput("not a cursor this gateway gave out", field=field)
    return state


def encode_offset(offset: int) -> str:
    return encode_cursor({"o": offset})


def decode_offset(cursor: str | None, *, field: str = "after") -> int:
    if cursor is None:
        return 0
    offset = decode_cursor(cursor, field=field).get("o")
    # No list this gateway pages through by offset is longer than MAX_OFFSET.
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise BadUserInput("not a cursor this gateway gave out", field=field)
    return offset


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    """`first` as asked (`default` when null), refused unless between 1 and `maximum`."""
    size = default if first is None else first
    if not 0 < size <= maximum:
        raise BadUserInput(f"first must be between 1 and {maximum}", field="first")
    return size


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """One page: its items, the cursor that resumes right after each, whether more follow."""

    items: list[T]
    cursors: list[str]
    has_next: bool

    def end_cursor(self, after: str | None) -> str | None:
        """The last item's cursor; on an empty page, the cursor asked with."""
        return self.cursors[-1] if self.cursors else after


def offset_window(items: Sequence[T], *, offset: int, first: int) -> Window[T]:
    """The `first` items from `offset` of a list held whole, with offset cursors."""
    page = list(items[offset : offset + first])
    cursors = [encode_offset(offset + i) for i in range(1, len(page) + 1)]
    return Window(page, cursors, len(items) > offset + first)


def decode_key(cursor: str | None, *, field: str = "after") -> str | None:
    """The sort key a keyset cursor resumes after (None: from the start)."""
    if cursor is None:
        return None
    state = decode_cursor(cursor, field=field)
    key = state.get("k")
    if set(state) != {"k"} or not isinstance(key, str) or len(key) > 400:
        raise BadUserInput("not a cursor this gateway gave out", field=field)
    return key


def keyset_window(
    items: Sequence[T], sort_key: Callable[[T], str], *, after: str | None, first: int
) -> Window[T]:
    """The `first` items whose sort key comes after `after`, of items sorted by it: a page
    goes on after the last item seen, whatever was added or removed before it since."""
    start = 0 if after is None else bisect.bisect_right([sort_key(i) for i in items], after)
    page = list(items[start : start + first])
    cursors = [encode_cursor({"k": sort_key(item)}) for item in page]
    return Window(page, cursors, len(items) > start + first)
