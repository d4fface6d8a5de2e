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
# The most people an unfiltered listing is read whole for, to be sorted by a field.
MAX_SORTED_LISTING = 10_000

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


def page_size(first: int | None, *, default: int, maximum: int, field: str = "first") -> int:
    """`first` as asked (`default` when null), refused unless between 1 and `maximum`."""
    size = default if first is None else first
    if not 0 < size <= maximum:
        raise BadUserInput(f"{field} must be between 1 and {maximum}", field=field)
    return size


@dataclass(frozen=True, slots=True)
class Paging:
    """What a connection was asked for, Relay style: the first `size` items after
    `after`, or (`backward`, from `last`) the last `size` before `before`."""

    size: int
    after: str | None = None
    before: str | None = None
    backward: bool = False

    @property
    def asked_with(self) -> str | None:
        """The cursor a page was asked from: what an empty page's cursors stay at."""
        return self.before if self.backward else self.after


def paging(
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    default: int,
    maximum: int,
) -> Paging:
    """The page asked for, checked: `first` or `last` (not both), each 1 to `maximum`."""
    if first is not None and last is not None:
        raise BadUserInput("give first or last, not both", field="last")
    if last is not None:
        size = page_size(last, default=default, maximum=maximum, field="last")
        return Paging(size, after, before, backward=True)
    return Paging(page_size(first, default=default, maximum=maximum), after, before)


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """One page: its items, each item's cursor, and whether items follow or precede it."""

    items: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool = False


def _bounds(count: int, start: int, end: int, paging: Paging) -> tuple[int, int]:
    """The page's slice of `count` items, within the bounds `after` and `before` set."""
    end = max(start, min(end, count))
    if paging.backward:
        return max(start, end - paging.size), end
    return start, min(end, start + paging.size)


def offset_window(items: Sequence[T], paging: Paging, *, total: int | None = None) -> Window[T]:
    """A page of a list held whole (or its first `len(items)` of `total`), with offset
    cursors: an item's cursor is its position plus one."""
    count = len(items) if total is None else total
    start = decode_offset(paging.after)
    end = decode_offset(paging.before, field="before") - 1 if paging.before else count
    low, high = _bounds(count, start, end, paging)
    page = list(items[low:high])
    cursors = [encode_offset(low + i) for i in range(1, len(page) + 1)]
    return Window(page, cursors, has_next=high < len(items), has_previous=low > 0)


def decode_key(cursor: str | None, *, field: str = "after") -> str | None:
    """The sort key a keyset cursor stands for (None: no cursor)."""
    if cursor is None:
        return None
    state = decode_cursor(cursor, field=field)
    key = state.get("k")
    if set(state) != {"k"} or not isinstance(key, str) or len(key) > 400:
        raise BadUserInput("not a cursor this gateway gave out", field=field)
    return key


def keyset_window(
    items: Sequence[T],
    sort_key: Callable[[T], str],
    paging: Paging,
    *,
    descending: bool = False,
) -> Window[T]:
    """A page of `items` (sorted by `sort_key`, or by it reversed when `descending`),
    bounded by the keys the cursors stand for: it goes on after the last item seen,
    whatever was added or removed before it since."""
    keys = [sort_key(i) for i in items]
    after, before = decode_key(paging.after), decode_key(paging.before, field="before")
    if descending:
        start = 0 if after is None else _first(keys, lambda k: k < after)
        end = len(keys) if before is None else _first(keys, lambda k: k <= before)
    else:
        start = 0 if after is None else bisect.bisect_right(keys, after)
        end = len(keys) if before is None else bisect.bisect_left(keys, before)
    low, high = _bounds(len(keys), start, end, paging)
    cursors = [encode_cursor({"k": key}) for key in keys[low:high]]
    return Window(list(items[low:high]), cursors, has_next=high < len(keys), has_previous=low > 0)


def _first(keys: Sequence[str], past: Callable[[str], bool]) -> int:
    """The index of the first key for which `past` holds (False, then True, along `keys`)."""
    low, high = 0, len(keys)
    while low < high:
        middle = (low + high) // 2
        if past(keys[middle]):
            high = middle
        else:
            low = middle + 1
    return low
