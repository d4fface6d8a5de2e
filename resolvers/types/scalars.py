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
        "contact (the message says why) and nothing was sent. QUEUED: the provider "
        "failed in a way another try may mend (an outage, a rate limit, no answer); the "
        "gateway tries again in the background until it lands (see `writeOperation`), and "
        "the message says why and when. FAILED: the provider refused, or trying again "
        "ran out of time; the message is the provider's."
    ),
)
class WriteStatusEnum(Enum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    QUEUED = "queued"
    FAILED = "failed"


CapabilityEnum = strawberry.enum(
    Capability, name="Capability", description="What the gateway can do with a provider."
)


@strawberry.enum(description="What a tag is in its provider.")
class TagKind(Enum):
    TAG = "tag"
    LIST = "list"
    SEGMENT = "segment"


@strawberry.enum(
    description="What one provider did with a delete. QUEUED: tried again in the "
    "background, as for a write."
)
class DeleteStatus(Enum):
    DELETED = "deleted"
    SKIPPED = "skipped"
    QUEUED = "queued"
    FAILED = "failed"


__all__ = ["JSON", "CapabilityEnum", "DeleteStatus", "ProviderEnum", "TagKind", "WriteStatusEnum"]
