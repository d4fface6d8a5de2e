"""`WritePolicy`: how long and how often a queued write is tried again, and how long
the journal keeps what it did (`[writes]` in the configuration)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class WritePolicy:
    """Args:
    retry_for: seconds from the first try during which a queued leg is tried again;
        after them it is FAILED with the provider's last message (default 24 h).
    first_retry: seconds before the first retry; each next one waits twice as long
        (with jitter), unless the provider said how long (Retry-After).
    max_retry_interval: the longest wait between two tries.
    retention: seconds finished operations (and idempotency keys) are kept.
    idempotency_ttl: seconds an idempotency key answers with the first answer.
    stop_grace: seconds a write still runs once the gateway is stopping; legs
        unfinished then are answered QUEUED and tried again after the restart.
    bulk_chunk: inputs a bulk job hands a provider at once (at least its batch size).
    lease: seconds a process holds the legs it works on without renewing them (it
        renews them every third of it while it lives); after a crash, others take
        the legs up once this has passed.
    poll_interval: seconds between two looks at the journal for due retries and new
        bulk jobs.
    """

    retry_for: float = 86_400.0
    first_retry: float = 2.0
    max_retry_interval: float = 900.0
    retention: float = 30 * 86_400.0
    idempotency_ttl: float = 86_400.0
    stop_grace: float = 8.0
    bulk_chunk: int = 20
    lease: float = 30.0
    poll_interval: float = 1.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
