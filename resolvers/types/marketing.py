"""`UtmTag`, `DoNotContact` and `ContactCompany`: what a contact's marketing record
holds beside its fields (Adaptix), and `UtmTagInput` to add UTM tags."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain.records import CompanyLink, DoNotContactEntry, Provider, UtmTag, UtmWrite
from resolvers.runtime.errors import InputErrors
from resolvers.types.inputs import camel_field
from resolvers.types.scalars import JSON, DoNotContactReasonEnum, ProviderEnum


@strawberry.type(
    name="UtmTag",
    description="One visit's UTM parameters, kept on the contact's record (Adaptix `utmtags`).",
)
class UtmTagNode:
    id: strawberry.ID = strawberry.field(
        description="The provider's id of the entry: `removeUtmTag(utmTagId:)` takes it."
    )
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider that keeps the entry."
    )
    added_at: datetime | None = strawberry.field(description="When the entry was added.")
    campaign: str | None = strawberry.field(description="`utm_campaign`.")
    source: str | None = strawberry.field(description="`utm_source`.")
    medium: str | None = strawberry.field(description="`utm_medium`.")
    content: str | None = strawberry.field(description="`utm_content`.")
    term: str | None = strawberry.field(description="`utm_term`.")
    url: str | None = strawberry.field(description="The page visited.")
    referer: str | None = strawberry.field(description="The page the visitor came from.")
    user_agent: str | None = strawberry.field(description="The browser's user agent.")
    remote_host: str | None = strawberry.field(description="The visitor's host name.")
    query: JSON = strawberry.field(
        description="Further query parameters, as an object of names and values."
    )

    @classmethod
    def of(cls, provider: Provider, tag: UtmTag) -> UtmTagNode:
        return cls(
            id=strawberry.ID(tag.id),
            provider=provider,
            added_at=tag.added_at,
            campaign=tag.campaign,
            source=tag.source,
            medium=tag.medium,
            content=tag.content,
            term=tag.term,
            url=tag.url,
            referer=tag.referer,
            user_agent=tag.user_agent,
            remote_host=tag.remote_host,
            query=JSON(dict(tag.query)),
        )


@strawberry.type(
    name="DoNotContact",
    description="One channel a contact must not be contacted on, and why (Adaptix `doNotContact`).",
)
class DoNotContactNode:
    channel: str = strawberry.field(description="The channel: `email`, `sms`, ...")
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider that keeps the entry."
    )
    reason: DoNotContactReasonEnum | None = strawberry.field(
        description="Why; null when the provider gives no reason."
    )
    channel_id: strawberry.ID | None = strawberry.field(
        description="The provider's id of what caused it (the email that bounced, the "
        "message unsubscribed from), when it says."
    )
    added_at: datetime | None = strawberry.field(description="When the entry was added.")
    comments: str | None = strawberry.field(description="What was noted with the entry.")

    @classmethod
    def of(cls, provider: Provider, entry: DoNotContactEntry) -> DoNotContactNode:
        return cls(
            channel=entry.channel,
            provider=provider,
            reason=DoNotContactReasonEnum(entry.reason.value) if entry.reason else None,
            channel_id=strawberry.ID(entry.channel_id) if entry.channel_id else None,
            added_at=entry.added_at,
            comments=entry.comments,
        )


@strawberry.type(
    name="ContactCompany",
    description="A company a contact is associated with at a provider (Adaptix companies).",
)
class ContactCompanyNode:
    id: strawberry.ID = strawberry.field(description="The provider's id of the company.")
    provider: ProviderEnum = strawberry.field(  # type: ignore[valid-type]
        description="The provider that keeps the association."
    )
    name: str | None = strawberry.field(description="The company's name.")
    is_primary: bool = strawberry.field(
        description="Whether this is the contact's primary (current) company."
    )
    created_at: datetime | None = strawberry.field(
        description="When the company was created at the provider."
    )
    associated_at: datetime | None = strawberry.field(
        description="When the contact was associated with the company."
    )
    email: str | None = strawberry.field(description="The company's email.")
    city: str | None = strawberry.field(description="The company's city.")
    score: int | None = strawberry.field(description="The company's score at the provider.")

    @classmethod
    def of(cls, provider: Provider, company: CompanyLink) -> ContactCompanyNode:
        return cls(
            id=strawberry.ID(company.id),
            provider=provider,
            name=company.name,
            is_primary=company.is_primary,
            created_at=company.created_at,
            associated_at=company.associated_at,
            email=company.email,
            city=company.city,
            score=company.score,
        )


_UTM_TEXT = (
    "campaign",
    "source",
    "medium",
    "content",
    "term",
    "url",
    "referer",
    "user_agent",
    "remote_host",
)


@strawberry.input(
    description="UTM parameters of one visit, to add to a contact: at least one of them "
    "(`lastActive` alone is not enough)."
)
class UtmTagInput:
    campaign: str | None = strawberry.field(default=None, description="`utm_campaign`.")
    source: str | None = strawberry.field(default=None, description="`utm_source`.")
    medium: str | None = strawberry.field(default=None, description="`utm_medium`.")
    content: str | None = strawberry.field(default=None, description="`utm_content`.")
    term: str | None = strawberry.field(default=None, description="`utm_term`.")
    url: str | None = strawberry.field(default=None, description="The page visited.")
    referer: str | None = strawberry.field(
        default=None, description="The page the visitor came from."
    )
    user_agent: str | None = strawberry.field(
        default=None,
        description="The browser's user agent (Adaptix also records the device it names).",
    )
    remote_host: str | None = strawberry.field(default=None, description="The visitor's host name.")
    query: JSON | None = strawberry.field(
        default=None,
        description="Further query parameters: an object of names and text, number or "
        "boolean values, or a query string (`a=1&b=2`).",
    )
    last_active: datetime | None = strawberry.field(
        default=None,
        description="When the visit happened; the contact's `lastActiveAt` moves to it.",
    )

    def to_write(self, where: str = "utm") -> UtmWrite:
        """The UTM tags to add; every problem a BAD_USER_INPUT naming its field.

        Raises:
            BadUserInput: a value is blank, the query is neither an object of scalars
                nor a string, or no parameter is given.
        """
        errors = InputErrors(where)
        texts: dict[str, str | None] = {}
        for name in _UTM_TEXT:
            value = getattr(self, name)
            if value is not None and not value.strip():
                field = f"{where}.{camel_field(name)}"
                errors.refuse(f"{field} is blank", field=field)
            texts[name] = value.strip() if value is not None and value.strip() else None
        query: dict[str, str] | str | None = None
        if isinstance(self.query, str):
            query = self.query.strip().lstrip("?") or None
        elif isinstance(self.query, dict):
            scalars = (str, int, float, bool)
            if all(isinstance(v, scalars) for v in self.query.values()):
                query = {str(k): _text(v) for k, v in self.query.items()} or None
            else:
                errors.refuse(
                    f"{where}.query: every value must be text, a number or a boolean",
                    field=f"{where}.query",
                )
        elif self.query is not None:
            errors.refuse(
                f"{where}.query must be an object or a query string", field=f"{where}.query"
            )
        if not errors and query is None and not any(texts.values()):
            errors.refuse(f"{where}: give at least one UTM parameter", field=where)
        errors.raise_any()
        return UtmWrite(**texts, query=query, last_active=self.last_active)


def _text(value: str | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
