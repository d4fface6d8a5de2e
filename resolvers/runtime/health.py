"""Provider and store health, checked in the background so readiness costs nothing.

Every `interval` seconds each enabled provider with a read-only check
(`HealthChecker`: Trustmary's lists, an Adaptix page of one, a Lunar Send search
for an address nobody has) is asked, and the store is pinged; `/readyz` and
`providers { health }` answer from what was found, never by calling anyone.

Akita and Interakt have nothing but write endpoints, and a probe there would be
a write: they are judged passively, by how they answered the gateway's own
calls in the last `PASSIVE_WINDOW` seconds (`HTTPConnector.last_answer`), and
are "not checked" (ok null) when there were none.

The gateway is ready while the store answers (or there is none) and at least
one provider answers: a provider that is down fails only its own part of each
answer, so the gateway still serves the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConnectorError
from connectors.protocol import Connector, HealthChecker
from gateway.domain.records import Provider
from gateway.store import Store, StoreUnavailable

logger = logging.getLogger("contact_gateway.health")

# How far back a provider's own answers count for passive health.
PASSIVE_WINDOW = 600.0
NOT_CHECKED = "no read endpoint to ask, and no call in the last 10 minutes"
PROBE_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class State:
    """What is known of one provider (or the store): ok None means not known."""

    ok: bool | None
    message: str | None = None
    latency_ms: float | None = None
    checked: str = "active"  # active: asked; passive: from its answers to the gateway
    age_s: float | None = None  # seconds since it was found

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "ok": self.ok,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "message": self.message,
            "checked": self.checked,
            "age_s": None if self.age_s is None else round(self.age_s, 1),
        }


class HealthMonitor:
    """Background health of the providers and the store.

    Args:
        connectors: the enabled connectors.
        store: the store, if any.
        interval: seconds between two rounds of checks.
    """

    def __init__(
        self, connectors: Mapping[Provider, Connector], store: Store | None, *, interval: float
    ) -> None:
        self.connectors = connectors
        self.store = store
        self.interval = interval
        self._found: dict[Provider, tuple[float, State]] = {}
        self._store: tuple[float, State] | None = None
        self.rounds = 0

    async def run(self, stopping: asyncio.Event) -> None:
        """Check every `interval` seconds until `stopping` is set."""
        while not stopping.is_set():
            round_ = asyncio.ensure_future(self.check())
            stop = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({round_, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not round_.done():  # stopping: a slow provider's answer is not waited for
                round_.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await round_
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.interval)

    async def check(self) -> None:
        """One round: every active check and the store, at once."""
        active = {p: c for p, c in self.connectors.items() if isinstance(c, HealthChecker)}
        results = await asyncio.gather(
            self._store_state(), *(self._probe(p, c) for p, c in active.items())
        )
        now = time.monotonic()
        self._store = (now, results[0])
        for provider, state in zip(active, results[1:], strict=True):
            self._found[provider] = (now, state)
        self.rounds += 1

    async def _probe(self, provider: Provider, connector: HealthChecker) -> State:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                health = await connector.check_health()
        except ConnectorError as exc:
            return State(False, exc.message)
        except TimeoutError:
            return State(False, f"no answer within {PROBE_TIMEOUT:g} s")
        except Exception:
            logger.exception("health check failed provider=%s", provider.value)
            return State(False, "unexpected error")
        return State(health.ok, health.message, health.latency_ms)

    async def _store_state(self) -> State:
        if self.store is None:
            return State(None, "no store")
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await self.store.ping()
        except StoreUnavailable as exc:
            return State(False, str(exc))
        except TimeoutError:
            return State(False, f"no answer within {PROBE_TIMEOUT:g} s")
        return State(True)

    def provider(self, provider: Provider) -> State:
        """What is known of an enabled provider now."""
        now = time.monotonic()
        connector = self.connectors[provider]
        if isinstance(connector, HealthChecker):
            found = self._found.get(provider)
            if found is None:
                return State(None, "not checked yet")
            at, state = found
            return State(state.ok, state.message, state.latency_ms, "active", now - at)
        answer = getattr(connector, "last_answer", None)
        if answer is None or now - answer.at > PASSIVE_WINDOW:
            return State(None, NOT_CHECKED, checked="passive")
        return State(answer.ok, answer.message, None, "passive", now - answer.at)

    def report(self) -> dict[str, Any]:
        """`/readyz`'s body: ready, the store, and each provider."""
        providers = {
            p.value: self.provider(p).as_dict()
            if p in self.connectors
            else {"enabled": False, "ok": None, "latency_ms": None, "message": "not configured"}
            for p in Provider
        }
        if self._store is None:
            store: dict[str, Any] = {"ok": None, "message": "not checked yet"}
        else:
            _, state = self._store
            store = {"ok": state.ok, "message": state.message}
        checked = self._store is not None
        answering = any(p["ok"] for p in providers.values() if p["enabled"])
        ready = checked and store["ok"] is not False and answering
        return {"ready": ready, "store": store, "providers": providers}
