"""The gateway's runtime state and the per-request context.

`Runtime` lives for the app's lifetime: the enabled connectors, grouped once by
the protocols they implement, and the field precedence. `Context` lives for
one GraphQL request: fresh dataloaders (so no answer is cached across
requests) and the provider failures to report.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from opentelemetry.trace import Tracer
from strawberry.types import Info as StrawberryInfo

from connectors.errors import ConnectorError
from connectors.protocol import (
    ActivityFeed,
    ActivitySource,
    CompanyReader,
    Connector,
    ContactCounter,
    Deleter,
    DoNotContactSetter,
    Editor,
    EmailReader,
    ExternalIdReader,
    FieldLister,
    HealthChecker,
    IdReader,
    Lister,
    PointsKeeper,
    Searcher,
    SegmentReader,
    Tagger,
    TagLister,
    UtmTagger,
    Writer,
)
from gateway.domain.federation import Precedence
from gateway.domain.phones import DEFAULT_REGION
from gateway.domain.records import Provider
from gateway.store.identities import Identities
from gateway.store.journal import Holds, Journal
from gateway.store.redis_cache import Cache
from resolvers.runtime.health import HealthMonitor
from resolvers.runtime.limits import Limits
from resolvers.runtime.loaders import Loaders
from resolvers.runtime.policy import WritePolicy

P = TypeVar("P")


def _having(connectors: Mapping[Provider, Connector], protocol: type[P]) -> dict[Provider, P]:
    return {p: c for p, c in connectors.items() if isinstance(c, protocol)}


class Runtime:
    """What the schema federates: the enabled connectors and whose value wins.

    Each `*s` attribute maps the providers whose connector implements one
    protocol of `connectors.protocol` to that connector, in provider order;
    resolvers pick from them instead of asking each connector what it can do.

    Args:
        connectors: the enabled providers' connectors; a provider not in it is disabled.
        precedence: which provider's value wins, per field.
        limits: what one operation may cost.
        introspection: whether introspection queries are answered.
        identities: the identity store (stable ids, links, decisions); None: none kept.
        cache: the record cache; None: every read asks the provider.
        journal: the write journal; None: writes are not written down or retried.
        writes: how queued writes are retried and how long the journal keeps them.
        health_interval: seconds between two background health checks.
        tracer: makes a span per operation, with traces on.
        phone_region: the region of a phone number written without a leading `+`.
    """

    def __init__(
        self,
        connectors: Mapping[Provider, Connector],
        precedence: Precedence | None = None,
        *,
        limits: Limits | None = None,
        introspection: bool = True,
        identities: Identities | None = None,
        cache: Cache | None = None,
        journal: Journal | None = None,
        writes: WritePolicy | None = None,
        health_interval: float = 15.0,
        tracer: Tracer | None = None,
        phone_region: str = DEFAULT_REGION,
    ) -> None:
        ordered = {p: connectors[p] for p in Provider if p in connectors}
        self.connectors: Mapping[Provider, Connector] = ordered
        self.precedence = precedence or Precedence()
        self.limits = limits or Limits()
        self.introspection = introspection
        self.identities = identities
        self.cache = cache
        self.journal = journal
        self.writes = writes or WritePolicy()
        # Set when the process is asked to stop (`stop`): writes in flight are then queued.
        self.stopping = asyncio.Event()
        self._cut: asyncio.Future[None] | None = None
        # The journal's legs this process works on (their leases are renewed).
        self.holds = Holds()
        # Set when a bulk job is started, so the runner takes it up at once.
        self.bulk_started = asyncio.Event()
        # Writes carried out to the end although their request was cancelled.
        self.in_flight: set[asyncio.Future[Any]] = set()
        self.id_readers = _having(ordered, IdReader)  # type: ignore[type-abstract]
        self.email_readers = _having(ordered, EmailReader)  # type: ignore[type-abstract]
        self.external_id_readers = _having(ordered, ExternalIdReader)  # type: ignore[type-abstract]
        self.searchers = _having(ordered, Searcher)  # type: ignore[type-abstract]
        self.listers = _having(ordered, Lister)  # type: ignore[type-abstract]
        self.counters = _having(ordered, ContactCounter)  # type: ignore[type-abstract]
        self.writers = _having(ordered, Writer)  # type: ignore[type-abstract]
        self.deleters = _having(ordered, Deleter)  # type: ignore[type-abstract]
        self.editors = _having(ordered, Editor)  # type: ignore[type-abstract]
        self.tag_listers = _having(ordered, TagLister)  # type: ignore[type-abstract]
        self.taggers = _having(ordered, Tagger)  # type: ignore[type-abstract]
        self.activity_sources = _having(ordered, ActivitySource)  # type: ignore[type-abstract]
        self.activity_feeds = _having(ordered, ActivityFeed)  # type: ignore[type-abstract]
        self.field_listers = _having(ordered, FieldLister)  # type: ignore[type-abstract]
        self.dnc_setters = _having(ordered, DoNotContactSetter)  # type: ignore[type-abstract]
        self.points_keepers = _having(ordered, PointsKeeper)  # type: ignore[type-abstract]
        self.health_checkers = _having(ordered, HealthChecker)  # type: ignore[type-abstract]
        self.segment_readers = _having(ordered, SegmentReader)  # type: ignore[type-abstract]
        self.company_readers = _having(ordered, CompanyReader)  # type: ignore[type-abstract]
        self.utm_taggers = _having(ordered, UtmTagger)  # type: ignore[type-abstract]
        # The providers that can make each change to a known contact, by mutation.
        self.changers: dict[str, Mapping[Provider, Any]] = {
            "deleteContact": self.deleters,
            "updateContact": self.editors,
            "tagContact": self.taggers,
            "untagContact": self.taggers,
            "setDoNotContact": self.dnc_setters,
            "addPoints": self.points_keepers,
            "addUtmTags": self.utm_taggers,
            "removeUtmTag": self.utm_taggers,
        }
        store = identities.store if identities is not None else None
        self.health = HealthMonitor(ordered, store, interval=health_interval)
        self.tracer = tracer
        self.phone_region = phone_region

    def stop(self) -> None:
        """Start stopping: writes in flight get their grace (`[writes] stop_grace`) and a
        second more to answer, then operations still running are cut (`cut_off`)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        asyncio.get_running_loop().call_later(self.writes.stop_grace + 1.0, self._cut_now)

    def cut_off(self) -> asyncio.Future[None]:
        """Done once operations still running must be cut (see `stop`): one future that
        every request waits on, not a task per request."""
        if self._cut is None:
            self._cut = asyncio.get_running_loop().create_future()
        return self._cut

    def _cut_now(self) -> None:
        cut = self.cut_off()
        if not cut.done():
            cut.set_result(None)

    def enabled(self, provider: Provider) -> bool:
        return provider in self.connectors


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a configured API key's or a token's name, and its scopes."""

    name: str
    scopes: frozenset[str]


class StoreFailure:
    """The store did not answer: the providers' answer stands, without stable ids."""

    code = "STORE_UNAVAILABLE"
    provider = None

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return self.message


Failure = ConnectorError | StoreFailure


@dataclass(frozen=True)
class ReportedFailure:
    path: tuple[str | int, ...]
    error: Failure


class Context:
    """Per-request state: dataloaders and provider failures to report."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        request: Any = None,
        response: Any = None,
        principal: Principal | None = None,
    ) -> None:
        self.runtime = runtime
        self.request = request
        self.response = response
        # None: the gateway has no [auth]; anyone who reaches it may do anything.
        self.principal = principal
        self.loaders = Loaders(runtime)
        self.failures: list[ReportedFailure] = []
        # Provider legs of the request's writes, by what they came to (for the log line).
        self.write_legs: Counter[str] = Counter()

    def report(self, info: Info, *errors: Failure) -> None:
        """Record provider failures against the field being resolved."""
        if not errors:  # the common case, once per contact of a page
            return
        path = tuple(info.path.as_list())
        for error in errors:
            failure = ReportedFailure(path, error)
            if not any(
                f.path == path and f.error.provider is error.provider and f.error.code == error.code
                for f in self.failures
            ):
                self.failures.append(failure)


Info = StrawberryInfo[Context, Any]
