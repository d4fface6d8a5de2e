"""Prometheus metrics, served at `/metrics` in the text format.

Every metric is named `contact_gateway_*`; the README lists them one by one.
Recording is a counter or histogram update, cheap enough for every provider call.

With several worker processes (`serve --workers N`), the CLI points
`PROMETHEUS_MULTIPROC_DIR` at a fresh directory before the workers start:
each worker then writes its values there (prometheus-client's multiprocess
mode) and `/metrics`, whichever worker answers, adds them all up.
"""

from __future__ import annotations

import os
import re
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

ENV_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
# A `_created` series per counter doubles what is scraped and tells nothing here.
disable_created_metrics()  # type: ignore[no-untyped-call]
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Seconds: an operation answers in milliseconds from a cache, in seconds from a
# rate-limited provider.
_OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

OPERATIONS = Counter(
    "contact_gateway_operations",
    "GraphQL operations answered, by operation name, type and outcome (ok: no error; "
    "refused: the client's mistake or a limit, nothing ran; failed: another error).",
    ["operation", "type", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "contact_gateway_operation_duration_seconds",
    "How long operations took, by type.",
    ["type"],
    buckets=_OPERATION_BUCKETS,
)
PROVIDER_CALLS = Counter(
    "contact_gateway_provider_calls",
    "HTTP exchanges with providers, by provider, method and outcome "
    "(ok, 4xx, 429, 5xx, timeout, error: no answer).",
    ["provider", "method", "outcome"],
)
PROVIDER_CALL_SECONDS = Histogram(
    "contact_gateway_provider_call_duration_seconds",
    "How long provider exchanges took, by provider.",
    ["provider"],
    buckets=_CALL_BUCKETS,
)
PROVIDER_RETRIES = Counter(
    "contact_gateway_provider_retries",
    "Provider exchanges sent again after a failure, by provider.",
    ["provider"],
)
PACING_WAIT_SECONDS = Counter(
    "contact_gateway_provider_pacing_wait_seconds",
    "Seconds calls waited for their turn at a provider (its rate limit, its concurrency), "
    "by provider.",
    ["provider"],
)
CACHE_LOOKUPS = Counter(
    "contact_gateway_cache_lookups",
    "Record cache lookups, by result (hit, miss).",
    ["result"],
)
WRITE_LEGS = Counter(
    "contact_gateway_write_legs",
    "Provider legs of writes settled (first tries and retries), by provider and status "
    "(created, updated, deleted, skipped, queued, failed).",
    ["provider", "status"],
)
QUEUED_LEGS = Gauge(
    "contact_gateway_queued_legs",
    "Write legs waiting in the journal to be tried again.",
    multiprocess_mode="max",
)
OLDEST_QUEUED_SECONDS = Gauge(
    "contact_gateway_oldest_queued_leg_age_seconds",
    "Age of the oldest write leg waiting to be tried again (0: none waits).",
    multiprocess_mode="max",
)
LIMIT_REJECTIONS = Counter(
    "contact_gateway_limit_rejections",
    "Requests refused by a limit, by limit (max_depth, max_provider_calls, max_body_bytes, "
    "timeout, ...).",
    ["limit"],
)

# Operation names come from clients: past this many, new names count as "other".
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[^A-Za-z0-9_]")
_names: set[str] = set()


# The labelled series of each (operation name, type, outcome), looked up once each.
_OPERATION_SERIES: dict[tuple[str | None, str, str], tuple[Any, Any]] = {}


def operation(name: str | None, kind: str, outcome: str, seconds: float) -> None:
    series = _OPERATION_SERIES.get((name, kind, outcome))
    if series is None:
        label = _NAME.sub("_", name or "")[:64] or "anonymous"
        if label not in _names:
            if len(_names) >= MAX_OPERATION_NAMES:
                label = "other"
            else:
                _names.add(label)
        series = (OPERATIONS.labels(label, kind, outcome), OPERATION_SECONDS.labels(kind))
        # Names come from clients: a flood of new ones is labelled "other" and not kept.
        if len(_OPERATION_SERIES) < 4 * MAX_OPERATION_NAMES:
            _OPERATION_SERIES[(name, kind, outcome)] = series
    series[0].inc()
    series[1].observe(seconds)


# The labelled series of every provider call, looked up once each: `labels()` checks
# and joins its values under a lock on every call, three times per merged lookup.
_CALL_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def provider_call(provider: str, method: str, status: int, seconds: float) -> None:
    """One exchange the provider answered with `status`."""
    series = _CALL_SERIES.get((provider, method, status))
    if series is None:
        series = (
            PROVIDER_CALLS.labels(provider, method, _outcome(status)),
            PROVIDER_CALL_SECONDS.labels(provider),
        )
        if len(_CALL_SERIES) < 1000:  # providers x methods x statuses: a few dozen
            _CALL_SERIES[(provider, method, status)] = series
    series[0].inc()
    series[1].observe(seconds)


def provider_failure(provider: str, method: str, *, timed_out: bool, seconds: float) -> None:
    """One exchange no answer came to: it timed out, or the connection failed."""
    PROVIDER_CALLS.labels(provider, method, "timeout" if timed_out else "error").inc()
    PROVIDER_CALL_SECONDS.labels(provider).observe(seconds)


def _outcome(status: int) -> str:
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status >= 400:
        return "4xx"
    return "ok"


def render() -> tuple[bytes, str]:
    """The metrics in the text format, every worker's added up in multiprocess mode."""
    if os.environ.get(ENV_MULTIPROC):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE
    return generate_latest(REGISTRY), CONTENT_TYPE
