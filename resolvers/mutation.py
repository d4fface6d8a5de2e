"""`Mutation`: writes fanned out to the providers, each result told as it happened."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import strawberry

from connectors.errors import ConnectorError, Unsupported
from connectors.protocol import Connector
from connectors.types import Capability, Provider, WriteResult, WriteStatus, normalize_email
from connectors.types import Contact as ProviderRecord
from connectors.types import ContactInput as UnifiedInput
from resolvers.contact import Contact
from resolvers.context import Info
from resolvers.errors import BadUserInput, NotFoundError
from resolvers.federation import Person
from resolvers.inputs import ContactInput, camel_field, target_providers
from resolvers.query import contact_key, find_contact, find_person
from resolvers.scalars import DeleteStatus, ProviderEnum, WriteStatusEnum

logger = logging.getLogger("contact_gateway.mutation")

MAX_BULK = 10_000


@strawberry.type(description="What one provider did with one write.")
class ProviderWriteResult:
    provider: ProviderEnum  # type: ignore[valid-type]
    status: WriteStatusEnum  # type: ignore[valid-type]
    remote_id: strawberry.ID | None
    message: str | None
    dropped_fields: list[str] = strawberry.field(
        description="The ContactInput fields this provider did not store although they were "
        "given (`phones[1]` for a list item, `customFields.plan` for one custom field)."
    )

    @classmethod
    def from_result(cls, result: WriteResult) -> ProviderWriteResult:
        return cls(
            provider=result.provider,
            status=result.status,
            remote_id=strawberry.ID(result.remote_id) if result.remote_id else None,
            message=result.message,
            dropped_fields=[camel_field(f) for f in result.dropped_fields],
        )


@strawberry.type(description="What one provider did with a delete.")
class ProviderDeleteResult:
    provider: ProviderEnum  # type: ignore[valid-type]
    status: DeleteStatus
    remote_id: strawberry.ID | None
    message: str | None


@strawberry.type
class UpsertContactPayload:
    results: list[ProviderWriteResult]
    key: strawberry.Private[str | None]

    @strawberry.field(description="The contact as the readable providers show it after the write.")
    async def contact(self, info: Info) -> Contact | None:
        return None if self.key is None else await find_contact(info, self.key)


@strawberry.type
class UpsertContactsPayload:
    results: list[UpsertContactPayload] = strawberry.field(
        description="One payload per input, in input order."
    )
    created: int = strawberry.field(description="Provider writes that created a contact.")
    updated: int
    skipped: int
    failed: int


@strawberry.type
class DeleteContactPayload:
    deleted_id: strawberry.ID
    results: list[ProviderDeleteResult]


@strawberry.type(description="A change to one contact: per-provider results and the contact after.")
class ContactChangePayload:
    results: list[ProviderWriteResult]
    key: strawberry.Private[str]

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        return await find_contact(info, self.key)


# Where a change to an existing contact goes in one provider, or why it is skipped there.
_Target = tuple[Connector, ProviderRecord] | WriteResult


def _skipped(provider: Provider, reason: str) -> WriteResult:
    return WriteResult(provider, WriteStatus.SKIPPED, message=reason)


def _failure(provider: Provider, exc: Exception) -> WriteResult:
    """What a write that raised did: SKIPPED if the provider has no API for it, else FAILED."""
    if isinstance(exc, Unsupported):
        return _skipped(provider, exc.message)
    if isinstance(exc, ConnectorError):
        return WriteResult(provider, WriteStatus.FAILED, message=exc.message)
    logger.error("unexpected error writing to %s", provider.value, exc_info=exc)
    return WriteResult(provider, WriteStatus.FAILED, message="unexpected error in the gateway")


async def _safely(provider: Provider, call: Callable[[], Awaitable[WriteResult]]) -> WriteResult:
    try:
        return await call()
    except Exception as exc:
        return _failure(provider, exc)


def _writer(info: Info, provider: Provider) -> Connector | WriteResult:
    """The connector a write goes to, or the SKIPPED result saying why there is none."""
    connector = info.context.gateway.connectors.get(provider)
    if connector is None:
        return _skipped(provider, "not enabled in this gateway")
    if Capability.WRITE not in connector.capabilities:
        return _skipped(provider, f"{provider.name} has no API to write")
    return connector


def _result_key(unified: UnifiedInput, results: Sequence[WriteResult], info: Info) -> str | None:
    if unified.email:
        return f"email:{normalize_email(unified.email)}"
    loaders = info.context.loaders.by_id
    written = (WriteStatus.CREATED, WriteStatus.UPDATED)
    for result in results:
        if result.remote_id and result.provider in loaders and result.status in written:
            return f"{result.provider.value}:{result.remote_id}"
    return None


async def _person_or_error(info: Info, global_id: str) -> Person:
    person = await find_person(info, contact_key(global_id))
    if person is None:
        raise NotFoundError("no provider has a contact with this id", field="id")
    return person


def _change_targets(
    info: Info, person: Person, providers: list[Provider] | None, capabilities: Sequence[Capability]
) -> list[_Target]:
    """Per provider: its connector and the contact's record there, or why it is skipped."""
    wanted = (
        target_providers(providers)
        if providers is not None
        else [r.provider for r in person.sources]
    )
    targets: list[_Target] = []
    for provider in wanted:
        record = person.source(provider)
        connector = info.context.gateway.connectors.get(provider)
        if connector is None:
            targets.append(_skipped(provider, "not enabled in this gateway"))
        elif not any(c in connector.capabilities for c in capabilities):
            targets.append(_skipped(provider, f"{provider.name} has no API for this change"))
        elif record is None:
            targets.append(_skipped(provider, f"the contact has no record in {provider.name}"))
        else:
            targets.append((connector, record))
    return targets


async def _change(
    info: Info,
    id: strawberry.ID,
    providers: list[Provider] | None,
    capabilities: Sequence[Capability],
    call: Callable[[Connector, ProviderRecord], Awaitable[WriteResult]],
) -> ContactChangePayload:
    person = await _person_or_error(info, str(id))

    async def run(target: _Target) -> WriteResult:
        if isinstance(target, WriteResult):
            return target
        connector, record = target
        return await _safely(record.provider, lambda: call(connector, record))

    targets = _change_targets(info, person, providers, capabilities)
    results = await asyncio.gather(*(run(t) for t in targets))
    info.context.loaders.clear()
    return ContactChangePayload(
        results=[ProviderWriteResult.from_result(r) for r in results], key=person.key
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create or update one contact in the chosen providers (all of them when "
        "`providers` is left out), concurrently. Each provider's result says exactly what it "
        "did; bad input is refused before anything is written."
    )
    async def upsert_contact(
        self,
        info: Info,
        input: ContactInput,
        providers: list[ProviderEnum] | None = None,  # type: ignore[valid-type]
    ) -> UpsertContactPayload:
        unified = input.to_unified()
        targets = target_providers(providers)

        async def write(provider: Provider) -> WriteResult:
            connector = _writer(info, provider)
            if isinstance(connector, WriteResult):
                return connector
            return await _safely(provider, lambda: connector.upsert(unified))

        results = await asyncio.gather(*(write(p) for p in targets))
        info.context.loaders.clear()
        return UpsertContactPayload(
            results=[ProviderWriteResult.from_result(r) for r in results],
            key=_result_key(unified, results, info),
        )

    @strawberry.mutation(
        description="Create or update many contacts (for bulk jobs): each provider gets them "
        "through its batch endpoint where it has one, within its rate limits."
    )
    async def upsert_contacts(
        self,
        info: Info,
        inputs: list[ContactInput],
        providers: list[ProviderEnum] | None = None,  # type: ignore[valid-type]
    ) -> UpsertContactsPayload:
        if not inputs:
            raise BadUserInput("inputs is empty", field="inputs")
        if len(inputs) > MAX_BULK:
            raise BadUserInput(f"at most {MAX_BULK} inputs per call", field="inputs")
        unified = [item.to_unified(f"inputs[{i}]") for i, item in enumerate(inputs)]
        targets = target_providers(providers)

        async def write(provider: Provider) -> list[WriteResult]:
            connector = _writer(info, provider)
            if isinstance(connector, WriteResult):
                return [connector] * len(unified)
            try:
                return list(await connector.upsert_many(unified))
            except Exception as exc:
                return [_failure(provider, exc)] * len(unified)

        per_provider = await asyncio.gather(*(write(p) for p in targets))
        info.context.loaders.clear()
        payloads = []
        counts = dict.fromkeys(WriteStatus, 0)
        for i, item in enumerate(unified):
            row = [results[i] for results in per_provider]
            for result in row:
                counts[result.status] += 1
            payloads.append(
                UpsertContactPayload(
                    results=[ProviderWriteResult.from_result(r) for r in row],
                    key=_result_key(item, row, info),
                )
            )
        return UpsertContactsPayload(
            results=payloads,
            created=counts[WriteStatus.CREATED],
            updated=counts[WriteStatus.UPDATED],
            skipped=counts[WriteStatus.SKIPPED],
            failed=counts[WriteStatus.FAILED],
        )

    @strawberry.mutation(
        description="Delete a contact from the providers that hold it (or the ones named)."
    )
    async def delete_contact(
        self,
        info: Info,
        id: strawberry.ID,
        providers: list[ProviderEnum] | None = None,  # type: ignore[valid-type]
    ) -> DeleteContactPayload:
        person = await _person_or_error(info, str(id))

        async def run(
            target: _Target,
        ) -> ProviderDeleteResult:
            if isinstance(target, WriteResult):
                return ProviderDeleteResult(
                    provider=target.provider,
                    status=DeleteStatus.SKIPPED,
                    remote_id=None,
                    message=target.message,
                )
            connector, record = target
            result = await _safely(record.provider, lambda: connector.delete(record))
            ok = result.status in (WriteStatus.UPDATED, WriteStatus.CREATED)
            return ProviderDeleteResult(
                provider=record.provider,
                status=DeleteStatus.DELETED if ok else DeleteStatus(result.status.value),
                remote_id=strawberry.ID(record.remote_id),
                message=None if ok else result.message,
            )

        targets = _change_targets(info, person, providers, [Capability.DELETE])
        results = await asyncio.gather(*(run(t) for t in targets))
        info.context.loaders.clear()
        return DeleteContactPayload(deleted_id=id, results=list(results))

    @strawberry.mutation(description="Add tags (Adaptix tags, Trustmary lists by name).")
    async def tag_contact(
        self,
        info: Info,
        id: strawberry.ID,
        tags: list[str],
        providers: list[ProviderEnum] | None = None,  # type: ignore[valid-type]
    ) -> ContactChangePayload:
        return await _retag(info, id, tags, providers, add=True)

    @strawberry.mutation(description="Remove tags (Adaptix tags, Trustmary lists by name).")
    async def untag_contact(
        self,
        info: Info,
        id: strawberry.ID,
        tags: list[str],
        providers: list[ProviderEnum] | None = None,  # type: ignore[valid-type]
    ) -> ContactChangePayload:
        return await _retag(info, id, tags, providers, add=False)

    @strawberry.mutation(
        description="Mark (or unmark) a contact as do-not-contact on a channel (Adaptix)."
    )
    async def set_do_not_contact(
        self,
        info: Info,
        id: strawberry.ID,
        channel: str = "email",
        enabled: bool = True,
        comments: str | None = None,
    ) -> ContactChangePayload:
        if not channel.strip():
            raise BadUserInput("channel must not be blank", field="channel")
        return await _change(
            info,
            id,
            None,
            [Capability.DO_NOT_CONTACT],
            lambda c, r: c.set_do_not_contact(
                r.remote_id, channel=channel.strip(), enabled=enabled, comments=comments
            ),
        )

    @strawberry.mutation(description="Add (positive) or subtract (negative) points (Adaptix).")
    async def add_points(self, info: Info, id: strawberry.ID, delta: int) -> ContactChangePayload:
        if delta == 0:
            raise BadUserInput("delta must not be 0", field="delta")
        return await _change(
            info, id, None, [Capability.POINTS], lambda c, r: c.add_points(r.remote_id, delta)
        )


async def _retag(
    info: Info,
    id: strawberry.ID,
    tags: list[str],
    providers: list[Provider] | None,
    *,
    add: bool,
) -> ContactChangePayload:
    names = [t.strip() for t in tags]
    if not names:
        raise BadUserInput("tags is empty: name at least one tag", field="tags")
    if any(not n or n.startswith("-") for n in names):
        raise BadUserInput("tags must be non-blank names not starting with '-'", field="tags")
    return await _change(
        info,
        id,
        providers,
        [Capability.TAGS, Capability.LISTS],
        lambda c, r: c.tag(r, add=names) if add else c.tag(r, remove=names),
    )
