"""Enums and scalars shared by the GraphQL types."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from gateway.domain.records import Capability, Provider
from resolvers.runtime.internals import describe_enum_values

ProviderEnum = strawberry.enum(
    Provider, name="Provider", description="A provider the gateway federates."
)
describe_enum_values(
    Provider,
    {
        Provider.AKITA: "Akita: written by `externalId` and `accountExternalId`; it cannot be "
        "read, so the gateway shows what it wrote there.",
        Provider.INTERAKT: "Interakt: members and leads written by email; it cannot be read, so "
        "the gateway shows what it wrote there.",
        Provider.TRUSTMARY: "Trustmary: read by email or page by page, written by email; keeps "
        "lists, `type` and `status`.",
        Provider.ADAPTIX: "Adaptix: read by id, email or search, written one by one or in "
        "batches; keeps tags, segments, companies, activity and points.",
        Provider.LUNARSEND: "Lunar Send: read one field value a call (email, company); an "
        "existing contact's name, email and phone alone can be edited.",
    },
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
    CREATED = strawberry.enum_value("created", description="The provider created a contact.")
    UPDATED = strawberry.enum_value(
        "updated",
        description="The provider changed a contact it held (Interakt, which answers the "
        "same either way: it took the write, and the message says so).",
    )
    SKIPPED = strawberry.enum_value(
        "skipped",
        description="The provider cannot take this contact; nothing was sent. The message "
        "says why.",
    )
    QUEUED = strawberry.enum_value(
        "queued",
        description="The provider failed in a way another try may mend; the gateway tries "
        "again in the background (see `writeOperation`).",
    )
    FAILED = strawberry.enum_value(
        "failed",
        description="The provider refused, or trying again ran out of time; the message is "
        "the provider's.",
    )


CapabilityEnum = strawberry.enum(
    Capability,
    name="Capability",
    description="What the gateway can do with a provider, from the calls its API has.",
)
describe_enum_values(
    Capability,
    {
        Capability.READ_BY_ID: "Read a contact by the provider's own id.",
        Capability.READ_BY_EMAIL: "Read a contact by email.",
        Capability.READ_MANY: "Read many contacts (by id or email) in one call.",
        Capability.SEARCH: "Look contacts up by a field value (email, company, text, tag or change "
        "time), as `contacts(filter:)` does.",
        Capability.LIST: "List every contact, page by page (`contacts` without a filter).",
        Capability.WRITE: "Create or update a contact.",
        Capability.WRITE_MANY: "Write many contacts in one call (a batch endpoint).",
        Capability.DELETE: "Delete a contact.",
        Capability.TAGS: "Keep tags on contacts (`tagContact`, `tags`).",
        Capability.LISTS: "Keep lists that contacts are put on (shown as tags of kind LIST).",
        Capability.ACTIVITY: "Keep events of what a contact did (`Contact.activity`).",
        Capability.NOTES: "Keep notes about a contact (activity of kind NOTE).",
        Capability.DO_NOT_CONTACT: "Mark a contact as not to be contacted on a channel "
        "(`setDoNotContact`).",
        Capability.POINTS: "Keep points on a contact (`addPoints`).",
    },
)


@strawberry.enum(description="What a tag is in its provider.")
class TagKind(Enum):
    TAG = strawberry.enum_value(
        "tag", description="A tag (Adaptix tags, Akita's configured tags); on the record."
    )
    LIST = strawberry.enum_value("list", description="A list the contact was put on (Trustmary).")
    SEGMENT = strawberry.enum_value(
        "segment",
        description="A segment the contact is a member of (Adaptix); not on the record: "
        "reading a contact's segments costs one Adaptix call.",
    )


@strawberry.enum(
    name="DoNotContactReason",
    description="Why a contact must not be contacted on a channel (Adaptix `reason`).",
)
class DoNotContactReasonEnum(Enum):
    UNSUBSCRIBED = strawberry.enum_value(
        "unsubscribed", description="The contact unsubscribed (Adaptix reason 1)."
    )
    BOUNCED = strawberry.enum_value(
        "bounced", description="Messages to the contact bounced (Adaptix reason 2)."
    )
    MANUAL = strawberry.enum_value(
        "manual", description="Someone set it by hand (Adaptix reason 3, its default)."
    )
    OTHER = strawberry.enum_value(
        "other",
        description="A value the gateway does not know; the provider's own is in `sources.raw`.",
    )


@strawberry.enum(
    name="ContactType",
    description="What a contact is to your company, where a provider keeps it (Trustmary `type`).",
)
class ContactTypeEnum(Enum):
    CUSTOMER = strawberry.enum_value("customer", description="A customer (Trustmary `customer`).")
    EMPLOYEE = strawberry.enum_value(
        "employee", description="One of your own employees (Trustmary `employee`)."
    )
    OTHER = strawberry.enum_value(
        "other",
        description="A value the gateway does not know; the provider's own is in `sources.raw`.",
    )


@strawberry.enum(
    name="ContactStatus",
    description="Where a contact stands with a provider that keeps a status (Trustmary `status`).",
)
class ContactStatusEnum(Enum):
    ACTIVE = strawberry.enum_value("active", description="A live contact (Trustmary `active`).")
    ERROR = strawberry.enum_value(
        "error",
        description="The provider marked the contact as in error (Trustmary `error`; its "
        "documents say no more).",
    )
    DELETED = strawberry.enum_value(
        "deleted",
        description="Deleted at the provider, which keeps the record (Trustmary `deleted`).",
    )
    UNSUBSCRIBED = strawberry.enum_value(
        "unsubscribed", description="The contact unsubscribed (Trustmary `unsubscribed`)."
    )
    OTHER = strawberry.enum_value(
        "other",
        description="A value the gateway does not know; the provider's own is in `sources.raw`.",
    )


@strawberry.enum(name="ActivityKind", description="What an activity item is.")
class ActivityKindEnum(Enum):
    EVENT = strawberry.enum_value(
        "event", description="Something the contact did or that happened to them (Adaptix events)."
    )
    NOTE = strawberry.enum_value(
        "note",
        description="A note someone wrote about the contact (Adaptix notes, Lunar Send's "
        "`notes` field).",
    )


@strawberry.enum(
    description="What one provider did with a delete. QUEUED: tried again in the "
    "background, as for a write."
)
class DeleteStatus(Enum):
    DELETED = strawberry.enum_value(
        "deleted",
        description="The provider deleted its record (Trustmary keeps it, with status "
        "deleted, and the message says so).",
    )
    SKIPPED = strawberry.enum_value(
        "skipped",
        description="Nothing was sent: the provider's API cannot delete (Akita, Interakt) or "
        "it holds no record of the contact. The message says which.",
    )
    QUEUED = strawberry.enum_value(
        "queued",
        description="The provider failed in a way another try may mend; the gateway tries "
        "again in the background (see `writeOperation`).",
    )
    FAILED = strawberry.enum_value(
        "failed",
        description="The provider refused, or trying again ran out of time; the message is "
        "the provider's.",
    )


__all__ = [
    "JSON",
    "ActivityKindEnum",
    "CapabilityEnum",
    "ContactStatusEnum",
    "ContactTypeEnum",
    "DeleteStatus",
    "DoNotContactReasonEnum",
    "ProviderEnum",
    "TagKind",
    "WriteStatusEnum",
]
