"""`ProviderInfo`: what the gateway can do with each provider, and whether it answers."""

from __future__ import annotations

import strawberry

from connectors.errors import ConnectorError
from connectors.protocol import capabilities
from connectors.registry import PROVIDERS
from gateway.domain.records import Capability, Provider
from resolvers.runtime.context import Info
from resolvers.types.inputs import camel_field
from resolvers.types.scalars import CapabilityEnum, ProviderEnum

NO_HEALTH_CHECK = "the provider has no health check; not verified"


@strawberry.type(description="Whether a provider answered a cheap authenticated call just now.")
class ProviderHealth:
    ok: bool
    latency_ms: float | None
    message: str | None


@strawberry.type(description="A provider, whether this gateway has it enabled, and what it can do.")
class ProviderInfo:
    name: ProviderEnum  # type: ignore[valid-type]
    enabled: bool
    capabilities: list[CapabilityEnum]  # type: ignore[valid-type]
    writable_fields: list[str] = strawberry.field(
        description="The ContactInput fields this provider can store."
    )

    @classmethod
    def for_provider(cls, info: Info, provider: Provider) -> ProviderInfo:
        connector = info.context.runtime.connectors.get(provider)
        kind = PROVIDERS[provider].connector
        caps = capabilities(kind)
        fields: frozenset[str] = getattr(kind, "writable_fields", frozenset())
        return cls(
            name=provider,
            enabled=connector is not None,
            capabilities=[c for c in Capability if c in caps],
            writable_fields=sorted(camel_field(f) for f in fields),
        )

    @strawberry.field(description="Asks the provider now; null when it is not enabled.")
    async def health(self, info: Info) -> ProviderHealth | None:
        runtime = info.context.runtime
        if not runtime.enabled(self.name):
            return None
        checker = runtime.health_checkers.get(self.name)
        if checker is None:
            return ProviderHealth(ok=True, latency_ms=None, message=NO_HEALTH_CHECK)
        try:
            health = await checker.check_health()
        except ConnectorError as exc:
            return ProviderHealth(ok=False, latency_ms=None, message=exc.message)
        return ProviderHealth(ok=health.ok, latency_ms=health.latency_ms, message=health.message)
