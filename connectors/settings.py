"""Settings value objects for connectors: credentials, timeouts, limits, retries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Secret:
    """A credential that never prints: `repr`/`str` show a mask, not the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `requests` requests every `per_seconds` seconds."""

    requests: float
    per_seconds: float = 1.0

    @property
    def interval(self) -> float:
        return self.per_seconds / self.requests


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How reads are retried: exponential backoff with jitter inside a time budget.

    Args:
        attempts: total tries, the first included.
        backoff: the first pause in seconds; doubled on each further try.
        max_backoff: the longest single pause.
        budget: seconds from the first try after which no new try starts.
    """

    attempts: int = 3
    backoff: float = 0.05
    max_backoff: float = 2.0
    budget: float = 10.0


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """Everything one connector needs to reach its provider.

    Args:
        base_url: the provider's API root, e.g. `https://api.akitaapp.com/v1`.
        api_key: Akita, Interakt, Trustmary, Lunar Send.
        app_id: Interakt's App ID (not a secret).
        username: Adaptix user.
        password: Adaptix password.
        timeout: seconds for one HTTP call.
        concurrency: most calls in flight to this provider at once.
        rate_limit: a client-side limit so the gateway does not earn 429s.
        retry: how reads are retried.
        tag_ids: Akita's tag name to tag Api ID map.
        options: provider-specific extras.
    """

    base_url: str
    api_key: Secret | None = None
    app_id: str | None = None
    username: str | None = None
    password: Secret | None = None
    timeout: float = 10.0
    concurrency: int = 8
    rate_limit: RateLimit | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    tag_ids: Mapping[str, int] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
