"""The unified model every connector maps to and from.

`ContactRecord` is one provider's record of a person; `ContactWrite` is a
write request; `WriteResult` says what one provider did with one write. All of
it is plain data: no I/O, no GraphQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from gateway.domain.normalize import normalize_email


class Provider(StrEnum):
    """The providers the gateway federates; the value is the configuration key."""

    AKITA = "akita"
    INTERAKT = "interakt"
    TRUSTMARY = "trustmary"
    ADAPTIX = "adaptix"
    LUNARSEND = "lunarsend"


class Capability(StrEnum):
    """What the gateway can do with a provider, as the schema lists it.

    Derived from the protocols a connector implements (`connectors.protocol`),
    never declared beside them.
    """

    READ_BY_ID = "read_by_id"
    READ_BY_EMAIL = "read_by_email"
    READ_MANY = "read_many"  # many keys answered by one provider call
    SEARCH = "search"  # lookup by a field value (company, text, tag)
    LIST = "list"  # enumerate every contact page by page
    WRITE = "write"
    WRITE_MANY = "write_many"  # a batch endpoint for many writes in one call
    DELETE = "delete"
    TAGS = "tags"
    LISTS = "lists"
    ACTIVITY = "activity"
    NOTES = "notes"
    DO_NOT_CONTACT = "do_not_contact"
    POINTS = "points"


class WriteStatus(StrEnum):
    """What a provider did with a write. DELETED only answers a delete; QUEUED: it
    failed in a way another try may mend, and the write journal will try again."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    SKIPPED = "skipped"
    QUEUED = "queued"
    FAILED = "failed"

    @property
    def succeeded(self) -> bool:
        return self in (WriteStatus.CREATED, WriteStatus.UPDATED, WriteStatus.DELETED)


class SearchField(StrEnum):
    """The fields a `connectors.protocol.Searcher` can look up by."""

    EMAIL = "email"
    COMPANY = "company"
    TEXT = "text"
    TAG = "tag"
    # Created or changed after a time (the value: an ISO 8601 date-time with offset).
    UPDATED_SINCE = "updated_since"


@dataclass(frozen=True, slots=True)
class TagRef:
    """A tag as attached to a contact. `kind` is "tag", "list" or "segment"."""

    name: str
    kind: str = "tag"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class TagInfo:
    """A tag a provider knows about, with how many contacts carry it when known."""

    provider: Provider
    name: str
    kind: str
    id: str | None = None
    count: int | None = None


class ActivityKind(StrEnum):
    """What an activity item is: something that happened, or a note someone wrote."""

    EVENT = "event"
    NOTE = "note"


class _OpenEnum(StrEnum):
    """A set of values providers may add to: a value no member has is OTHER."""

    @classmethod
    def of(cls, value: str | None) -> Self | None:
        """The member for `value`; None for None or blank, OTHER for an unknown value."""
        if not value:
            return None
        try:
            return cls(value)
        except ValueError:
            return cls("other")


class ContactType(_OpenEnum):
    """What a contact is to the customer, where a provider keeps it (Trustmary `type`).

    OTHER stands for a value the gateway does not know; the record's `raw` keeps the
    provider's own.
    """

    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    OTHER = "other"


class Lifecycle(StrEnum):
    """Whether a person has signed up for the customer's own service: an Interakt
    member (signed up) or lead (not yet)."""

    LEAD = "lead"
    MEMBER = "member"


class ContactStatus(_OpenEnum):
    """Where a contact stands with a provider (Trustmary `status`); OTHER as for
    `ContactType`."""

    ACTIVE = "active"
    ERROR = "error"
    DELETED = "deleted"
    UNSUBSCRIBED = "unsubscribed"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A contact's postal address, as one provider keeps it; at least one part is set."""

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    @classmethod
    def of(cls, **parts: str | None) -> PostalAddress | None:
        """The address of these parts; None when every part is missing."""
        address = cls(**parts)  # unknown parts are a TypeError, set or not
        return address if any(parts.values()) else None  # the parts not given are None


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """The provider user a contact is assigned to (Adaptix `owner`)."""

    id: str
    name: str | None = None
    email: str | None = None


class DoNotContactReason(_OpenEnum):
    """Why a contact must not be contacted on a channel (Adaptix `reason`: 1, 2, 3);
    OTHER as for `ContactType`."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    MANUAL = "manual"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DoNotContactEntry:
    """One do-not-contact entry: a channel, and why, since when and what was noted."""

    channel: str
    reason: DoNotContactReason | None = None
    # The id of what caused it (an email that bounced, a form unsubscribed from).
    channel_id: str | None = None
    added_at: datetime | None = None
    comments: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class UtmTag:
    """One visit's UTM parameters, as a provider keeps them on a contact (Adaptix)."""

    id: str
    added_at: datetime | None = None
    campaign: str | None = None
    source: str | None = None
    medium: str | None = None
    content: str | None = None
    term: str | None = None
    url: str | None = None
    referer: str | None = None
    user_agent: str | None = None
    remote_host: str | None = None
    query: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UtmWrite:
    """UTM parameters to add to a contact; None means "not given". `query` is a
    mapping of extra query parameters, or a query string."""

    campaign: str | None = None
    source: str | None = None
    medium: str | None = None
    content: str | None = None
    term: str | None = None
    url: str | None = None
    referer: str | None = None
    user_agent: str | None = None
    remote_host: str | None = None
    query: Mapping[str, str] | str | None = None
    last_active: datetime | None = None

    def values(self) -> dict[str, Any]:
        """The parameters given, as JSON-ready values (the write journal keeps them)."""
        found: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Mapping):
                value = dict(value)
            found[item.name] = value
        return found

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> UtmWrite:
        """The write `values` (from `values()`) describes."""
        found = dict(values)
        if isinstance(found.get("last_active"), str):
            found["last_active"] = datetime.fromisoformat(found["last_active"])
        return cls(**found)


@dataclass(frozen=True, slots=True)
class CompanyLink:
    """A company a contact is associated with at a provider (Adaptix)."""

    id: str
    name: str | None = None
    # The current association, of possibly several.
    is_primary: bool = False
    # When the company was created at the provider, and when the contact joined it.
    created_at: datetime | None = None
    associated_at: datetime | None = None
    email: str | None = None
    city: str | None = None
    score: int | None = None


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One event or note in a contact's history."""

    provider: Provider
    contact_remote_id: str
    id: str
    kind: ActivityKind
    type: str
    label: str | None
    timestamp: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ContactRecord:
    """One provider's record of a person, mapped to the unified model."""

    provider: Provider
    remote_id: str
    email: str | None = None
    emails: list[str] = field(default_factory=list)
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    phones: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    company: str | None = None
    job_title: str | None = None
    # A salutation such as Mr or Dr (Adaptix `title`), not a job title.
    title: str | None = None
    address: PostalAddress | None = None
    website: str | None = None
    owner: OwnerRef | None = None
    type: ContactType | None = None
    status: ContactStatus | None = None
    # A member or a lead (Interakt keeps them apart), as the gateway wrote the record;
    # None where the provider has no such thing or the write did not say.
    lifecycle: Lifecycle | None = None
    tags: list[TagRef] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    account_external_id: str | None = None
    points: int | None = None
    do_not_contact: list[str] = field(default_factory=list)
    # The same entries with their details, where the provider keeps them (Adaptix).
    do_not_contact_entries: list[DoNotContactEntry] = field(default_factory=list)
    utm_tags: list[UtmTag] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # When the provider last saw the person active (Adaptix `lastActive`).
    last_active_at: datetime | None = None
    # Activity the record itself carries (e.g. a notes field), free to read.
    inline_activity: list[ActivityRecord] = field(default_factory=list)
    raw: Mapping[str, Any] = field(default_factory=dict)
    # When the gateway read it from the provider (earlier than now: from the record cache).
    fetched_at: datetime | None = None

    @property
    def email_key(self) -> str | None:
        return normalize_email(self.email)


@dataclass(frozen=True, slots=True)
class WrittenSource:
    """A provider record the gateway wrote, as it remembers it: when, and what it sent
    (the only view of Akita and Interakt records, which cannot be read)."""

    provider: Provider
    remote_id: str
    written_at: datetime
    written: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContactWrite:
    """A write request in the unified model. None means "not given"."""

    email: str | None = None
    external_id: str | None = None
    account_external_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phones: tuple[str, ...] | None = None
    company: str | None = None
    job_title: str | None = None
    tags: tuple[str, ...] | None = None
    custom_fields: Mapping[str, Any] | None = None
    urls: tuple[str, ...] | None = None
    notes: str | None = None
    type: ContactType | None = None
    # None: a member when `external_id` is given, else a lead (Interakt).
    lifecycle: Lifecycle | None = None
    address: PostalAddress | None = None
    signed_up_at: datetime | None = None
    owner_id: str | None = None

    def given(self) -> list[str]:
        """Names of the fields this write sets, in declaration order."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def given_parts(self, name: str) -> list[str]:
        """The parts of a structured field this write sets (`address.city`); [] for
        a field that has no parts or is not given."""
        value = getattr(self, name)
        if not isinstance(value, PostalAddress):
            return []
        return [f"{name}.{f.name}" for f in fields(value) if getattr(value, f.name) is not None]

    def values(self) -> dict[str, Any]:
        """The fields this write sets, as JSON-ready values (the write journal keeps
        them; `of_values` reads them back)."""
        return {name: _to_json(getattr(self, name)) for name in self.given()}

    @classmethod
    def of_values(cls, values: Mapping[str, Any]) -> ContactWrite:
        """The write `values()` described."""
        return cls(**_from_json(values))

    @property
    def full_name(self) -> str | None:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None


@dataclass(frozen=True, slots=True)
class ContactChange:
    """A change to a contact a provider already holds, in the unified model.

    `values` holds every field given, by `ContactWrite` field name: a value sets the
    field, None clears it; a field left out is left as it is. `custom_fields` and
    `address` are changed part by part: a mapping of the keys (custom field aliases,
    `PostalAddress` part names) given, None clearing one; `address` given as None
    clears every part.
    """

    values: Mapping[str, Any]

    @classmethod
    def of_write(cls, write: ContactWrite) -> ContactChange:
        """The change an upsert makes to a contact that exists: the fields it sets."""
        values = {name: getattr(write, name) for name in write.given()}
        if write.address is not None:
            values["address"] = _address_parts(write.address)
        return cls(values)

    @classmethod
    def of_json(cls, values: Mapping[str, Any]) -> ContactChange:
        """From `json()` (as the write journal keeps it)."""
        found = dict(values)
        address = found.pop("address", _MISSING)
        found = _from_json(found)
        if address is not _MISSING:
            found["address"] = dict(address) if isinstance(address, Mapping) else None
        return cls(found)

    def given(self) -> list[str]:
        """Names of the fields given (set or cleared), in `ContactWrite` order."""
        return [f.name for f in fields(ContactWrite) if f.name in self.values]

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> Any:
        """The value given for `name`; None when it is cleared or not given."""
        return self.values.get(name)

    def cleared(self) -> list[str]:
        return [name for name in self.given() if self.values[name] is None]

    def address(self) -> dict[str, str | None]:
        """The address parts given, by `PostalAddress` part name: a value sets the part,
        None clears it. Every part is None when the address is cleared whole; {} when
        it is not given."""
        if not self.has("address"):
            return {}
        parts = self.values["address"]
        if parts is None:
            return {f.name: None for f in fields(PostalAddress)}
        if isinstance(parts, PostalAddress):
            return _address_parts(parts)
        return dict(parts)

    def json(self) -> dict[str, Any]:
        """The fields given as JSON-ready values (lists for tuples; null to clear)."""
        found = {name: _to_json(value) for name, value in self.values.items()}
        if self.has("address") and self.values["address"] is not None:
            found["address"] = self.address()  # a cleared part stays: null
        return found


_MISSING = object()


def _address_parts(address: PostalAddress) -> dict[str, str | None]:
    """The parts `address` sets, by part name."""
    parts = {f.name: getattr(address, f.name) for f in fields(address)}
    return {part: value for part, value in parts.items() if value is not None}


def _to_json(value: Any) -> Any:
    """A `ContactWrite` field's value as the write journal's JSON holds it."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, PostalAddress):
        return _address_parts(value)
    return value


def _from_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """`ContactWrite` field values from the JSON `_to_json` made of them."""
    found = dict(values)
    for name in ("phones", "tags", "urls"):
        if isinstance(found.get(name), list):
            found[name] = tuple(found[name])
    if found.get("type") is not None:
        found["type"] = ContactType(found["type"])
    if found.get("lifecycle") is not None:
        found["lifecycle"] = Lifecycle(found["lifecycle"])
    if isinstance(found.get("address"), Mapping):
        found["address"] = PostalAddress(**found["address"])
    if isinstance(found.get("signed_up_at"), str):
        found["signed_up_at"] = datetime.fromisoformat(found["signed_up_at"])
    return found


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one provider did with one write, told honestly.

    `dropped_fields` names the `ContactWrite` fields (or `field[index]` for
    list items) the provider did not store although they were given.
    `contact` is the provider's record as the write left it, when its answer
    carried one.
    """

    provider: Provider
    status: WriteStatus
    remote_id: str | None = None
    message: str | None = None
    dropped_fields: tuple[str, ...] = ()
    contact: ContactRecord | None = None
    # For a FAILED write, what the write journal needs: whether another try may land
    # it (the provider was down, refused for its rate, or never answered), whether
    # the request may have reached the provider although no answer came
    # (`outcome_unknown`), and how long the provider asked to wait.
    retriable: bool = False
    outcome_unknown: bool = False
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an enumeration.

    `positions[i]` is the cursor that lists what comes after `contacts[i]` (a key of
    that record, not an offset: records deleted or added meanwhile neither shift nor
    repeat what follows); `next_cursor` is the last one, or None on the last page.
    """

    contacts: list[ContactRecord]
    next_cursor: str | None
    total: int | None = None
    positions: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Health:
    provider: Provider
    ok: bool
    latency_ms: float | None = None
    message: str | None = None
