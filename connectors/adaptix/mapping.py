"""Adaptix's JSON in the unified model, and the shapes of its answers
(docs/providers/adaptix.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from connectors.mapping import clean_text, parse_datetime
from gateway.domain.fields import FieldInfo
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    ActivityKind,
    ActivityRecord,
    CompanyLink,
    ContactRecord,
    DoNotContactEntry,
    DoNotContactReason,
    OwnerRef,
    PostalAddress,
    Provider,
    TagRef,
    UtmTag,
)

Record = Mapping[str, Any]
# Aliases the connector maps to `ContactRecord` attributes or Adaptix keeps for itself;
# every other value in `fields.all` (the social group's and the instance's own fields)
# is a custom field.
CORE_ALIASES = frozenset(
    {
        "id",
        "title",
        "firstname",
        "lastname",
        "company",
        "position",
        "email",
        "mobile",
        "phone",
        "points",
        "address1",
        "address2",
        "city",
        "state",
        "zipcode",
        "country",
        "website",
    }
)
# ContactWrite field -> Adaptix alias, for the single-valued fields.
FIELD_ALIASES: tuple[tuple[str, str], ...] = (
    ("email", "email"),
    ("first_name", "firstname"),
    ("last_name", "lastname"),
    ("company", "company"),
    ("job_title", "position"),
)
PHONE_ALIASES = ("mobile", "phone")
# PostalAddress part -> Adaptix alias.
ADDRESS_ALIASES: tuple[tuple[str, str], ...] = (
    ("line1", "address1"),
    ("line2", "address2"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "zipcode"),
    ("country", "country"),
)
# The one url Adaptix keeps: the first of `ContactWrite.urls`.
WEBSITE_ALIAS = "website"
# Adaptix's do-not-contact reasons (its Contacts constants) and the gateway's.
DNC_REASONS = {
    1: DoNotContactReason.UNSUBSCRIBED,
    2: DoNotContactReason.BOUNCED,
    3: DoNotContactReason.MANUAL,
}
DNC_REASON_CODES = {reason: code for code, reason in DNC_REASONS.items()}


def entries(value: Any) -> list[Record]:
    """The records of an Adaptix collection, which is a list or an object keyed by id."""
    items: Iterable[Any]
    if not value:  # absent (minimal records), null or empty: nothing to look through
        return []
    if isinstance(value, Mapping):
        items = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return []
    return [item for item in items if isinstance(item, Mapping)]


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def is_remote_id(value: str) -> bool:
    return value.isascii() and value.isdigit()


def quote(value: str) -> str:
    """A search-command value, double-quoted when it holds whitespace."""
    if any(ch.isspace() for ch in value):
        return '"' + value.replace('"', "") + '"'
    return value


def to_owner(value: Any) -> OwnerRef | None:
    """A contact's `owner`: the user object `{"id","username","firstName","lastName"}`.

    The object carries no email and neither does `list/owners`, so the email stays
    unknown rather than costing a call.
    """
    if isinstance(value, Mapping):
        user_id = clean_text(value.get("id"))
        first, last = clean_text(value.get("firstName")), clean_text(value.get("lastName"))
        name = " ".join(p for p in (first, last) if p) or clean_text(value.get("username"))
    else:  # a bare user id, as a write body gives it
        user_id, name = clean_text(value), None
    return OwnerRef(user_id, name) if user_id else None


def to_record(record: Record) -> ContactRecord:
    """Map one Adaptix contact record to the unified model."""
    fields = record.get("fields")
    values: Mapping[str, Any] = {}
    if isinstance(fields, Mapping) and isinstance(fields.get("all"), Mapping):
        values = fields["all"]

    def text(alias: str) -> str | None:
        return clean_text(values.get(alias))

    email = text("email")
    first, last = text("firstname"), text("lastname")
    phones = [p for p in (text("mobile"), text("phone")) if p]
    website = text("website")
    tags = [
        TagRef(str(tag["tag"]), "tag", str(tag["id"]) if tag.get("id") is not None else None)
        for tag in entries(record.get("tags"))
        if tag.get("tag")
    ]
    custom = {
        alias: value
        for alias, value in values.items()
        if alias not in CORE_ALIASES and value is not None and value != ""
    }
    dnc = [to_dnc(entry) for entry in entries(record.get("doNotContact")) if entry.get("channel")]
    channels = [entry.channel for entry in dnc]
    utm_tags = [to_utm_tag(u) for u in entries(record.get("utmtags")) if u.get("id") is not None]
    points = record.get("points", values.get("points"))
    return ContactRecord(
        provider=Provider.ADAPTIX,
        remote_id=str(record["id"]) if record.get("id") is not None else "",
        email=email,
        emails=[email] if email else [],
        first_name=first,
        last_name=last,
        name=" ".join(p for p in (first, last) if p) or None,
        phones=list(dict.fromkeys(phones)),
        urls=[website] if website else [],
        company=text("company"),
        job_title=text("position"),
        title=text("title"),
        address=PostalAddress.of(
            line1=text("address1"),
            line2=text("address2"),
            city=text("city"),
            state=text("state"),
            postal_code=text("zipcode"),
            country=text("country"),
        ),
        website=website,
        owner=to_owner(record.get("owner")),
        tags=tags,
        custom_fields=custom,
        points=as_int(points) if points is not None else None,
        do_not_contact=list(dict.fromkeys(channels)),
        do_not_contact_entries=dnc,
        utm_tags=utm_tags,
        created_at=parse_datetime(record.get("dateAdded")),
        updated_at=parse_datetime(record.get("dateModified")),
        last_active_at=parse_datetime(record.get("lastActive")),
        raw=record,
    )


def to_dnc(entry: Record) -> DoNotContactEntry:
    """One `doNotContact` entry: `{"id","dateAdded","reason","comments","channel","channelId"}`."""
    code = entry.get("reason")
    reason = None
    if code is not None and code != "":
        reason = DNC_REASONS.get(as_int(code, -1), DoNotContactReason.OTHER)
    return DoNotContactEntry(
        channel=str(entry["channel"]),
        reason=reason,
        channel_id=clean_text(entry.get("channelId")),
        added_at=parse_datetime(entry.get("dateAdded")),
        comments=clean_text(entry.get("comments")),
        id=clean_text(entry.get("id")),
    )


def to_utm_tag(entry: Record) -> UtmTag:
    """One `utmtags` entry, as Mautic answers it (`utmCampaign`, `userAgent`, ...); the
    spellings of the add endpoint's parameters (`utm_campaign`, `useragent`) are read too."""

    def text(*keys: str) -> str | None:
        return next((v for k in keys if (v := clean_text(entry.get(k))) is not None), None)

    query = entry.get("query")
    if isinstance(query, str):
        query = dict(parse_qsl(query.lstrip("?")))
    return UtmTag(
        id=str(entry["id"]),
        added_at=parse_datetime(entry.get("dateAdded")),
        campaign=text("utmCampaign", "utm_campaign"),
        source=text("utmSource", "utm_source"),
        medium=text("utmMedium", "utm_medium"),
        content=text("utmContent", "utm_content"),
        term=text("utmTerm", "utm_term"),
        url=text("url"),
        referer=text("referer"),
        user_agent=text("userAgent", "useragent"),
        remote_host=text("remoteHost", "remotehost"),
        query=dict(query) if isinstance(query, Mapping) else {},  # PHP's empty array: []
    )


def to_segment(entry: Record) -> TagRef | None:
    """One entry of `/contacts/ID/segments` as a tag of kind "segment"; None for one
    the contact was manually removed from (the segment's filter matches, it is no member)."""
    name = clean_text(entry.get("name")) or clean_text(entry.get("alias"))
    if name is None or as_bool(entry.get("manuallyRemoved")):
        return None
    return TagRef(name, "segment", clean_text(entry.get("id")))


def to_company(entry: Record) -> CompanyLink | None:
    """One entry of `/contacts/ID/companies`; None without a `company_id`."""
    company_id = clean_text(entry.get("company_id"))
    if company_id is None:
        return None
    score = entry.get("score")
    return CompanyLink(
        id=company_id,
        name=clean_text(entry.get("companyname")),
        is_primary=as_bool(entry.get("is_primary")),
        created_at=parse_datetime(entry.get("date_added")),
        associated_at=parse_datetime(entry.get("date_associated")),
        email=clean_text(entry.get("companyemail")),
        city=clean_text(entry.get("companycity")),
        score=as_int(score) if score is not None and score != "" else None,
    )


def as_bool(value: Any) -> bool:
    """A PHP-ish flag: true, 1, "1" and "true" are true; anything else is false."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return value is True or (isinstance(value, int) and value == 1)


def unstored(payload: Mapping[str, Any], record: Record) -> list[str]:
    """Text values sent but not found in the answered record (ignored or truncated),
    and an owner sent that the record does not have."""
    fields = record.get("fields")
    stored = fields.get("all") if isinstance(fields, Mapping) else None
    if not isinstance(stored, Mapping):
        return []
    missing = []
    if "owner" in payload:
        owner = to_owner(record.get("owner"))
        sent = payload["owner"]
        if (owner.id if owner else None) != (None if sent is None else str(sent)):
            missing.append("owner_id")
    names = {alias: name for name, alias in FIELD_ALIASES}
    names.update({alias: f"phones[{i}]" for i, alias in enumerate(PHONE_ALIASES)})
    names.update({alias: f"address.{part}" for part, alias in ADDRESS_ALIASES})
    names[WEBSITE_ALIAS] = "urls[0]"
    for alias, sent in payload.items():
        if alias in ("tags", "owner") or not isinstance(sent, str):
            continue
        got = stored.get(alias)
        got_text = "" if got is None else str(got)
        same = (
            normalize_email(got_text) == normalize_email(sent)
            if alias == "email"
            else got_text == sent.strip()  # Adaptix trims posted text
        )
        if not same:
            missing.append(names.get(alias, f"custom_fields.{alias}"))
    return missing


def to_activity(remote_id: str, event: Record) -> ActivityRecord | None:
    """One entry of `/contacts/ID/activity`; None without a timestamp."""
    at = parse_datetime(event.get("timestamp"))
    if at is None:
        return None
    label = event.get("eventLabel")
    if isinstance(label, Mapping):
        label = label.get("label")
    kind = str(event.get("event") or event.get("eventType") or "event")
    details = event.get("details")
    return ActivityRecord(
        Provider.ADAPTIX,
        remote_id,
        id=str(event.get("eventId") or f"{kind}:{event.get('timestamp')}"),
        kind=ActivityKind.EVENT,
        type=kind,
        label=str(label) if label is not None else event.get("eventType"),
        timestamp=at,
        details=details if isinstance(details, Mapping) else {},
    )


def input_field(alias: str) -> str | None:
    """The `ContactWrite` field that writes an alias: a mapped field, `phones` for the
    phone aliases, `custom_fields.<alias>` outside the core aliases; None for a core
    alias the connector does not write."""
    for name, mapped in FIELD_ALIASES:
        if mapped == alias:
            return name
    if alias in PHONE_ALIASES:
        return "phones"
    return None if alias in CORE_ALIASES else f"custom_fields.{alias}"


def to_field(item: Record) -> FieldInfo | None:
    """One entry of `/contacts/list/fields`; None without an alias."""
    alias = clean_text(item.get("alias"))
    if alias is None:
        return None
    return FieldInfo(
        Provider.ADAPTIX,
        alias,
        label=clean_text(item.get("label")) or alias,
        type=clean_text(item.get("type")) or "text",
        group=clean_text(item.get("group")),
        input_field=input_field(alias),
    )


def to_note(remote_id: str, note: Record) -> ActivityRecord | None:
    """One entry of `/contacts/ID/notes`; None without a date."""
    at = parse_datetime(note.get("dateTime"))
    if at is None:
        return None
    text = note.get("text")
    return ActivityRecord(
        Provider.ADAPTIX,
        remote_id,
        id=str(note.get("id")),
        kind=ActivityKind.NOTE,
        type=str(note.get("type") or "general"),
        label=str(text) if text is not None else None,
        timestamp=at,
        details={"text": text} if text is not None else {},
    )


def where_params(column: str, expr: str, value: str) -> list[tuple[str, Any]]:
    return [("where[0][col]", column), ("where[0][expr]", expr), ("where[0][val]", value)]


def by_index(value: Any, count: int, skip: set[int] | None = None) -> dict[int, Any]:
    """A batch answer's per-item values keyed by request index.

    Adaptix keys them by request index (a JSON object when PHP's array has
    gaps); a plain list shorter than the request holds only the items not in
    `skip`, in order.
    """
    if isinstance(value, Mapping):
        keyed: dict[int, Any] = {}
        for key, item in value.items():
            index = as_int(key, -1)
            if 0 <= index < count:
                keyed[index] = item
        return keyed
    if not isinstance(value, list):
        return {}
    if len(value) == count or not skip:
        return {i: item for i, item in enumerate(value[:count]) if item is not None}
    remaining = [i for i in range(count) if i not in skip]
    return dict(zip(remaining, value, strict=False))


def item_message(error: Any) -> str:
    if isinstance(error, Mapping):
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
    if isinstance(error, str) and error:
        return error
    return "Adaptix refused this contact"
