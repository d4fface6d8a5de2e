"""`PersonKey` and `AccountKey`: how the gateway names a person and an account.

A person is found by a normalized email, by the customer's own external id
(Akita `internal_id`, Trustmary `eid`), by the store's id for them, or, when a
record has neither email nor external id, by that one provider record. An
account is found by the customer's external account id, else by the
normalized company name. Both have one text form (`token`),
used inside global ids and cursors, and `parse` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.domain.normalize import normalize_company, normalize_email
from gateway.domain.records import ContactRecord, Provider


class KeyKind(StrEnum):
    EMAIL = "email"
    EXTERNAL_ID = "eid"
    RECORD = "record"
    PERSON = "p"  # the store's id of a person


@dataclass(frozen=True, slots=True)
class PersonKey:
    """A person's key. Build it with `email`, `external_id`, `record` or `of`.

    Attributes:
        kind: what the value is.
        value: the normalized email, the external id, or the provider's remote id.
        provider: for a RECORD key, whose record it is.
    """

    kind: KeyKind
    value: str
    provider: Provider | None = None

    @classmethod
    def email(cls, email: str) -> PersonKey:
        normalized = normalize_email(email)
        if normalized is None:
            raise ValueError("an email key needs a non-blank email")
        return cls(KeyKind.EMAIL, normalized)

    @classmethod
    def external_id(cls, external_id: str) -> PersonKey:
        return cls(KeyKind.EXTERNAL_ID, external_id)

    @classmethod
    def record(cls, provider: Provider, remote_id: str) -> PersonKey:
        return cls(KeyKind.RECORD, remote_id, provider)

    @classmethod
    def person(cls, person_id: str) -> PersonKey:
        return cls(KeyKind.PERSON, person_id)

    @classmethod
    def of(cls, record: ContactRecord) -> PersonKey:
        """The key of the person `record` belongs to: its email, else its external id,
        else the record itself."""
        email = normalize_email(record.email)
        if email:
            return cls(KeyKind.EMAIL, email)
        if record.external_id:
            return cls(KeyKind.EXTERNAL_ID, record.external_id)
        return cls.record(record.provider, record.remote_id)

    @property
    def token(self) -> str:
        """The key as text: `email:<email>`, `eid:<id>` or `<provider>:<remote id>`."""
        if self.kind is KeyKind.RECORD:
            assert self.provider is not None
            return f"{self.provider.value}:{self.value}"
        return f"{self.kind.value}:{self.value}"

    @classmethod
    def parse(cls, token: str) -> PersonKey | None:
        """The key `token` names, or None when it names none."""
        prefix, sep, value = token.partition(":")
        if not sep or not value:
            return None
        if prefix == KeyKind.EMAIL.value:
            email = normalize_email(value)
            return cls(KeyKind.EMAIL, email) if email else None
        if prefix == KeyKind.EXTERNAL_ID.value:
            return cls(KeyKind.EXTERNAL_ID, value)
        if prefix == KeyKind.PERSON.value:
            return cls(KeyKind.PERSON, value)
        try:
            provider = Provider(prefix)
        except ValueError:
            return None
        return cls.record(provider, value)

    def __str__(self) -> str:
        return self.token


class AccountKind(StrEnum):
    EXTERNAL_ID = "ext"
    COMPANY = "company"


@dataclass(frozen=True, slots=True)
class AccountKey:
    """An account's key: the customer's external account id, else the normalized company."""

    kind: AccountKind
    value: str

    @classmethod
    def of(cls, external_id: str | None, company: str | None) -> AccountKey | None:
        if external_id:
            return cls(AccountKind.EXTERNAL_ID, external_id)
        normalized = normalize_company(company)
        return cls(AccountKind.COMPANY, normalized) if normalized else None

    @property
    def token(self) -> str:
        return f"{self.kind.value}:{self.value}"

    @classmethod
    def parse(cls, token: str) -> AccountKey | None:
        prefix, sep, value = token.partition(":")
        if not sep or not value:
            return None
        try:
            return cls(AccountKind(prefix), value)
        except ValueError:
            return None

    def __str__(self) -> str:
        return self.token
