"""Counting provider calls per operation, for logs and call-count tests.

A caller opens a scope with `counting()`; every HTTP call a connector makes
inside it (also from tasks it starts) is added to that scope's counter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gateway.domain.records import Provider

_calls: ContextVar[Counter[Provider] | None] = ContextVar("provider_calls", default=None)


def count_call(provider: Provider) -> None:
    counter = _calls.get()
    if counter is not None:
        counter[provider] += 1


@contextmanager
def counting() -> Iterator[Counter[Provider]]:
    counter: Counter[Provider] = Counter()
    token = _calls.set(counter)
    try:
        yield counter
    finally:
        _calls.reset(token)
