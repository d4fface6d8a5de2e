"""`ProviderInfo`: what the gateway can do with each provider, and whether it answers."""

from __future__ import annotations

import strawberry

from connectors.protocol import capabilities
from connectors.registry import PROVIDERS
from gateway.domain.records import Capability, Provider
from resolvers.runtime.context import Info
from resolvers.types.inputs import camel_field
from resolvers.types.scalars import CapabilityEnum, ProviderEnum


@strawberry.type(description="Whether a provider answered a cheap authenticated call just now.")
class ProviderHealth:
    ok: bool | None = strawberry.field(
        description="Whether it answers and takes the gateway's credentials; null: not known."
    )
    latency_ms: float | None = strawberry.field(
        description="How long the check's call took, in milliseconds; null when the "
        "gateway made no call of its own (Akita, Interakt) or it got no answer."
    )
    message: str | None = strawberry.field(
        description="Why it is not ok, or why nothing is known (e.g. `not checked yet`); "
        "null when all is well."
    )


@strawberry.type(description="A provider, whether this gateway has it enabled, and what it can do.")
class ProviderInfo:
    name: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="Which provider."
    )
    enabled: bool = strawberry.field(
        description="Whether this gateway is configured to use it; a provider not enabled "
        "is neither read nor written."
    )
    capabilities: list[CapabilityEnum] = strawberry.field(  # type: ignore[valid-type]
        description="What its API lets the gateway do, whether or not it is enabled."
    )
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

    @strawberry.field(
        description="As the background health check last found it (every `[server] "
        "health_interval` seconds); null when the provider is not enabled. `ok` is null "
        "when nothing is known: Akita and Interakt have no read endpoint to ask, and are "
        "judged by their answers to the gateway's own calls."
    )
    async def health(self, info: Info) -> ProviderHealth | None:
        runtime = info.context.runtime
        if not runtime.enabled(self.name):
            return None
        if runtime.health.rounds == 0:
            await runtime.health.check()  # no background check ran yet (no lifespan)
        state = runtime.health.provider(self.name)
        return ProviderHealth(ok=state.ok, latency_ms=state.latency_ms, message=state.message)
