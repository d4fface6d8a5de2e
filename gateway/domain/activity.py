"""What part of a history is wanted (`ActivityFilter`), and one page of a global feed.

A filter travels down to the connectors, which send the provider what it can
filter by itself (Adaptix: the date bounds of its events) and skip what it need
not read at all (no notes call when only events are wanted); `admits` is the
same test applied locally to whatever a provider cannot filter (notes by date,
notes a record carries inline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.domain.records import ActivityKind, ActivityRecord


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """Which activity items are wanted; hashable, so it can be part of a loader key.

    Attributes:
        kinds: the kinds wanted; None: every kind.
        since: only items at or after this time (timezone-aware); None: no bound.
        until: only items at or before this time (timezone-aware); None: no bound.
    """

    kinds: frozenset[ActivityKind] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def wants(self, kind: ActivityKind) -> bool:
        return self.kinds is None or kind in self.kinds

    @property
    def empty(self) -> bool:
        """Whether nothing can match: no kind wanted, or the bounds exclude each other."""
        crossed = self.since is not None and self.until is not None and self.since > self.until
        return crossed or self.kinds == frozenset()

    def admits(self, item: ActivityRecord) -> bool:
        return (
            self.wants(item.kind)
            and (self.since is None or item.timestamp >= self.since)
            and (self.until is None or item.timestamp <= self.until)
        )


EVERYTHING = ActivityFilter()


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A stretch of a provider's global activity feed, newest first.

    Attributes:
        items: the items from the offset asked for on.
        total: how many items the whole feed holds for the filter, as the provider says.
    """

    items: list[ActivityRecord]
    total: int
