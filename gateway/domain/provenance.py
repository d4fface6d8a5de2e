"""Provenance: which provider each shown value came from, and where providers disagree.

Pure functions over a `Person`; no I/O. Both read only what `Person` already
holds, so asking for them costs no provider call.

Only readable provider records count (`Person.sources`). What the gateway wrote
to Akita and Interakt (`Person.written`) does not: it is what the gateway sent,
not what the provider holds now (their own users and imports change records
the gateway cannot read back), and no shown value is ever taken from it.

Fields merged from every record rather than picked from one (`emails`,
`do_not_contact`, tags) have no single source and no conflict: every value is
shown.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.domain.federation import PRECEDENCE_FIELDS, Person
from gateway.domain.normalize import (
    normalize_company,
    normalize_email,
    normalize_text,
    normalize_url,
    phone_key,
)
from gateway.domain.records import ContactRecord, Provider


@dataclass(frozen=True, slots=True)
class FieldSource:
    """The provider record a shown field's value came from, and when it last changed
    (None when the provider does not say: Lunar Send keeps only a creation time)."""

    field: str
    provider: Provider
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One provider's value of a field, as the provider holds it."""

    provider: Provider
    value: Any
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """A field whose providers hold different values: every provider's value, in the
    field's precedence (the first is the one shown)."""

    field: str
    values: tuple[FieldValue, ...]


def source_of(person: Person, name: str) -> ContactRecord | None:
    """The record the value shown for unified field `name` came from.

    A contact's `name`, when no record holds one, is made of the chosen first and
    last names: its source is then the first name's record (else the last name's).
    """
    found = person.chosen(name)
    if found is None and name == "name":
        found = person.chosen("first_name") or person.chosen("last_name")
    return found


def field_sources(person: Person, fields: Iterable[str] = PRECEDENCE_FIELDS) -> list[FieldSource]:
    """For each of `fields` (unified names, in the order given) that shows a value, the
    provider that supplied it."""
    found = []
    for name in fields:
        record = source_of(person, name)
        if record is not None:
            found.append(FieldSource(name, record.provider, record.updated_at))
    return found


def conflicts(person: Person, fields: Iterable[str] = PRECEDENCE_FIELDS) -> list[FieldConflict]:
    """The `fields` (in the order given) where two or more records hold different
    non-empty values once normalized (`comparable`)."""
    if len(person.sources) < 2:
        return []
    found = []
    for name in fields:
        held: list[FieldValue] = []
        forms: set[Hashable] = set()
        for record in person.by_precedence(name):
            value = getattr(record, name)
            form = comparable(name, value)
            if form is not None:
                held.append(FieldValue(record.provider, value, record.updated_at))
                forms.add(form)
        if len(forms) > 1:
            found.append(FieldConflict(name, tuple(held)))
    return found


def _exact(value: str | None) -> str | None:
    return (value or "").strip() or None


_TEXT_FORMS: dict[str, Callable[[str | None], str | None]] = {
    "email": normalize_email,
    "company": normalize_company,
    # Ids are the customer's own keys: only surrounding whitespace is not part of one.
    "external_id": _exact,
    "account_external_id": _exact,
}
_LIST_FORMS: dict[str, Callable[[str | None], str | None]] = {
    "phones": phone_key,
    "urls": normalize_url,
    "emails": normalize_email,
}


def comparable(name: str, value: Any) -> Hashable | None:
    """The form in which two providers' values of field `name` compare: emails
    case-insensitively, phones by digits, companies, names and other text
    case-insensitively with whitespace collapsed, lists as sets. None for a value
    that is empty in that form."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        form = _LIST_FORMS.get(name, normalize_text)
        items = frozenset(f for f in map(form, (str(v) for v in value)) if f)
        return items or None
    if isinstance(value, str):
        return _TEXT_FORMS.get(name, normalize_text)(value)
    if isinstance(value, Hashable):
        return value
    return repr(value)
