"""The unified model shared by every connector.

Connectors map provider records to `Contact` and map `ContactInput` to provider
payloads. Everything here is plain data: no I/O, no GraphQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Provider(StrEnum):
    """The providers the gateway federates; the value is the configuration key."""

    AKITA = "akita"
    INTERAKT = "interakt"
    TRUSTMARY = "trustmary"
    ADAPTIX = "adaptix"
    LUNARSEND = "lunarsend"


class Capability(StrEnum):
    """What a connector can do; callers check these before calling a method."""

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
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"


class SearchField(StrEnum):
    """The fields `Connector.search` can look up by."""

    EMAIL = "email"
    COMPANY = "company"
    TEXT = "text"
    TAG = "tag"


def normalize_email(email: str | None) -> str | None:
    """The join key for emails: trimmed and case-folded; None for blank."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def normalize_company(company: str | None) -> str | None:
    """The join key for company names: case-folded, inner whitespace collapsed."""
    if company is None:
        return None
    cleaned = " ".join(company.split()).lower()
    return cleaned or None


def clean_text(value: Any) -> str | None:
    """A provider's value as trimmed text; None for null, booleans and blanks."""
    if value is None or isinstance(value, bool):
        return None
    return str(value).strip() or None


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime (no offset means UTC); None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TagRef:
    """A tag as attached to a contact. `kind` is "tag", "list" or "segment"."""

    name: str
    kind: str = "tag"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag a provider knows about, with how many contacts carry it when known."""

    provider: Provider
    name: str
    kind: str
    id: str | None = None
    count: int | None = None


@dataclass(slots=True)
class Contact:
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
    type: str | None = None
    status: str | None = None
    tags: list[TagRef] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    account_external_id: str | None = None
    points: int | None = None
    do_not_contact: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Activity the record itself carries (e.g. a notes field), free to read.
    inline_activity: list[Activity] = field(default_factory=list)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def email_key(self) -> str | None:
        return normalize_email(self.email)


@dataclass(frozen=True, slots=True)
class ContactInput:
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

    def given(self) -> list[str]:
        """Names of the fields this input sets, in declaration order."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    @property
    def full_name(self) -> str | None:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one provider did with one write, told honestly.

    `dropped_fields` names the `ContactInput` fields (or `field[index]` for
    list items) the provider did not store although they were given.
    """

    provider: Provider
    status: WriteStatus
    remote_id: str | None = None
    message: str | None = None
    dropped_fields: tuple[str, ...] = ()
    contact: Contact | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an enumeration; `next_cursor` is None on the last page."""

    contacts: list[Contact]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """One event or note in a contact's history."""

    provider: Provider
    contact_remote_id: str
    id: str
    kind: str  # "event" or "note"
    type: str
    label: str | None
    timestamp: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Health:
    provider: Provider
    ok: bool
    latency_ms: float | None = None
    message: str | None = None
