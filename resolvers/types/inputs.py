"""Input types and their validation: bad input is refused before anything is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from urllib.parse import urlsplit

import strawberry

from gateway.domain.normalize import parse_email
from gateway.domain.phones import DEFAULT_REGION, PhoneError, normalize_phone
from gateway.domain.records import (
    ContactChange,
    ContactType,
    ContactWrite,
    Lifecycle,
    PostalAddress,
    Provider,
)
from resolvers.runtime.errors import BadUserInput, InputErrors
from resolvers.services.listing import ListingFilter, Order, OrderField
from resolvers.types.scalars import JSON, ContactTypeEnum, ProviderEnum


@strawberry.enum(
    name="ContactLifecycle",
    description="Whether a person has signed up for your own service (Interakt keeps "
    "members and leads apart).",
)
class ContactLifecycleEnum(Enum):
    LEAD = strawberry.enum_value(
        "lead", description="Not signed up (yet): Interakt writes a lead (`POST /leads`)."
    )
    MEMBER = strawberry.enum_value(
        "member",
        description="Signed up for your service: Interakt writes a member (`POST /members`, "
        "with `externalId` as its `user_id`).",
    )


@strawberry.input(
    description=(
        "A postal address to write: Adaptix stores every part, Interakt the city and the "
        "country, the other providers none (each result's `droppedFields` names what it "
        "did not store, as `address` or `address.<part>`). A part left out keeps what the "
        "provider has."
    )
)
class AddressInput:
    line1: str | None = strawberry.field(
        default=None, description="Street and number (Adaptix `address1`)."
    )
    line2: str | None = strawberry.field(
        default=None, description="More of the street address (Adaptix `address2`)."
    )
    city: str | None = strawberry.field(
        default=None, description="City (Adaptix `city`, Interakt `city`)."
    )
    state: str | None = strawberry.field(
        default=None, description="State or region (Adaptix `state`)."
    )
    postal_code: str | None = strawberry.field(
        default=None, description="Postal or zip code (Adaptix `zipcode`)."
    )
    country: str | None = strawberry.field(
        default=None,
        description="Country, by name (`United States`; Adaptix `country`, Interakt `country`).",
    )


@strawberry.input(
    name="AddressPatch",
    description=(
        "A change to a contact's postal address, part by part: a part given is set, a part "
        "given as null is cleared (Adaptix: sent blank with `overwriteWithBlank`), a part "
        "left out is kept. Adaptix keeps every part, Interakt the city and the country (and "
        "clears none), the other providers none."
    ),
)
class AddressPatchInput:
    line1: str | None = strawberry.field(
        default=strawberry.UNSET, description="Street and number (Adaptix `address1`)."
    )
    line2: str | None = strawberry.field(
        default=strawberry.UNSET, description="More of the street address (Adaptix `address2`)."
    )
    city: str | None = strawberry.field(
        default=strawberry.UNSET, description="City (Adaptix `city`, Interakt `city`)."
    )
    state: str | None = strawberry.field(
        default=strawberry.UNSET, description="State or region (Adaptix `state`)."
    )
    postal_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="Postal or zip code (Adaptix `zipcode`)."
    )
    country: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Country, by name (`United States`; Adaptix `country`, Interakt `country`).",
    )


ADDRESS_PARTS = ("line1", "line2", "city", "state", "postal_code", "country")
WEB_SCHEMES = ("http", "https")
# Interakt takes a unix timestamp; earlier than this is no sign-up time.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@strawberry.input(
    description=(
        "A contact to write. Every field is optional here; what each provider needs differs "
        "(Akita: externalId and accountExternalId; Interakt, Trustmary, Adaptix, Lunar Send: "
        "email) and each provider's result says what it lacked or could not store."
    )
)
class ContactInput:
    email: str | None = strawberry.field(
        default=None,
        description="An email address: a local part, `@`, a domain with a dot, no spaces "
        "(the rule for every email the gateway is given). Case is kept; contacts join on it "
        "case-insensitively.",
    )
    external_id: str | None = strawberry.field(
        default=None, description="Your own user id (Akita internal_id, Trustmary eid)."
    )
    account_external_id: str | None = strawberry.field(
        default=None, description="Your own account id (Akita internal_account_id)."
    )
    first_name: str | None = strawberry.field(
        default=None,
        description="First name: Akita `first_name`, Adaptix `firstname`, Lunar Send "
        "`first_name` (it needs one to create a contact); Trustmary and Interakt keep one "
        "`name` (Interakt only when the last name is given too).",
    )
    last_name: str | None = strawberry.field(
        default=None,
        description="Last name: Akita `last_name`, Adaptix `lastname`, Lunar Send "
        "`last_name`; with the first name, the `name` of Trustmary and Interakt.",
    )
    phones: list[str] | None = strawberry.field(
        default=None,
        description="Phone numbers, each written to the providers in E.164 "
        "(`+15550100100`); one without a leading `+` is read in the gateway's default "
        "region (`[input] default_phone_region`). A number no country's plan allows is "
        "BAD_USER_INPUT naming its index.",
    )
    company: str | None = strawberry.field(
        default=None,
        description="Company name (Akita stores it as the account's name; Lunar Send takes "
        "it only when it creates the contact).",
    )
    job_title: str | None = strawberry.field(
        default=None,
        description="Job title (Adaptix `position`, Interakt `job_title`; Lunar Send takes it "
        "only when it creates the contact).",
    )
    tags: list[str] | None = strawberry.field(
        default=None,
        description="Tag names: Adaptix tags, Trustmary list names, Akita tags from the "
        "configured name-to-id map.",
    )
    custom_fields: JSON | None = strawberry.field(
        default=None, description="A JSON object of provider custom fields by alias."
    )
    urls: list[str] | None = strawberry.field(
        default=None,
        description="Web addresses (absolute, http or https): Akita keeps them all (`urls`, "
        "labelled `Website`), Adaptix the first as `website`, Interakt the first as `url`. "
        "One that is not a web address is BAD_USER_INPUT naming its index.",
    )
    notes: str | None = strawberry.field(
        default=None,
        description="Free text about the contact: Lunar Send `notes`, which it takes only "
        "when it creates the contact (it lets an existing contact's name, email and phone "
        "alone be edited, so an update reports `notes` dropped).",
    )
    type: ContactTypeEnum | None = strawberry.field(
        default=None,
        description="CUSTOMER or EMPLOYEE: Trustmary `type` (a new Trustmary contact is a "
        "customer when left out). OTHER stands for a value read that the gateway does not "
        "know and cannot be written: BAD_USER_INPUT.",
    )
    lifecycle: ContactLifecycleEnum | None = strawberry.field(
        default=None,
        description="Whether the person signed up for your service: Interakt writes a "
        "MEMBER to `/members` and a LEAD to `/leads`. Left out: MEMBER when `externalId` is "
        "given, else LEAD. Interakt keeps the two apart: one email written as both is two "
        "Interakt records. A lead has no user id there, so a LEAD's `externalId` is dropped "
        "at Interakt.",
    )
    address: AddressInput | None = strawberry.field(
        default=None, description="A postal address (Adaptix all of it, Interakt city and country)."
    )
    signed_up_at: datetime | None = strawberry.field(
        default=None,
        description="When the person signed up for your service, with a time zone offset "
        "(`2026-01-31T09:00:00Z`), not before 1970: Interakt `signedup_at`, sent as a unix "
        "timestamp.",
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The Adaptix user the contact is assigned to, by id (a number, as "
        "`Contact.owner.id` shows it). An id Adaptix does not know makes Adaptix refuse the "
        "write (FAILED, with its message).",
    )

    def to_write(
        self, where: str = "input", *, phone_region: str | None = DEFAULT_REGION
    ) -> ContactWrite:
        """Check and convert: phones in E.164, strings trimmed.

        Args:
            where: how the input is named in errors (`input`, `inputs[3]`).
            phone_region: the region of a phone without a leading `+`; None keeps such
                a number as given (for a client that does not know the gateway's).

        Raises:
            BadUserInput: naming the field at fault; `BadUserInputs` when several are.
        """
        errors = InputErrors(where)
        write = self.check(where, errors, phone_region=phone_region)
        errors.raise_any()
        return write

    def check(self, where: str, errors: InputErrors, *, phone_region: str | None) -> ContactWrite:
        """This input converted, every problem with it added to `errors` (what is
        returned is only of use when none was)."""
        before = errors.count
        strings = {
            name: _text(getattr(self, name), f"{where}.{_camel(name)}", errors, BLANK_INPUT)
            for name in (*TEXT_FIELDS, "notes", "owner_id")
        }
        email = strings["email"]
        _check_email(email, f"{where}.email", errors)
        phones = _phones(self.phones, f"{where}.phones", phone_region, errors)
        tags = _clean_list(self.tags, f"{where}.tags", errors)
        for i, tag in enumerate(tags or ()):
            if tag.startswith("-"):
                errors.refuse(
                    f"{where}.tags[{i}] must not start with '-'; use untagContact to remove a tag",
                    field=f"{where}.tags[{i}]",
                )
        custom = self.custom_fields
        if custom is not None:
            _check_custom(custom, f"{where}.customFields", errors)
        urls = _urls(self.urls, f"{where}.urls", errors)
        contact_type = _contact_type(self.type, f"{where}.type", errors)
        address = _address(self.address, f"{where}.address", errors)
        signed_up_at = _signed_up_at(self.signed_up_at, f"{where}.signedUpAt", errors)
        owner_id = strings["owner_id"]
        _check_owner_id(owner_id, f"{where}.ownerId", errors)
        unified = ContactWrite(
            email=email,
            external_id=strings["external_id"],
            account_external_id=strings["account_external_id"],
            first_name=strings["first_name"],
            last_name=strings["last_name"],
            phones=phones,
            company=strings["company"],
            job_title=strings["job_title"],
            tags=tags,
            custom_fields=dict(custom) if isinstance(custom, Mapping) else None,
            urls=urls,
            notes=strings["notes"],
            type=contact_type,
            lifecycle=Lifecycle[self.lifecycle.name] if self.lifecycle is not None else None,
            address=address,
            signed_up_at=signed_up_at,
            owner_id=owner_id,
        )
        # A blank field is already reported: that it left the input empty is not news.
        if errors.count == before and not unified.given():
            errors.refuse(f"{where} is empty: give at least one field", field=where)
        return unified


TEXT_FIELDS = (
    "email",
    "external_id",
    "account_external_id",
    "first_name",
    "last_name",
    "company",
    "job_title",
)
BLANK_INPUT = "leave it out to keep what the providers have"
BLANK_PATCH = "give null to clear it, or leave it out to keep it"


@strawberry.input(
    name="ContactPatch",
    description=(
        "A change to a known contact: a field left out is kept as each provider has it, a "
        "field given is set, and a field given as null is cleared (Adaptix: "
        "`overwriteWithBlank`). Checked by the rules of ContactInput. Tags are not here: "
        "`tagContact` and `untagContact` add and remove them one by one, which a list "
        "given whole could not say. Nor is `lifecycle`: it chooses where Interakt writes "
        "(members or leads, which it keeps apart), not a value it stores, so a change goes "
        "to the record the contact was written as; to write a lead as a member, upsert it "
        "with `lifecycle: MEMBER` (Interakt then holds both)."
    ),
)
class ContactPatchInput:
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new email address (the rule of ContactInput.email). Trustmary and "
        "Interakt key contacts by email and cannot change it; Lunar Send cannot clear it.",
    )
    external_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Your own user id (Trustmary eid; Akita keys contacts by it, so it "
        "cannot change there).",
    )
    account_external_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="Your own account id (Akita internal_account_id)."
    )
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="First name.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Last name.")
    phones: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The phone numbers, replacing those held (each in E.164, as in "
        "ContactInput.phones); null or an empty list clears them.",
    )
    company: str | None = strawberry.field(default=strawberry.UNSET, description="Company name.")
    job_title: str | None = strawberry.field(default=strawberry.UNSET, description="Job title.")
    custom_fields: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="A JSON object of custom fields by alias, changed key by key: a key "
        "given null clears that field, keys left out are kept. It cannot be null as a "
        "whole: name the fields to clear.",
    )
    urls: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The web addresses, replacing those held (each as in ContactInput.urls): "
        "Akita keeps them all, Adaptix the first as `website`, Interakt the first as `url`; "
        "null or an empty list clears them (not at Interakt, which cannot clear).",
    )
    notes: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Free text about the contact. Lunar Send, the one provider keeping "
        "notes, takes them only when it creates a contact: a change reports `notes` dropped.",
    )
    type: ContactTypeEnum | None = strawberry.field(
        default=strawberry.UNSET,
        description="CUSTOMER or EMPLOYEE (Trustmary `type`). It cannot be null: every "
        "Trustmary contact is one or the other. OTHER cannot be written either.",
    )
    address: AddressPatchInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="The postal address, changed part by part (AddressPatch); null clears "
        "every part (Adaptix; Interakt cannot clear).",
    )
    signed_up_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When the person signed up for your service, with a time zone offset, "
        "not before 1970 (Interakt `signedup_at`, as in ContactInput.signedUpAt); Interakt "
        "cannot clear it.",
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The Adaptix user to assign the contact to, by id (a number); null "
        "leaves it with no owner.",
    )

    def to_change(
        self, where: str = "patch", *, phone_region: str | None = DEFAULT_REGION
    ) -> ContactChange:
        """Check and convert, every problem at once (the rules of `ContactInput`).

        Raises:
            BadUserInput: naming the field at fault; `BadUserInputs` when several are.
        """
        errors = InputErrors(where)
        values: dict[str, object] = {}
        for name in TEXT_FIELDS:
            value = getattr(self, name)
            if value is not strawberry.UNSET:
                values[name] = _text(value, f"{where}.{_camel(name)}", errors, BLANK_PATCH)
        email = values.get("email")
        _check_email(email if isinstance(email, str) else None, f"{where}.email", errors)
        if self.phones is not strawberry.UNSET:
            phones = _phones(self.phones, f"{where}.phones", phone_region, errors)
            values["phones"] = phones or None  # an empty list clears them too
        custom = self.custom_fields
        if custom is None:
            errors.refuse(
                f"{where}.customFields cannot be null: give each field to clear as null",
                field=f"{where}.customFields",
            )
        elif (
            custom is not strawberry.UNSET
            and _check_custom(custom, f"{where}.customFields", errors)
            and isinstance(custom, Mapping)
        ):
            values["custom_fields"] = dict(custom)
        if self.urls is not strawberry.UNSET:
            values["urls"] = _urls(self.urls, f"{where}.urls", errors) or None
        if self.notes is not strawberry.UNSET:
            values["notes"] = _text(self.notes, f"{where}.notes", errors, BLANK_PATCH)
        if self.owner_id is not strawberry.UNSET:
            owner_id = _text(self.owner_id, f"{where}.ownerId", errors, BLANK_PATCH)
            _check_owner_id(owner_id, f"{where}.ownerId", errors)
            values["owner_id"] = owner_id
        if self.type is None:
            errors.refuse(
                f"{where}.type cannot be null: every Trustmary contact is a customer or an "
                "employee; give CUSTOMER or EMPLOYEE",
                field=f"{where}.type",
            )
        elif self.type is not strawberry.UNSET:
            values["type"] = _contact_type(self.type, f"{where}.type", errors)
        if self.address is not strawberry.UNSET:
            values["address"] = _address_change(self.address, f"{where}.address", errors)
        if self.signed_up_at is not strawberry.UNSET:
            values["signed_up_at"] = _signed_up_at(self.signed_up_at, f"{where}.signedUpAt", errors)
        if not values and errors.count == 0:
            errors.refuse(f"{where} is empty: give at least one field", field=where)
        errors.raise_any()
        return ContactChange(values)


def _text(value: str | None, field: str, errors: InputErrors, blank: str) -> str | None:
    """`value` trimmed; a blank one is a problem (`blank` says what to do instead)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        errors.refuse(f"{field} must not be blank; {blank}", field=field)
    return value


def _check_email(email: str | None, field: str, errors: InputErrors) -> None:
    if email and parse_email(email) is None:
        errors.refuse(f"{field} is not a valid email address", field=field)


def _check_custom(custom: object, field: str, errors: InputErrors) -> bool:
    """Whether `custom` is a JSON object of custom fields; a problem when not."""
    if not isinstance(custom, Mapping) or not all(isinstance(k, str) and k for k in custom):
        errors.refuse(f"{field} must be a JSON object", field=field)
        return False
    if _depth(custom) > MAX_CUSTOM_DEPTH:
        errors.refuse(f"{field} nests deeper than {MAX_CUSTOM_DEPTH} levels", field=field)
        return False
    return True


def _urls(values: list[str] | None, field: str, errors: InputErrors) -> tuple[str, ...] | None:
    """The urls trimmed; each one that is not a web address is a problem naming its index."""
    urls = _clean_list(values, field, errors)
    for index, url in enumerate(urls or ()):
        if url and not _is_web_address(url):
            errors.refuse(
                f"{field}[{index}] is not a web address: it needs http:// or https:// and a host",
                field=f"{field}[{index}]",
            )
    return urls


def _contact_type(
    value: ContactTypeEnum | None, field: str, errors: InputErrors
) -> ContactType | None:
    """The type to write; OTHER (a value read, unknown to the gateway) is a problem."""
    if value is None:
        return None
    contact_type = ContactType[value.name]
    if contact_type is ContactType.OTHER:
        errors.refuse(f"{field} OTHER cannot be written: give CUSTOMER or EMPLOYEE", field=field)
    return contact_type


def _signed_up_at(value: datetime | None, field: str, errors: InputErrors) -> datetime | None:
    """A sign-up time needs an offset and cannot be before 1970 (Interakt takes unix time)."""
    if value is None:
        return None
    if value.tzinfo is None:
        errors.refuse(f"{field} needs a time zone offset (e.g. 2026-01-31T09:00:00Z)", field=field)
    elif value < EPOCH:
        errors.refuse(f"{field} must not be before 1970-01-01T00:00:00Z", field=field)
    return value


def _check_owner_id(owner_id: str | None, field: str, errors: InputErrors) -> None:
    if owner_id and not (owner_id.isascii() and owner_id.isdigit()):
        errors.refuse(f"{field} is not an Adaptix user id (a number)", field=field)


def contact_writes(
    inputs: Sequence[ContactInput], where: str, *, phone_region: str
) -> list[ContactWrite]:
    """Every input checked and converted (`to_write`), as `<where>[<index>]`.

    Raises:
        BadUserInput: naming the field at fault; `BadUserInputs` with every problem of
            every input (up to `MAX_INPUT_ERRORS`) when there are several.
    """
    errors = InputErrors(where)
    writes = [
        item.check(f"{where}[{index}]", errors, phone_region=phone_region)
        for index, item in enumerate(inputs)
    ]
    errors.raise_any()
    return writes


# Custom field values are stored by providers as flat attributes or small structures;
# anything nested deeper is not a custom field (and no provider call could carry it).
MAX_CUSTOM_DEPTH = 8


def _depth(value: object) -> int:
    """How deeply `value` nests lists and objects (a loop: it may nest 1000 levels)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        if isinstance(item, Mapping):
            pending.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, level + 1) for v in item)
    return deepest


def _is_web_address(text: str) -> bool:
    """An absolute http(s) URL with a host, and no whitespace in it."""
    if any(ch.isspace() for ch in text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # a malformed port or IPv6 host
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(host)


def _address(value: AddressInput | None, where: str, errors: InputErrors) -> PostalAddress | None:
    """The address given, trimmed; a blank part or an address of no parts is a problem."""
    if value is None:
        return None
    parts = {
        name: _text(getattr(value, name), f"{where}.{_camel(name)}", errors, BLANK_INPUT)
        for name in ADDRESS_PARTS
    }
    if all(part is None for part in parts.values()):
        errors.refuse(f"{where} is empty: give at least one part", field=where)
        return None
    return PostalAddress(**parts)


def _address_change(
    value: AddressPatchInput | None, where: str, errors: InputErrors
) -> dict[str, str | None] | None:
    """The address parts given, trimmed (None: clear the part); None clears them all.
    A blank part or a change of no parts is a problem."""
    if value is None:
        return None
    parts: dict[str, str | None] = {}
    for name in ADDRESS_PARTS:
        part = getattr(value, name)
        if part is strawberry.UNSET:
            continue
        parts[name] = _text(part, f"{where}.{_camel(name)}", errors, BLANK_PATCH)
    if not parts:
        errors.refuse(
            f"{where} is empty: give at least one part, or null to clear the address",
            field=where,
        )
    return parts


def _clean_list(
    values: list[str] | None, where: str, errors: InputErrors
) -> tuple[str, ...] | None:
    if values is None:
        return None
    cleaned = tuple(v.strip() for v in values)
    for index, value in enumerate(cleaned):
        if not value:
            errors.refuse(f"{where}[{index}] must not be blank", field=f"{where}[{index}]")
    return cleaned


def _phones(
    values: list[str] | None, where: str, region: str | None, errors: InputErrors
) -> tuple[str, ...] | None:
    """Each phone in E.164; each one that is not a number is a problem of its own.
    Without a region, a number without a leading `+` is kept as given."""
    if values is None:
        return None
    phones = []
    for index, value in enumerate(values):
        if region is None and not value.lstrip().startswith("+"):
            phones.append(value.strip())  # for the gateway that knows its region to read
            continue
        try:
            phones.append(normalize_phone(value, region))
        except PhoneError as exc:
            field = f"{where}[{index}]"
            errors.refuse(f"{field} is not a phone number: {exc}", field=field)
            phones.append(value)
    return tuple(phones)


@strawberry.input(
    description=(
        "Filters for `contacts`; all given filters must match. `email`, `company` and `search` "
        "ask every provider that can answer them (Adaptix by search, Trustmary by reading its "
        "pages, Lunar Send by equality on email and company); `tag` asks Adaptix; `provider` "
        "alone lists a provider that can enumerate (Adaptix, Trustmary)."
    )
)
class ContactFilter:
    email: str | None = strawberry.field(
        default=None,
        description="People with this email on any record, compared case-insensitively (the "
        "rule of ContactInput.email).",
    )
    search: str | None = strawberry.field(
        default=None, description="Text in a name, email or company (case-insensitive)."
    )
    provider: ProviderEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="People with a record at this provider. Alone, it lists that provider's "
        "contacts: Adaptix or Trustmary (another is BAD_USER_INPUT).",
    )
    tag: str | None = strawberry.field(
        default=None,
        description="People carrying a tag of this name, compared case-insensitively "
        "(asked of Adaptix).",
    )
    company: str | None = strawberry.field(
        default=None, description="Company name, compared case-insensitively."
    )
    updated_since: datetime | None = strawberry.field(
        default=None,
        description="People created or changed after this time at a provider that can "
        "tell: Adaptix (date modified, else date added) and Trustmary (updated_at, read "
        "page by page). Lunar Send keeps no change time and Akita and Interakt cannot be "
        "read: people only there are not found by it (see `coveredProviders`).",
    )

    def to_filter(self, where: str = "filter") -> ListingFilter:
        """Check and convert.

        Raises:
            BadUserInput: naming the field at fault; `BadUserInputs` when several are.
        """
        errors = InputErrors(where)
        email = self.email
        if email is not None:
            try:
                email = check_email(email, f"{where}.email")
            except BadUserInput as exc:
                errors.add(exc)
        for name in ("search", "tag", "company"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                errors.refuse(f"{where}.{name} must not be blank", field=f"{where}.{name}")
        since = self.updated_since
        if since is not None and since.tzinfo is None:
            errors.refuse(
                f"{where}.updatedSince needs a time zone offset (e.g. 2026-01-31T09:00:00Z)",
                field=f"{where}.updatedSince",
            )
        errors.raise_any()
        return ListingFilter(
            email=email,
            search=self.search,
            provider=self.provider,
            tag=self.tag,
            company=self.company,
            updated_since=since,
        )


@strawberry.enum(description="What `contacts` can be sorted by.")
class ContactOrderField(Enum):
    EMAIL = strawberry.enum_value(OrderField.EMAIL, description="The shown email, normalized.")
    NAME = strawberry.enum_value(
        OrderField.NAME, description="The shown name (else first and last name), ignoring case."
    )
    CREATED_AT = strawberry.enum_value(
        OrderField.CREATED_AT, description="When the earliest provider record was created."
    )
    UPDATED_AT = strawberry.enum_value(
        OrderField.UPDATED_AT, description="When a provider record last changed."
    )


@strawberry.enum(description="Which way a sort goes.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("asc", description="Smallest first; empty values last.")
    DESC = strawberry.enum_value("desc", description="Largest first; empty values last.")


@strawberry.input(
    description="How to sort `contacts`. Ties go by the contact's key, so the order is total "
    "and paging never skips or repeats anyone."
)
class ContactOrder:
    field: ContactOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way (ASC when left out)."
    )

    def to_order(self) -> Order:
        return Order(OrderField[self.field.name], self.direction is OrderDirection.DESC)


def check_email(value: str, field: str) -> str:
    """`value` trimmed; BadUserInput naming `field` unless it is an email address
    (`gateway.domain.normalize.parse_email`, the rule for every email given)."""
    email = parse_email(value)
    if email is None:
        raise BadUserInput(f"{field} is not a valid email address", field=field)
    return email


def target_providers(providers: list[Provider] | None, field: str = "providers") -> list[Provider]:
    """The providers a write goes to: all of them when none are named."""
    if providers is None:
        return list(Provider)
    if not providers:
        raise BadUserInput(
            f"{field} is empty: leave it out to write to every provider", field=field
        )
    return list(dict.fromkeys(providers))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel_field(name: str) -> str:
    """A unified field name as the schema spells it: phones[2], customFields.plan,
    address.postalCode (a custom field's key is the provider's own, kept as it is)."""
    for sep in ("[", "."):
        head, found, tail = name.partition(sep)
        if found:
            if sep == "." and head != "custom_fields":
                tail = camel_field(tail)
            return _camel(head) + sep + tail
    return _camel(name)
