"""Fair turns at one provider: its concurrency slots and paced starts, shared by operation.

A first-come first-served queue lets one operation starve the others: forty
lookups queued at Lunar Send's 2 requests a second make the next operation's
single lookup wait twenty seconds behind them. Here callers waiting for the
same provider are grouped by operation (the `OperationBudget` object of the
operation they run in), and each turn goes to the next group round-robin,
first come first served within a group. A group that starts waiting gets its
turn after at most one new call of each group already waiting (and the retries
of calls already under way), however long their queues.

Calls made outside any operation all share one group (key None): the CLI, a
bulk job or a test keep first-come first-served order among themselves, and
count as one party against the operations, rather than each call as a party of
its own (a thousand unscoped calls would otherwise take a thousand shares).

A call's first turn (`take`) is a concurrency slot and a paced start together,
so no call sits on a slot while it waits for the pacer. It keeps the slot until
it is done (`release`), backoff included, so a retry is not sent to the back of
the queue (a bulk job's thousands) and its retry budget starts when it holds
the slot. A retry needs only a paced start (`start`); retries go before new
calls, since each continues a turn already granted fairly and holds a slot
that others wait for. Starts are spaced by the rate limit plus a margin
(`MARGIN`): a request delayed on its way can otherwise land in the same
provider window as the next.

Every wait can end at a deadline (a `time.monotonic()` value): it then raises
`TimeoutError` and nothing is held. This module knows nothing of providers or
of the error tree; `HTTPConnector` turns that into `OperationTimeout`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable

from connectors.settings import RateLimit

# A group of waiters: an operation's budget (compared by identity), or None.
Group = Hashable


class FairQueue:
    """Waiting futures in groups: `pop` serves the groups round-robin, each one FIFO."""

    def __init__(self) -> None:
        # Insertion order is the round: the group served goes to the back.
        self._groups: dict[Group, deque[asyncio.Future[None]]] = {}

    def __bool__(self) -> bool:
        return bool(self._groups)

    def push(self, group: Group, waiter: asyncio.Future[None]) -> None:
        queue = self._groups.get(group)
        if queue is None:
            self._groups[group] = queue = deque()
        queue.append(waiter)

    def discard(self, group: Group, waiter: asyncio.Future[None]) -> None:
        """Take out a waiter that stopped waiting (its deadline passed, or it was cancelled)."""
        queue = self._groups.get(group)
        if queue is None:
            return
        try:
            queue.remove(waiter)
        except ValueError:
            return
        if not queue:
            del self._groups[group]

    def pop(self) -> asyncio.Future[None] | None:
        """The next waiter still waiting, taken out of the queue; None when there is none."""
        while self._groups:
            group = next(iter(self._groups))
            queue = self._groups.pop(group)
            waiter = queue.popleft()
            if queue:
                self._groups[group] = queue
            if not waiter.done():
                return waiter
        return None


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def _until(waiter: asyncio.Future[None], deadline: float | None) -> None:
    """Wait for `waiter`; TimeoutError once `deadline` passes (the waiter then holds it:
    a timer fails the waiter, cheaper than a timeout scope around the wait)."""
    if deadline is None:
        await waiter
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    timer = asyncio.get_running_loop().call_later(left, _expire, waiter)
    try:
        await waiter
    finally:
        timer.cancel()


class Turns:
    """One connector's turns at its provider.

    Args:
        concurrency: most calls holding a slot at once.
        rate_limit: how far apart tries start; None for no pacing.
    """

    MARGIN = 1.05

    def __init__(self, *, concurrency: int, rate_limit: RateLimit | None) -> None:
        self._free = concurrency
        self._interval = rate_limit.interval * self.MARGIN if rate_limit else 0.0
        self._next_start = 0.0
        self._new = FairQueue()  # calls waiting for a slot and a start
        self._retries = FairQueue()  # calls holding a slot, waiting for a start
        self._timer: asyncio.TimerHandle | None = None

    async def take(self, group: Group, *, deadline: float | None = None) -> None:
        """Wait for a slot and a start, in `group`'s fair turn; `release` the slot after.

        Raises:
            TimeoutError: `deadline` passed first; no slot is held.
        """
        if (
            self._free > 0
            and not self._new
            and not self._retries
            and time.monotonic() >= self._next_start
        ):
            self._free -= 1
            self._started()
            return
        await self._wait(self._new, group, deadline, holds_slot=True)

    async def start(self, group: Group, *, deadline: float | None = None) -> None:
        """Wait for a start for a call that holds a slot (a retry); at once when unpaced.

        Raises:
            TimeoutError: `deadline` passed first.
        """
        if not self._interval:
            return
        if not self._retries and time.monotonic() >= self._next_start:
            self._started()
            return
        await self._wait(self._retries, group, deadline, holds_slot=False)

    def release(self) -> None:
        """Give back a slot `take` gave: the next call in the round may have it."""
        self._free += 1
        self._dispatch()

    async def _wait(
        self, queue: FairQueue, group: Group, deadline: float | None, *, holds_slot: bool
    ) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.push(group, waiter)
        self._dispatch()
        try:
            await _until(waiter, deadline)
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Granted just as the wait ended: the slot goes to the next caller
                # (the start goes unused, so the limit still holds).
                if holds_slot:
                    self.release()
            else:
                waiter.cancel()
                queue.discard(group, waiter)
                if not self._new and not self._retries and self._timer is not None:
                    # Nobody waits: a timer left behind (its loop may be closing) must not
                    # stop the next loop's callers from arming their own.
                    self._timer.cancel()
                    self._timer = None
            raise

    def _started(self) -> None:
        if self._interval:
            self._next_start = time.monotonic() + self._interval

    def _dispatch(self) -> None:
        """Grant every turn that can be granted now; wake up again for the next start."""
        while self._retries or (self._new and self._free > 0):
            wait = self._next_start - time.monotonic()
            if wait > 0:
                if self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(wait, self._wake)
                return
            waiter = self._retries.pop()
            if waiter is None:
                if self._free <= 0:
                    return
                waiter = self._new.pop()
                if waiter is None:
                    return
                self._free -= 1
            waiter.set_result(None)
            self._started()

    def _wake(self) -> None:
        self._timer = None
        self._dispatch()
