"""`Tag`: Adaptix tags, Trustmary lists and Akita's configured tags, as one type."""

from __future__ import annotations

import strawberry

from gateway.domain.records import Provider, TagInfo, TagRef
from resolvers.types.ids import encode_id
from resolvers.types.scalars import ProviderEnum, TagKind


@strawberry.type(name="Tag", description="A tag, a list or a segment in one provider.")
class TagNode:
    id: strawberry.ID = strawberry.field(
        description="An opaque id, the same wherever this tag shows (made of its provider, "
        "kind and name); `node(id:)` does not resolve it."
    )
    name: str = strawberry.field(
        description="The name, as the provider keeps it: what `tagContact`, `untagContact` "
        "and `contacts(filter: {tag:})` take."
    )
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider that keeps it."
    )
    kind: TagKind = strawberry.field(
        description="Whether it is a tag, a list or a segment in its provider."
    )
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
