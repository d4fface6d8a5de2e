"""`FieldSource` and `FieldConflict`: where a contact's values came from, and where
providers disagree (computed by `gateway.domain.provenance`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from gateway.domain import provenance
from resolvers.types.inputs import camel_field
from resolvers.types.scalars import JSON, ProviderEnum


@strawberry.type(
    name="FieldSource",
    description="Which provider's record supplied the value a contact shows for a field.",
)
class FieldSourceNode:
    field: str = strawberry.field(
        description="The Contact field, as the schema spells it (`firstName`, `phones`)."
    )
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider whose record supplied the value."
    )
    updated_at: datetime | None = strawberry.field(
        description="When that record last changed, as the provider says; null when it "
        "does not say (Lunar Send keeps only a creation time)."
    )

    @classmethod
    def of(cls, found: provenance.FieldSource) -> FieldSourceNode:
        return cls(
            field=camel_field(found.field), provider=found.provider, updated_at=found.updated_at
        )


@strawberry.type(name="FieldValue", description="One provider's value of a field.")
class FieldValueNode:
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider holding this value."
    )
    value: JSON = strawberry.field(
        description="The value as the provider holds it (not normalized): a string, a list "
        "of strings for `phones` and `urls`, a number for `points`."
    )
    updated_at: datetime | None = strawberry.field(
        description="When the provider's record last changed, as the provider says; null "
        "when it does not say (Lunar Send keeps only a creation time)."
    )

    @classmethod
    def of(cls, found: provenance.FieldValue) -> FieldValueNode:
        return cls(
            provider=found.provider, value=JSON(_plain(found.value)), updated_at=found.updated_at
        )


@strawberry.type(
    name="FieldConflict",
    description="A field whose providers hold different values once normalized.",
)
class FieldConflictNode:
    field: str = strawberry.field(
        description="The Contact field, as the schema spells it (`firstName`, `phones`)."
    )
    values: list[FieldValueNode] = strawberry.field(
        description="Every provider's non-empty value, in the field's precedence: the first "
        "is the one the contact shows. Providers that agree are each listed."
    )

    @classmethod
    def of(cls, found: provenance.FieldConflict) -> FieldConflictNode:
        return cls(
            field=camel_field(found.field), values=[FieldValueNode.of(v) for v in found.values]
        )


def _plain(value: Any) -> Any:
    """A field's value as JSON holds it: lists for tuples, objects for records (an
    address), ISO 8601 for times, the value of an enum."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
