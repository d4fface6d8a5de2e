"""Enums and scalars shared by the GraphQL types."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from gateway.domain.records import Capability, Provider

ProviderEnum = strawberry.enum(
    Provider, name="Provider", description="A provider the gateway federates."
)


@strawberry.enum(
    name="WriteStatus",
    description=(
        "What one provider did with a write. SKIPPED: the provider cannot take this "
        "contact (the message says why) and nothing was sent. FAILED: the provider "
        "refused or did not answer; the message is the provider's."
    ),
)
class WriteStatusEnum(Enum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"


CapabilityEnum = strawberry.enum(
    Capability, name="Capability", description="What the gateway can do with a provider."
)


@strawberry.enum(description="What a tag is in its provider.")
class TagKind(Enum):
    TAG = "tag"
    LIST = "list"
    SEGMENT = "segment"


@strawberry.enum(description="What one provider did with a delete.")
class DeleteStatus(Enum):
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"


__all__ = ["JSON", "CapabilityEnum", "DeleteStatus", "ProviderEnum", "TagKind", "WriteStatusEnum"]
