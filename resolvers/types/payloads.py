"""What mutations answer: per-provider results, and the contact after the write."""

from __future__ import annotations

import strawberry

from gateway.domain.keys import PersonKey
from gateway.domain.records import WriteResult, WriteStatus
from resolvers.runtime.context import Info
from resolvers.services.lookup import find_person
from resolvers.types.contact import ContactNode
from resolvers.types.inputs import camel_field
from resolvers.types.scalars import DeleteStatus, ProviderEnum, WriteStatusEnum

OPERATION_ID = (
    "This mutation's id in the write journal: `writeOperation(id:)` shows what became of "
    "each provider leg, also of QUEUED legs once they are tried again."
)


async def contact_after(info: Info, key: PersonKey | None) -> ContactNode | None:
    """The contact behind `key` as the readable providers show it now."""
    if key is None:
        return None
    person = await find_person(info.context, info, key)
    return ContactNode.from_person(person) if person else None


@strawberry.type(description="What one provider did with one write.")
class ProviderWriteResult:
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider this row is about."
    )
    status: WriteStatusEnum = strawberry.field(description="What the provider did.")
    remote_id: strawberry.ID | None = strawberry.field(
        description="The provider's id of the record written (Interakt, which has none: the "
        "email); null when none is known, e.g. for SKIPPED or FAILED."
    )
    message: str | None = strawberry.field(
        description="Why the provider skipped, failed or queued the write, or what it did "
        "differently from what was asked; the provider's own words for FAILED. Null when "
        "there is nothing to say."
    )
    dropped_fields: list[str] = strawberry.field(
        description="The ContactInput fields this provider did not store although they were "
        "given (`phones[1]` for a list item, `customFields.plan` for one custom field)."
    )

    @classmethod
    def from_result(cls, result: WriteResult) -> ProviderWriteResult:
        return cls(
            provider=result.provider,
            status=WriteStatusEnum(result.status.value),
            remote_id=strawberry.ID(result.remote_id) if result.remote_id else None,
            message=result.message,
            dropped_fields=[camel_field(f) for f in result.dropped_fields],
        )


@strawberry.type(description="What one provider did with a delete.")
class ProviderDeleteResult:
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider this row is about."
    )
    status: DeleteStatus = strawberry.field(description="What the provider did.")
    remote_id: strawberry.ID | None = strawberry.field(
        description="The provider's id of the record deleted (or to be deleted, for "
        "QUEUED); null when nothing was sent to it."
    )
    message: str | None = strawberry.field(
        description="Why the provider skipped, failed or queued the delete, or how it "
        "deleted (Trustmary: soft); null when there is nothing to say."
    )

    @classmethod
    def from_result(cls, result: WriteResult) -> ProviderDeleteResult:
        status = {
            WriteStatus.DELETED: DeleteStatus.DELETED,
            WriteStatus.SKIPPED: DeleteStatus.SKIPPED,
            WriteStatus.QUEUED: DeleteStatus.QUEUED,
        }.get(result.status, DeleteStatus.FAILED)
        return cls(
            provider=result.provider,
            status=status,
            remote_id=strawberry.ID(result.remote_id) if result.remote_id else None,
            message=result.message,
        )


@strawberry.type(
    description="What `upsertContact` did: a row per provider, and the contact after the write."
)
class UpsertContactPayload:
    results: list[ProviderWriteResult] = strawberry.field(
        description="One row per provider asked (every provider when `providers` is left "
        "out), in the configured precedence."
    )
    operation_id: strawberry.ID = strawberry.field(description=OPERATION_ID)
    key: strawberry.Private[PersonKey | None]

    @strawberry.field(description="The contact as the readable providers show it after the write.")
    async def contact(self, info: Info) -> ContactNode | None:
        return await contact_after(info, self.key)


@strawberry.type(
    description="What `upsertContacts` did: a payload per input, and the provider writes "
    "counted by status."
)
class UpsertContactsPayload:
    results: list[UpsertContactPayload] = strawberry.field(
        description="One payload per input, in input order."
    )
    operation_id: strawberry.ID = strawberry.field(description=OPERATION_ID)
    created: int = strawberry.field(description="Provider writes that created a contact.")
    updated: int = strawberry.field(description="Provider writes that changed a contact.")
    skipped: int = strawberry.field(description="Provider writes skipped: nothing was sent.")
    queued: int = strawberry.field(description="Provider writes to be tried again.")
    failed: int = strawberry.field(description="Provider writes that failed.")


@strawberry.type(description="What `deleteContact` did at each provider.")
class DeleteContactPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The id of the contact deleted.")
    results: list[ProviderDeleteResult] = strawberry.field(
        description="One row per enabled provider (or each one named), in the configured "
        "precedence."
    )
    operation_id: strawberry.ID = strawberry.field(description=OPERATION_ID)


@strawberry.type(description="A change to one contact: per-provider results and the contact after.")
class ContactChangePayload:
    results: list[ProviderWriteResult] = strawberry.field(
        description="One row per provider that holds the contact (or each one named), in "
        "the configured precedence."
    )
    operation_id: strawberry.ID = strawberry.field(description=OPERATION_ID)
    key: strawberry.Private[PersonKey]

    @strawberry.field(
        description="The contact as the readable providers show it after the change; null "
        "when none holds it any more."
    )
    async def contact(self, info: Info) -> ContactNode | None:
        return await contact_after(info, self.key)


@strawberry.type(description="What an upsert would do at each provider; nothing was written.")
class UpsertPreviewPayload:
    results: list[ProviderWriteResult] = strawberry.field(
        description="One row per provider, in the configured precedence: CREATED, UPDATED or "
        "SKIPPED as `upsertContact` would report it, with the fields it would drop and its "
        "message (FAILED: the provider could not be read to tell). `remoteId` is the record "
        "an UPDATED row would change, where it is known."
    )


@strawberry.type(description="The result of merging contacts: the one person they now are.")
class MergeContactsPayload:
    operation_id: strawberry.ID = strawberry.field(description=OPERATION_ID)
    key: strawberry.Private[PersonKey]

    @strawberry.field(
        description="The surviving contact; every merged id now resolves to it, and automatic "
        "joining never splits what was merged by hand."
    )
    async def contact(self, info: Info) -> ContactNode | None:
        return await contact_after(info, self.key)


@strawberry.type(description="The result of splitting a record off a contact.")
class UnlinkSourcePayload:
    operation_id: strawberry.ID = strawberry.field(description=OPERATION_ID)
    key: strawberry.Private[PersonKey]
    detached_key: strawberry.Private[PersonKey]

    @strawberry.field(description="The contact, without the record.")
    async def contact(self, info: Info) -> ContactNode | None:
        return await contact_after(info, self.key)

    @strawberry.field(
        description="The new contact the record now is, on its own; automatic joining never "
        "puts it back."
    )
    async def detached(self, info: Info) -> ContactNode | None:
        return await contact_after(info, self.detached_key)
