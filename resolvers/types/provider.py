"""`ProviderInfo`: what the gateway can do with each provider, and whether it answers."""

from __future__ import annotations

import strawberry

from connectors.errors import ConnectorError, Unsupported
from connectors.registry import CONNECTORS
from connectors.types import Capability, Provider
from resolvers.context import Info
from resolvers.inputs import camel_field
from resolvers.scalars import CapabilityEnum, ProviderEnum


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
        connector = info.context.gateway.connectors.get(provider)
        caps = connector.capabilities if connector else CONNECTORS[provider].capabilities
        fields = connector.writable_fields if connector else CONNECTORS[provider].writable_fields
        return cls(
            name=provider,
            enabled=connector is not None,
            capabilities=[c for c in Capability if c in caps],
            writable_fields=sorted(camel_field(f) for f in fields),
        )

    @strawberry.field(description="Asks the provider now; null when it is not enabled.")
    async def health(self, info: Info) -> ProviderHealth | None:
        connector = info.context.gateway.connectors.get(self.name)
        if connector is None:
            return None
        try:
            health = await connector.check_health()
        except Unsupported as exc:
            return ProviderHealth(ok=True, latency_ms=None, message=exc.message)
        except ConnectorError as exc:
            return ProviderHealth(ok=False, latency_ms=None, message=exc.message)
        return ProviderHealth(ok=health.ok, latency_ms=health.latency_ms, message=health.message)
