"""`ProviderField`: a provider's contact field, described for building forms."""

from __future__ import annotations

import strawberry

from connectors.errors import ConnectorError
from connectors.registry import PROVIDERS
from gateway.domain.fields import FieldInfo, known_fields
from gateway.domain.records import Provider
from resolvers.runtime.context import Info
from resolvers.types.inputs import camel_field
from resolvers.types.scalars import ProviderEnum

DESCRIPTION = (
    "A provider's contact fields, for building forms. Adaptix lists its own (`GET "
    "/contacts/list/fields`: core, social and the instance's custom fields, with its labels, "
    "types and groups; the answer is kept for 5 minutes per gateway process). The other "
    "providers have no such endpoint: for them, the ContactInput fields the gateway writes "
    "there (as `Provider.writableFields`), typed by the gateway's own model (so is Adaptix "
    "when it is not enabled); Akita and Interakt may store more than the gateway knows of."
)


@strawberry.type(description="One contact field of a provider.")
class ProviderField:
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="Whose field it is."
    )
    alias: str = strawberry.field(
        description="The provider's name for it (Adaptix's alias); for a provider that "
        "lists no fields, the ContactInput field's name."
    )
    label: str = strawberry.field(
        description="A label to show: Adaptix's own; for the others, made from the name."
    )
    type: str = strawberry.field(
        description="Adaptix's field type (`text`, `email`, `tel`, `number`, `url`, "
        "`lookup`, `region`, `country`, ...); for the others, the gateway model's: `text`, "
        "`list` (several texts), `object` (values by name)."
    )
    group: str | None = strawberry.field(
        description="Adaptix's group (`core`, `social`, `personal`, `professional`); null "
        "for providers that group no fields."
    )
    input_field: str | None = strawberry.field(
        description="The ContactInput field that writes it: a field name, or "
        "`customFields.<alias>` for an Adaptix field outside its core; null when the gateway "
        "cannot write it (e.g. Adaptix `points`)."
    )

    @classmethod
    def of(cls, found: FieldInfo, *, from_model: bool) -> ProviderField:
        input_field = camel_field(found.input_field) if found.input_field else None
        return cls(
            provider=found.provider,
            alias=camel_field(found.alias) if from_model else found.alias,
            label=found.label,
            type=found.type,
            group=found.group,
            input_field=input_field,
        )


async def provider_fields(info: Info, provider: Provider) -> list[ProviderField]:
    """Adaptix's listed fields when it is enabled; otherwise the fields written there."""
    lister = info.context.runtime.field_listers.get(provider)
    if lister is not None:
        try:
            listed = await lister.list_fields()
        except ConnectorError as exc:
            info.context.report(info, exc)
            return []
        return [ProviderField.of(f, from_model=False) for f in listed]
    kind = PROVIDERS[provider].connector
    writable: frozenset[str] = getattr(kind, "writable_fields", frozenset())
    return [ProviderField.of(f, from_model=True) for f in known_fields(provider, writable)]
