"""What one operation may spend on providers: how many calls, and until when.

One GraphQL query can fan out to hundreds of provider calls (a page of contacts
with their activity, forty lookups on a provider that reads one key a call),
and each call spends a quota the customer pays for and time the client waits.
A caller opens a scope with `operation()`; every HTTP exchange a connector
makes inside it (retries included, also from tasks started inside it, which
inherit the scope as they inherit any `ContextVar`) is charged to the scope's
`OperationBudget` just before it is sent:

- over `max_calls`, the exchange is not sent: `CallBudgetExceeded`;
- past `deadline`, it is not sent either, and a wait for a turn (pacing, a
  concurrency slot) or for an answer ends at the deadline: `OperationTimeout`;
- once the scope has closed (the operation answered, or was cancelled because
  its client hung up), nothing more is sent on its behalf: work it started in
  other tasks (a dataloader's batch) stops at its next call, `OperationTimeout`.

Reads raise those errors; writes answer FAILED with their message, as for any
other `ConnectorError`. The budget object is also the operation's identity
when a provider's turns are shared out fairly (`connectors.pacing`).

Without a scope nothing is limited or counted: a connector used alone (the
CLI, most tests) behaves as if this module did not exist.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from connectors.errors import CallBudgetExceeded, OperationTimeout
from gateway.domain.records import Provider

_current: ContextVar[OperationBudget | None] = ContextVar("operation_budget", default=None)


@dataclass(eq=False)
class OperationBudget:
    """The provider calls one operation has made, and what it may still make.

    Compared by identity: two operations with the same numbers are still two
    operations (two groups when turns are shared out).

    Args:
        max_calls: most HTTP exchanges, over all providers and retries; None for no limit.
        deadline: a `time.monotonic()` value after which no exchange starts or
            goes on; None for no deadline.
    """

    max_calls: int | None = None
    deadline: float | None = None
    calls: Counter[Provider] = field(default_factory=Counter)
    closed: bool = False

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once it passed); None without one."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check(self, provider: Provider) -> None:
        """Raise if a call to `provider` could not be sent now; count nothing.

        Raises:
            OperationTimeout: the deadline has passed.
            CallBudgetExceeded: `max_calls` calls have been made.
        """
        if self.closed:
            raise OperationTimeout(
                "the operation ended before this provider call was sent", provider=provider
            )
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise OperationTimeout(
                "the operation ran out of time before this provider call was sent",
                provider=provider,
            )
        if self.max_calls is not None and sum(self.calls.values()) >= self.max_calls:
            raise CallBudgetExceeded(
                f"the operation may make at most {self.max_calls} provider calls",
                provider=provider,
            )

    def charge(self, provider: Provider) -> None:
        """Count one call to `provider`, which the caller is about to send.

        Raises:
            OperationTimeout: the deadline has passed; nothing is counted.
            CallBudgetExceeded: no call is left; nothing is counted.
        """
        self.check(provider)
        self.calls[provider] += 1


@contextmanager
def operation(
    *, max_calls: int | None = None, deadline: float | None = None
) -> Iterator[OperationBudget]:
    """A scope whose provider calls are counted and limited.

    A scope opened inside another replaces it until it closes.

    Args:
        max_calls: most provider calls (every try counts); None for no limit.
        deadline: a `time.monotonic()` value; None for no deadline.

    Returns:
        The scope's budget; `calls` counts the calls made, by provider.
    """
    if max_calls is not None and max_calls < 0:
        raise ValueError(f"max_calls must not be negative, not {max_calls}")
    budget = OperationBudget(max_calls=max_calls, deadline=deadline)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        budget.closed = True
        _current.reset(token)


def current() -> OperationBudget | None:
    """The budget of the operation this code runs in, or None outside any."""
    return _current.get()
