"""Federation: turning provider records into one person.

Pure functions over `ContactRecord`; no I/O. Records join on the normalized
email and on the customer's external id (Akita `internal_id`, Trustmary
`eid`). Each field takes its value from the first provider, in the configured
precedence, whose record has a value for it. An address is taken whole, never
pieced together from several providers; custom fields are taken key by key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.domain.keys import AccountKey, KeyKind, PersonKey
from gateway.domain.normalize import normalize_email
from gateway.domain.records import ContactRecord, Provider, TagRef, WrittenSource

DEFAULT_PRECEDENCE: tuple[Provider, ...] = (
    Provider.ADAPTIX,
    Provider.TRUSTMARY,
    Provider.LUNARSEND,
    Provider.AKITA,
    Provider.INTERAKT,
)

# Unified fields whose value is taken by precedence.
PRECEDENCE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "name",
    "phones",
    "urls",
    "company",
    "job_title",
    "title",
    "address",
    "website",
    "owner",
    "type",
    "status",
    "external_id",
    "account_external_id",
    "points",
    "last_active_at",
    "custom_fields",
)


@dataclass(frozen=True)
class Precedence:
    """Which provider's value wins, per field.

    Args:
        default: the order for every field without its own.
        fields: per-field orders, keyed by unified field name (e.g. "phones").
    """

    default: tuple[Provider, ...] = DEFAULT_PRECEDENCE
    fields: Mapping[str, tuple[Provider, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Ranks are asked for once per field of every contact: compute them once.
        ranks = {name: self._compute_rank(name) for name in (*PRECEDENCE_FIELDS, *self.fields)}
        object.__setattr__(self, "_ranks", ranks)
        object.__setattr__(self, "_default_rank", self._compute_rank(""))

    def order(self, name: str) -> tuple[Provider, ...]:
        chosen = tuple(self.fields.get(name, self.default))
        # Providers missing from a partial order come last, in default order.
        rest = tuple(p for p in self.default if p not in chosen)
        return chosen + rest + tuple(p for p in DEFAULT_PRECEDENCE if p not in chosen + rest)

    def _compute_rank(self, name: str) -> dict[Provider, int]:
        return {p: i for i, p in enumerate(self.order(name))}

    def rank(self, name: str) -> dict[Provider, int]:
        ranks: dict[str, dict[Provider, int]] = self._ranks  # type: ignore[attr-defined]
        found = ranks.get(name)
        if found is None:
            default: dict[Provider, int] = self._default_rank  # type: ignore[attr-defined]
            return default
        return found


_UNRANKED = 99


def _has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


@dataclass(slots=True)
class Person:
    """One person as the gateway shows it: every provider record it came from."""

    key: PersonKey
    sources: list[ContactRecord]
    precedence: Precedence
    # The store's id for this person (None without a store), and what the gateway wrote.
    id: str | None = None
    written: list[WrittenSource] = field(default_factory=list)

    def pick(self, name: str) -> Any:
        """The value shown for unified field `name`: the chosen record's (see `chosen`)."""
        if len(self.sources) == 1:
            value = getattr(self.sources[0], name)
            return value if _has_value(value) else None
        record = self.chosen(name)
        return None if record is None else getattr(record, name)

    def chosen(self, name: str) -> ContactRecord | None:
        """The record `pick(name)` takes its value from: the first, in the field's
        precedence, with a value for it; None when no record has one."""
        if len(self.sources) == 1:
            only = self.sources[0]
            return only if _has_value(getattr(only, name)) else None
        # One pass, no sort: this runs for every field of every contact of a page.
        rank = self.precedence.rank(name)
        best, best_rank = None, _UNRANKED + 1
        for record in self.sources:
            if (
                _has_value(getattr(record, name))
                and (at := rank.get(record.provider, _UNRANKED)) < best_rank
            ):
                best, best_rank = record, at  # strictly better: the earlier record wins a tie
        return best

    def by_precedence(self, name: str) -> list[ContactRecord]:
        """Every record, in the precedence of field `name` (ties keep the records' order,
        as `chosen` breaks them)."""
        rank = self.precedence.rank(name)
        return sorted(self.sources, key=lambda r: rank.get(r.provider, _UNRANKED))

    @property
    def custom_fields(self) -> dict[str, Any]:
        """Every provider's custom fields, each key valued by the first provider in the
        precedence for `custom_fields` whose record has a value for it."""
        if len(self.sources) == 1:
            return {k: v for k, v in self.sources[0].custom_fields.items() if _has_value(v)}
        rank = self.precedence.rank("custom_fields")
        merged: dict[str, Any] = {}
        # Best provider first; a key keeps the first value found for it.
        for record in sorted(self.sources, key=lambda r: rank.get(r.provider, _UNRANKED)):
            for key, value in record.custom_fields.items():
                if _has_value(value) and key not in merged:
                    merged[key] = value
        return merged

    @property
    def emails(self) -> list[str]:
        seen: dict[str, str] = {}
        primary = self.pick("email")
        sources = self.sources if len(self.sources) == 1 else self.ordered_sources()
        for email in [primary, *(e for r in sources for e in [r.email, *r.emails])]:
            norm = normalize_email(email)
            if norm and email and norm not in seen:
                seen[norm] = email.strip()
        return list(seen.values())

    @property
    def tags(self) -> list[tuple[Provider, TagRef]]:
        seen: set[tuple[Provider, str, str]] = set()
        out: list[tuple[Provider, TagRef]] = []
        for record in self.ordered_sources():
            for tag in record.tags:
                marker = (record.provider, tag.kind, tag.name)
                if marker not in seen:
                    seen.add(marker)
                    out.append((record.provider, tag))
        return out

    @property
    def created_at(self) -> datetime | None:
        stamps = [r.created_at for r in self.sources if r.created_at]
        return min(stamps) if stamps else None

    @property
    def updated_at(self) -> datetime | None:
        stamps = [s for r in self.sources if (s := r.updated_at or r.created_at)]
        return max(stamps) if stamps else None

    def ordered_sources(self) -> list[ContactRecord]:
        rank = self.precedence.rank("email")
        return sorted(self.sources, key=lambda r: (rank.get(r.provider, _UNRANKED), r.remote_id))

    def source(self, provider: Provider) -> ContactRecord | None:
        return next((r for r in self.sources if r.provider is provider), None)

    @property
    def account_key(self) -> AccountKey | None:
        return AccountKey.of(self.pick("account_external_id"), self.pick("company"))


def merge(records: Iterable[ContactRecord], precedence: Precedence) -> list[Person]:
    """Group records into people: same normalized email or same external id.

    The result keeps the order in which each person's first record came.
    """
    records = list(records)
    if len(records) == 1:  # the common case: a lookup per person of a page
        return [Person(key=PersonKey.of(records[0]), sources=records, precedence=precedence)]
    # The next most common: every provider's answer to a lookup by one email. Records
    # sharing a primary email are one person whatever else they hold, and that email
    # (the one every record gives) is the person's key.
    shared = normalize_email(records[0].email) if records else None
    if shared and all(normalize_email(r.email) == shared for r in records):
        unique = {(r.provider, r.remote_id): r for r in records}
        key = PersonKey(KeyKind.EMAIL, shared)
        return [Person(key=key, sources=list(unique.values()), precedence=precedence)]
    return joined(records, precedence)


def joined(records: list[ContactRecord], precedence: Precedence) -> list[Person]:
    """`merge` for any records: joined wherever an email or an external id is shared."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[PersonKey, int] = {}
    for i, record in enumerate(records):
        keys: list[PersonKey] = []
        if email := normalize_email(record.email):
            keys.append(PersonKey.email(email))
        keys.extend(PersonKey.email(e) for e in map(normalize_email, record.emails) if e)
        if record.external_id:
            keys.append(PersonKey.external_id(record.external_id))
        for key in keys:
            if key in first_with:
                parent[find(i)] = find(first_with[key])
            else:
                first_with[key] = i

    groups: dict[int, list[ContactRecord]] = {}
    for i, record in enumerate(records):
        groups.setdefault(find(i), []).append(record)
    people = []
    for members in groups.values():
        unique = {(r.provider, r.remote_id): r for r in members}
        person = Person(
            key=PersonKey.of(members[0]), sources=list(unique.values()), precedence=precedence
        )
        chosen_email = normalize_email(person.pick("email"))
        person.key = (
            PersonKey.email(chosen_email)
            if chosen_email
            else PersonKey.of(person.ordered_sources()[0])
        )
        people.append(person)
    return people


def sort_people(people: Iterable[Person]) -> list[Person]:
    """People in the stable order lookups page by: by person key."""
    return sorted(people, key=lambda p: p.key.token)
