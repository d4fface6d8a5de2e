"""`Mutation`: writes fanned out to the providers (`resolvers.services.writes`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import strawberry

from gateway.domain.federation import Person
from gateway.domain.keys import KeyKind, PersonKey
from gateway.domain.records import ContactWrite, DoNotContactReason, Provider, WriteStatus
from gateway.store.identities import Identities, UnknownPerson
from resolvers.runtime.context import Info
from resolvers.runtime.errors import (
    MAX_INPUT_ERRORS,
    BadUserInput,
    InputErrors,
    NotFoundError,
    StoreError,
)
from resolvers.services import bulk, writes
from resolvers.services.lookup import find_person
from resolvers.types.ids import person_key
from resolvers.types.inputs import (
    ContactInput,
    ContactPatchInput,
    contact_writes,
    target_providers,
)
from resolvers.types.marketing import UtmTagInput
from resolvers.types.operations import BulkJob
from resolvers.types.payloads import (
    ContactChangePayload,
    DeleteContactPayload,
    MergeContactsPayload,
    ProviderDeleteResult,
    ProviderWriteResult,
    UnlinkSourcePayload,
    UpsertContactPayload,
    UpsertContactsPayload,
)
from resolvers.types.scalars import DoNotContactReasonEnum, ProviderEnum

MAX_BULK = 10_000
# The descriptions of the arguments several mutations share.
CONTACT_ID = "The contact's id (`Contact.id`)."
WRITE_TO = (
    "The providers to write to (every provider when left out); a provider not enabled "
    "answers SKIPPED."
)
CHANGE_AT = (
    "Change the contact only at these providers (every one that holds it when left out); "
    "a named provider that holds no record of the contact answers SKIPPED."
)
TAG_NAMES = (
    "Tag names: Adaptix tags and Trustmary list names, as `Tag.name` shows them (a list "
    "Trustmary does not have is in `droppedFields`, as `tags[1]`); none blank or starting "
    "with `-`."
)
# A job's inputs are kept in one journal row; past this, start several jobs.
MAX_JOB = 50_000


async def _person_or_error(info: Info, global_id: str) -> Person:
    person = await find_person(info.context, info, person_key(global_id))
    if person is None:
        raise NotFoundError("no provider has a contact with this id", field="id")
    return person


def _checked_batch(
    info: Info, inputs: list[ContactInput], maximum: int, per: str
) -> list[ContactWrite]:
    """A batch's inputs checked whole (1 to `maximum` of them, every problem named)."""
    if not inputs:
        raise BadUserInput("inputs is empty", field="inputs")
    if len(inputs) > maximum:
        raise BadUserInput(f"at most {maximum} inputs {per}", field="inputs")
    return contact_writes(inputs, "inputs", phone_region=info.context.runtime.phone_region)


def _named(providers: list[Provider] | None) -> list[Provider] | None:
    return None if providers is None else target_providers(providers)


async def _change(
    info: Info,
    kind: str,
    id: strawberry.ID,
    providers: list[Provider] | None,
    args: Mapping[str, Any],
    *,
    new_email: str | None = None,
) -> ContactChangePayload:
    person = await _person_or_error(info, str(id))
    written = await writes.change(info.context, kind, person, _named(providers), args)
    key = person.key
    if person.id is not None:
        key = PersonKey.person(person.id)  # found by its id also after an email change
    elif new_email is not None:
        key = PersonKey.email(new_email)
    return ContactChangePayload(
        results=[ProviderWriteResult.from_result(r) for r in written.rows[0]],
        operation_id=strawberry.ID(written.operation_id),
        key=key,
    )


@strawberry.type(
    description="Writes, fanned out to the providers: each answers a row per provider "
    "saying what it did, and an `operationId` for the write journal."
)
class Mutation:
    @strawberry.mutation(
        description="Create or update one contact in the chosen providers (all of them when "
        "`providers` is left out), concurrently. Each provider's result says exactly what it "
        "did; bad input is refused before anything is written, each problem as a BAD_USER_INPUT "
        "error naming its field (`input.phones[1]`)."
    )
    async def upsert_contact(
        self,
        info: Info,
        input: Annotated[ContactInput, strawberry.argument(description="The contact to write.")],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description=WRITE_TO),
        ] = None,
    ) -> UpsertContactPayload:
        write = input.to_write(phone_region=info.context.runtime.phone_region)
        written = await writes.upsert(info.context, write, target_providers(providers))
        results = written.rows[0]
        return UpsertContactPayload(
            results=[ProviderWriteResult.from_result(r) for r in results],
            operation_id=strawberry.ID(written.operation_id),
            key=writes.result_key(write, results, info.context.runtime),
        )

    @strawberry.mutation(
        description="Create or update many contacts (for bulk jobs): each provider gets them "
        "through its batch endpoint where it has one, within its rate limits. Every input is "
        "checked first: when any is bad nothing is written, and each problem of each input "
        f"is a BAD_USER_INPUT error naming its field (`inputs[3].email`), up to {MAX_INPUT_ERRORS}."
    )
    async def upsert_contacts(
        self,
        info: Info,
        inputs: Annotated[
            list[ContactInput],
            strawberry.argument(description=f"The contacts to write: 1 to {MAX_BULK}."),
        ],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description=WRITE_TO),
        ] = None,
    ) -> UpsertContactsPayload:
        batch = _checked_batch(info, inputs, MAX_BULK, "per call")
        written = await writes.upsert_many(info.context, batch, target_providers(providers))
        runtime = info.context.runtime
        operation_id = strawberry.ID(written.operation_id)
        counts = dict.fromkeys(WriteStatus, 0)
        payloads = []
        for write, row in zip(batch, written.rows, strict=True):
            for result in row:
                counts[result.status] += 1
            payloads.append(
                UpsertContactPayload(
                    results=[ProviderWriteResult.from_result(r) for r in row],
                    operation_id=operation_id,
                    key=writes.result_key(write, row, runtime),
                )
            )
        return UpsertContactsPayload(
            results=payloads,
            operation_id=operation_id,
            created=counts[WriteStatus.CREATED],
            updated=counts[WriteStatus.UPDATED],
            skipped=counts[WriteStatus.SKIPPED],
            queued=counts[WriteStatus.QUEUED],
            failed=counts[WriteStatus.FAILED],
        )

    @strawberry.mutation(
        description="Start a bulk upsert and return at once: the job runs in the background "
        "(through each provider's batch path, within its rate limits), survives restarts, "
        "and `bulkJob(id:)` tells how far along it is. Bad input is refused before the job "
        "starts, every problem named as for `upsertContacts`."
    )
    async def start_bulk_upsert(
        self,
        info: Info,
        inputs: Annotated[
            list[ContactInput],
            strawberry.argument(description=f"The contacts to write: 1 to {MAX_JOB}."),
        ],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description=WRITE_TO),
        ] = None,
    ) -> BulkJob:
        batch = _checked_batch(info, inputs, MAX_JOB, "per job")
        job = await bulk.start(info.context, batch, target_providers(providers))
        journal = info.context.runtime.journal
        view = await journal.operation(job) if journal is not None else None
        if view is None:
            raise StoreError("the job was written down but cannot be read back")
        return BulkJob.of(view, None)

    @strawberry.mutation(
        description="Change fields of a known contact at every provider that holds it (or the "
        "ones named): a field given is set, a field given as null is cleared, a field left out "
        "is kept. A row per provider, in the configured precedence: SKIPPED where the provider "
        "holds no record of the contact or can change nothing that was given (the message "
        "says why); `droppedFields` names what a provider cannot change (Lunar Send edits "
        "only name, email and phone; Trustmary and Interakt key contacts by email, Akita by "
        "externalId, so those cannot change there). Bad input is refused before anything is "
        "written, every problem named (`patch.phones[1]`)."
    )
    async def update_contact(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The contact's id.")],
        patch: Annotated[
            ContactPatchInput, strawberry.argument(description="The fields to set or clear.")
        ],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(
                description="Change the contact only here; a named provider that holds no "
                "record of the contact answers SKIPPED."
            ),
        ] = None,
    ) -> ContactChangePayload:
        change = patch.to_change(phone_region=info.context.runtime.phone_region)
        email = change.get("email")
        return await _change(
            info,
            "updateContact",
            id,
            providers,
            {"patch": change.json()},
            new_email=email if isinstance(email, str) else None,
        )

    @strawberry.mutation(
        description="Delete a contact from the providers that hold it (or the ones named). "
        "Answers a row for every enabled provider (or each one named), in the configured "
        "precedence: SKIPPED where the API cannot delete (Akita, Interakt) or holds no "
        "record of the contact. Trustmary's delete is soft (it keeps the contact with status "
        "deleted), and its row's message says so."
    )
    async def delete_contact(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(
                description="Delete the contact only at these providers (every enabled one "
                "when left out)."
            ),
        ] = None,
    ) -> DeleteContactPayload:
        person = await _person_or_error(info, str(id))
        written = await writes.change(info.context, "deleteContact", person, _named(providers), {})
        rows = []
        for result in written.rows[0]:
            row = ProviderDeleteResult.from_result(result)
            record = person.source(result.provider)
            if result.status is not WriteStatus.SKIPPED and record is not None:
                row.remote_id = strawberry.ID(record.remote_id)
            rows.append(row)
        return DeleteContactPayload(
            deleted_id=id, results=rows, operation_id=strawberry.ID(written.operation_id)
        )

    @strawberry.mutation(
        description="Make several contacts one person, where the rules (same email or external "
        "id) did not join them. The oldest id survives; every merged id then resolves to it, "
        "and automatic joining never splits them again."
    )
    async def merge_contacts(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="The ids (`Contact.id`) of two or more contacts."),
        ],
    ) -> MergeContactsPayload:
        identities = _identities(info)
        if len(ids) < 2:
            raise BadUserInput("ids: name at least two contacts to merge", field="ids")
        persons: list[str] = []
        for index, global_id in enumerate(ids):
            persons.append(await _stored_person(info, str(global_id), f"ids[{index}]"))
        if len(set(persons)) < 2:
            raise BadUserInput("ids: these ids are already one contact", field="ids")
        try:
            survivor = await identities.merge(persons)
        except UnknownPerson as exc:
            raise BadUserInput(f"ids: no contact has the id {exc.args[0]!r}", field="ids") from exc
        operation_id = await writes.journal_only(
            info.context, "mergeContacts", {"persons": persons, "survivor": survivor}
        )
        info.context.loaders.after_write([])
        return MergeContactsPayload(
            operation_id=strawberry.ID(operation_id), key=PersonKey.person(survivor)
        )

    @strawberry.mutation(
        description="Split one provider record off a contact it was wrongly joined with, into a "
        "contact of its own. Remembered: automatic joining never puts it back."
    )
    async def unlink_source(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        provider: Annotated[
            ProviderEnum,  # type: ignore[valid-type]
            strawberry.argument(description="The provider of the record to split off."),
        ],
        remote_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The record's id there (`Source.remoteId`)."),
        ],
    ) -> UnlinkSourcePayload:
        identities = _identities(info)
        person = await _stored_person(info, str(id), "id")
        which = Provider(provider)
        try:
            detached = await identities.unlink(person, which, str(remote_id))
        except UnknownPerson:
            raise BadUserInput(
                f"remoteId: the contact has no {which.name} record {str(remote_id)!r}",
                field="remoteId",
            ) from None
        operation_id = await writes.journal_only(
            info.context,
            "unlinkSource",
            {"person": person, "provider": which.value, "remote_id": str(remote_id)},
        )
        info.context.loaders.after_write([])
        return UnlinkSourcePayload(
            operation_id=strawberry.ID(operation_id),
            key=PersonKey.person(person),
            detached_key=PersonKey.person(detached),
        )

    @strawberry.mutation(description="Add tags (Adaptix tags, Trustmary lists by name).")
    async def tag_contact(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        tags: Annotated[list[str], strawberry.argument(description=TAG_NAMES)],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description=CHANGE_AT),
        ] = None,
    ) -> ContactChangePayload:
        return await _change(info, "tagContact", id, providers, {"tags": _tag_names(tags)})

    @strawberry.mutation(description="Remove tags (Adaptix tags, Trustmary lists by name).")
    async def untag_contact(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        tags: Annotated[list[str], strawberry.argument(description=TAG_NAMES)],
        providers: Annotated[
            list[ProviderEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description=CHANGE_AT),
        ] = None,
    ) -> ContactChangePayload:
        return await _change(info, "untagContact", id, providers, {"tags": _tag_names(tags)})

    @strawberry.mutation(
        description="Mark (or unmark) a contact as do-not-contact on a channel (Adaptix). "
        "`comments`, `reason` and `channelId` describe an entry being added; Adaptix keeps "
        "none of them on a removal, and the result says so."
    )
    async def set_do_not_contact(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        channel: Annotated[
            str,
            strawberry.argument(
                description="The channel, as Adaptix names it: `email` (when left out), `sms`, ..."
            ),
        ] = "email",
        enabled: Annotated[
            bool,
            strawberry.argument(
                description="true (when left out) adds a do-not-contact entry; false removes it."
            ),
        ] = True,
        comments: Annotated[
            str | None,
            strawberry.argument(description="What to note with the entry being added."),
        ] = None,
        reason: Annotated[
            DoNotContactReasonEnum | None,
            strawberry.argument(
                description="Why: UNSUBSCRIBED, BOUNCED or MANUAL (Adaptix's default, when "
                "left out). OTHER is refused."
            ),
        ] = None,
        channel_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The provider's id of what caused it (the email that bounced, "
                "the message unsubscribed from): a whole number at Adaptix."
            ),
        ] = None,
    ) -> ContactChangePayload:
        if not channel.strip():
            raise BadUserInput("channel must not be blank", field="channel")
        errors = InputErrors("setDoNotContact")
        if reason is not None and reason is DoNotContactReasonEnum.OTHER:
            errors.refuse(
                "reason: give UNSUBSCRIBED, BOUNCED or MANUAL (OTHER only reads)", field="reason"
            )
        cause = str(channel_id).strip() if channel_id is not None else None
        if cause is not None and not (cause.isascii() and cause.isdigit()):
            errors.refuse("channelId must be a whole number", field="channelId")
        errors.raise_any()
        args = {
            "channel": channel.strip(),
            "enabled": enabled,
            "comments": comments,
            "reason": DoNotContactReason[reason.name].value if reason is not None else None,
            "channel_id": cause,
        }
        return await _change(info, "setDoNotContact", id, None, args)

    @strawberry.mutation(description="Add (positive) or subtract (negative) points (Adaptix).")
    async def add_points(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        delta: Annotated[
            int,
            strawberry.argument(
                description="The points to add (positive) or subtract (negative); not 0."
            ),
        ],
        event_name: Annotated[
            str | None,
            strawberry.argument(description="The name of the event that earned the points."),
        ] = None,
        action_name: Annotated[
            str | None,
            strawberry.argument(description="The name of the action that earned the points."),
        ] = None,
    ) -> ContactChangePayload:
        errors = InputErrors("addPoints")
        if delta == 0:
            errors.refuse("delta must not be 0", field="delta")
        names = {"eventName": event_name, "actionName": action_name}
        for field, value in names.items():
            if value is not None and not value.strip():
                errors.refuse(f"{field} must not be blank", field=field)
        errors.raise_any()
        args = {
            "delta": delta,
            "event_name": event_name.strip() if event_name else None,
            "action_name": action_name.strip() if action_name else None,
        }
        return await _change(info, "addPoints", id, None, args)

    @strawberry.mutation(
        description="Add the UTM parameters of one visit to a contact (Adaptix `utm/add`); "
        "`Contact.utmTags` then lists them. Each call adds an entry, so one that got no "
        "answer is not sent again on a guess (like `addPoints`)."
    )
    async def add_utm_tags(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        utm: Annotated[UtmTagInput, strawberry.argument(description="The visit's UTM parameters.")],
    ) -> ContactChangePayload:
        write = utm.to_write("utm")
        return await _change(info, "addUtmTags", id, None, {"utm": write.values()})

    @strawberry.mutation(
        description="Remove one UTM tag entry from a contact (Adaptix `utm/UTMID/remove`), "
        "by its `UtmTag.id`."
    )
    async def remove_utm_tag(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CONTACT_ID)],
        utm_tag_id: Annotated[
            strawberry.ID, strawberry.argument(description="The `UtmTag.id` to remove.")
        ],
    ) -> ContactChangePayload:
        tag_id = str(utm_tag_id).strip()
        if not (tag_id.isascii() and tag_id.isdigit()):
            raise BadUserInput("utmTagId is not the id of a UTM tag", field="utmTagId")
        return await _change(info, "removeUtmTag", id, None, {"utm_tag_id": tag_id})


async def _stored_person(info: Info, global_id: str, field: str) -> str:
    """The store's id of the person a contact id names; BAD_USER_INPUT naming `field`
    when no such contact exists."""
    key = person_key(global_id, field)
    if key.kind is KeyKind.PERSON:
        identities = info.context.runtime.identities
        known = await identities.persons([key.value]) if identities is not None else {}
        if key.value in known:
            return known[key.value].id
    else:
        person = await find_person(info.context, info, key)
        if person is not None and person.id is not None:
            return person.id
    raise BadUserInput(f"{field}: no contact has the id {global_id!r}", field=field)


def _identities(info: Info) -> Identities:
    identities = info.context.runtime.identities
    if identities is None:
        raise StoreError("this gateway keeps no identity store")
    return identities


def _tag_names(tags: list[str]) -> list[str]:
    names = [t.strip() for t in tags]
    if not names:
        raise BadUserInput("tags is empty: name at least one tag", field="tags")
    if any(not n or n.startswith("-") for n in names):
        raise BadUserInput("tags must be non-blank names not starting with '-'", field="tags")
    return names
