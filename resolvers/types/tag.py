"""`Tag`: Adaptix tags, Trustmary lists and Akita's configured tags, as one type."""

from __future__ import annotations

import strawberry

from gateway.domain.records import Provider, TagInfo, TagRef
from resolvers.types.ids import encode_id
from resolvers.types.scalars import ProviderEnum, TagKind


@strawberry.type(name="Tag", description="A tag, a list or a segment in one provider.")
class TagNode:
    id: strawberry.ID
    name: str
    provider: ProviderEnum  # type: ignore[valid-type]
    kind: TagKind
    count: int | None = strawberry.field(
        default=None, description="How many contacts carry it, when the provider says."
    )
    remote_id: str | None = strawberry.field(default=None, description="The provider's own id.")

    @classmethod
    def from_ref(cls, provider: Provider, ref: TagRef) -> TagNode:
        return cls(
            id=strawberry.ID(encode_id("Tag", f"{provider.value}:{ref.kind}:{ref.name}")),
            name=ref.name,
            provider=provider,
            kind=TagKind(ref.kind),
            remote_id=ref.id,
        )

    @classmethod
    def from_info(cls, tag: TagInfo) -> TagNode:
        return cls(
            id=strawberry.ID(encode_id("Tag", f"{tag.provider.value}:{tag.kind}:{tag.name}")),
            name=tag.name,
            provider=tag.provider,
            kind=TagKind(tag.kind),
            count=tag.count,
            remote_id=tag.id,
        )
