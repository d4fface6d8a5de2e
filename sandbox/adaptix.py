"""Adaptix (a Mautic fork): the contacts API under `/api`, with HTTP Basic auth.

Written from docs/providers/adaptix.md.
Where both are silent the emulator does what Mautic, which Adaptix forks, does:

- PHP's empty arrays: an empty field group, `ipAddresses`, a UTM tag's `query`
  and an event's `details` are `[]`; the maps keyed by id (`contacts`, `lists`,
  `automations`, batch `errors`) are `{}` when empty.
- `ipAddresses` is keyed by address; `fields.<group>.<alias>.id` is a string
  while `list/fields` (keyed by field id) has integer ids; `list/owners` is an
  array.
- Posted strings are trimmed (Symfony forms do), so a whitespace-only value is
  blank: skipped unless `overwriteWithBlank` is true. Text longer than 191
  characters (Mautic's column size) is a 400 rather than a silent truncation.
- An email belongs to one contact (compared case-insensitively):
  `/contacts/new` updates its owner, and an edit that would give a contact
  another contact's email is a 400.
- PUT on a missing id creates a contact under the next free id, as Mautic does,
  and PUT on an existing one blanks every field the body does not give (tags,
  owner, points and the rest stay).
- `dateModified` / `modifiedBy` stay null until the first edit.
- Query parameters the docs do not name are ignored; a named one with a value
  that makes no sense (`limit=-1`, an unknown `orderBy` column or `where`
  expr) is a 400 keyed by the parameter.
- Activity pages hold 25 events by default; a date-only `filters[dateTo]`
  covers that whole day.
- `points` is a signed 32-bit column: a write or `points/plus|minus` that would
  leave it outside that range is a 400 keyed by `points`.

Contacts are kept in id order with an index by email (one contact per email),
so `/contacts/new` and its batch find an email's owner without a scan.
"""

from __future__ import annotations

import ipaddress
import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from sandbox import credentials
from sandbox.emulator import (
    Emulator,
    ProviderError,
    RateLimit,
    _Route,
    basic_credentials,
    same_secret,
    whole_number,
)
from sandbox.seed import EVENT_TYPES, SeedData

BATCH_LIMIT = 200
DEFAULT_LIMIT = 30
ACTIVITY_LIMIT = 25
TEXT_MAX = 191
POINTS_MIN, POINTS_MAX = -(2**31), 2**31 - 1
NOT_FOUND = "Item was not found."

DNC_UNSUBSCRIBED, DNC_BOUNCED, DNC_MANUAL = 1, 2, 3


@dataclass(frozen=True)
class _Field:
    id: int
    alias: str
    label: str
    type: str
    group: str


FIELDS: tuple[_Field, ...] = tuple(
    _Field(n, alias, label, kind, group)
    for n, (alias, label, kind, group) in enumerate(
        (
            ("title", "Title", "lookup", "core"),
            ("firstname", "First Name", "text", "core"),
            ("lastname", "Last Name", "text", "core"),
            ("company", "Primary company", "text", "core"),
            ("position", "Position", "text", "core"),
            ("email", "Email", "email", "core"),
            ("mobile", "Mobile", "tel", "core"),
            ("phone", "Phone", "tel", "core"),
            ("points", "Points", "number", "core"),
            ("address1", "Address Line 1", "text", "core"),
            ("address2", "Address Line 2", "text", "core"),
            ("city", "City", "text", "core"),
            ("state", "State", "region", "core"),
            ("zipcode", "Zip Code", "text", "core"),
            ("country", "Country", "country", "core"),
            ("website", "Website", "url", "core"),
            ("twitter", "Twitter", "text", "social"),
            ("facebook", "Facebook", "text", "social"),
            ("linkedin", "LinkedIn", "text", "social"),
            ("instagram", "Instagram", "text", "social"),
        ),
        start=1,
    )
)
FIELD_GROUPS = ("core", "social", "personal", "professional")
_FIELD_BY_ALIAS = {f.alias: f for f in FIELDS}
_ALIASES = tuple(f.alias for f in FIELDS)


def _field_meta(f: _Field) -> dict[str, str]:
    return {"id": str(f.id), "label": f.label, "alias": f.alias, "type": f.type, "group": f.group}


# Each group's `fields.<group>.<alias>` entries but their value, built once: every
# contact answer repeats them.
_GROUP_FIELDS = {
    group: tuple((f.alias, _field_meta(f)) for f in FIELDS if f.group == group)
    for group in FIELD_GROUPS
}
# Every alias whose value lives in `_Contact.values`; points is a counter of its own.
_TEXT_ALIASES = tuple(f.alias for f in FIELDS if f.alias != "points")


@dataclass(frozen=True)
class _User:
    id: int
    username: str
    first_name: str
    last_name: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


USERS: tuple[_User, ...] = (
    _User(1, credentials.ADAPTIX_USERNAME, "Sandbox", "Admin"),
    _User(2, "lhill", "Laura", "Hill"),
    _User(3, "okarlsson", "Oskar", "Karlsson"),
    _User(4, "pnair", "Priya", "Nair"),
)
_USER_BY_ID = {u.id: u for u in USERS}
# Every API write is made as the one user whose credentials the sandbox knows.
API_USER = USERS[0]

# Automations enrol the members of one segment; seeded only when the segment exists.
AUTOMATIONS: tuple[tuple[int, str, int], ...] = (
    (1, "Welcome series", 1),
    (2, "Hot lead nurture", 2),
)

SEED_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Gecko/20100101 Firefox/125.0",
)

UTM_PARAMS = (
    "utm_campaign",
    "utm_content",
    "utm_medium",
    "utm_source",
    "utm_term",
    "useragent",
    "url",
    "referer",
    "remotehost",
)

IP_DETAILS = (
    "city",
    "region",
    "country",
    "latitude",
    "longitude",
    "isp",
    "organization",
    "timezone",
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CHANNEL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_COMMAND = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(.*)", re.DOTALL)
_SEARCH_TOKEN = re.compile(r'(?:[^\s"]+:)?"[^"]*"|\S+')
_WHERE_KEY = re.compile(r"where\[(\d+)\]\[(col|expr|val)\](\[\d*\])?")
_ORDER_KEY = re.compile(r"order\[(\d+)\]\[(col|dir)\]")

Predicate = Callable[["_Contact"], bool]


@dataclass
class _Note:
    id: int
    text: str
    type: str
    at: datetime


@dataclass(frozen=True)
class _Event:
    seq: int
    event: str
    label: str
    type_label: str
    at: datetime
    contact_id: int
    details: dict[str, Any]

    @property
    def event_id(self) -> str:
        return f"{self.event}{self.seq}"


@dataclass
class _CompanyLink:
    company_id: int
    associated: datetime
    primary: bool


@dataclass
class _Contact:
    id: int
    date_added: datetime
    values: dict[str, str | None]
    points: int = 0
    created_by: int = API_USER.id
    date_modified: datetime | None = None
    modified_by: int | None = None
    owner_id: int | None = None
    last_active: datetime | None = None
    date_identified: datetime | None = None
    ip_addresses: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    utmtags: list[dict[str, Any]] = field(default_factory=list)
    dnc: list[dict[str, Any]] = field(default_factory=list)
    segments: dict[int, datetime] = field(default_factory=dict)
    notes: list[_Note] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    companies: list[_CompanyLink] = field(default_factory=list)


@dataclass
class _Write:
    """A validated write body; nothing is stored until it is applied."""

    fields: dict[str, str | int | None] = field(default_factory=dict)
    tags: list[tuple[bool, str]] = field(default_factory=list)  # (add?, name), in order
    owner: int | None = None
    owner_given: bool = False
    ip_address: str | None = None
    last_active: datetime | None = None
    overwrite_blank: bool = False

    def email(self) -> str | None:
        value = self.fields.get("email")
        return value if isinstance(value, str) else None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _parse_datetime(text: str) -> datetime | None:
    """`Y-m-d H:i:s`, `Y-m-d` or ISO 8601; a time without an offset is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is before year 1
        return None


def _as_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else None
    number = whole_number(value.strip()) if isinstance(value, str) else None
    return number or None


def _id_list(text: str) -> list[int] | None:
    """`1, 2,3` as ids (blank parts skipped); None when a part is not an id."""
    ids: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        number = whole_number(part)
        if number is None:
            return None
        ids.append(number)
    return ids


def _integer(text: str) -> int | None:
    """A signed whole number (`-12`), as `whole_number` bounds it."""
    number = whole_number(text.removeprefix("-"))
    return -number if number is not None and text.startswith("-") else number


def _points_problem(points: int) -> str | None:
    if POINTS_MIN <= points <= POINTS_MAX:
        return None
    return f"This value should be between {POINTS_MIN} and {POINTS_MAX}."


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
    return None


def _invalid(details: dict[str, list[str]]) -> ProviderError:
    """A 400 with Mautic's validation shape: details keyed by field."""
    message = "; ".join(f"{key}: {problems[0]}" for key, problems in details.items())
    return ProviderError(400, message, code="validation", details=details)


def _bad_param(name: str, problem: str) -> ProviderError:
    return _invalid({name: [problem]})


def _not_found() -> ProviderError:
    return ProviderError(404, NOT_FOUND, code="not_found")


# -- query parameters ----------------------------------------------------------


def _int_param(query: QueryParams, name: str, default: int, *, minimum: int) -> int:
    raw = query.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = whole_number(raw.strip())
    if value is None:
        raise _bad_param(name, "This value should be a whole number.")
    if value < minimum:
        raise _bad_param(name, f"This value should be {minimum} or more.")
    return value


def _bool_param(query: QueryParams, name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    value = _as_bool(raw)
    if value is None:
        raise _bad_param(name, "This value should be true or false.")
    return value


def _direction(raw: str | None, name: str, default: str) -> str:
    if raw is None or raw.strip() == "":
        return default
    direction = raw.strip().upper()
    if direction not in ("ASC", "DESC"):
        raise _bad_param(name, "This value should be asc or desc.")
    return direction


def _array_param(query: QueryParams, name: str) -> list[str]:
    """`name[]=a&name[]=b`, `name[0]=a` or a single `name=a`, in request order."""
    pattern = re.compile(re.escape(name) + r"(\[\d*\])?")
    return [v for k, v in query.multi_items() if pattern.fullmatch(k) and v != ""]


def _date_param(query: QueryParams, name: str, *, end_of_day: bool) -> datetime | None:
    raw = query.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = _parse_datetime(raw)
    if value is None:
        raise _bad_param(name, "This value should be a date in the format Y-m-d H:i:s.")
    if end_of_day and len(raw.strip()) == 10:
        value += timedelta(days=1, seconds=-1)
    return value


# -- contact columns (orderBy, where) ----------------------------------------

Getter = Callable[["_Contact"], Any]


def _user_name(user_id: int | None) -> str | None:
    user = _USER_BY_ID.get(user_id) if user_id is not None else None
    return user.name if user else None


_META_COLUMNS: dict[str, tuple[str, Getter]] = {
    "id": ("int", lambda c: c.id),
    "is_published": ("int", lambda c: 1),
    "points": ("int", lambda c: c.points),
    "date_added": ("date", lambda c: c.date_added),
    "date_modified": ("date", lambda c: c.date_modified),
    "date_identified": ("date", lambda c: c.date_identified),
    "last_active": ("date", lambda c: c.last_active),
    "created_by": ("int", lambda c: c.created_by),
    "created_by_user": ("str", lambda c: _user_name(c.created_by)),
    "modified_by": ("int", lambda c: c.modified_by),
    "modified_by_user": ("str", lambda c: _user_name(c.modified_by)),
    "owner_id": ("int", lambda c: c.owner_id),
    "color": ("str", lambda c: None),
}


def _field_getter(alias: str) -> Getter:
    return lambda c: c.values.get(alias)


def _column(name: str, param: str) -> tuple[str, Getter]:
    if name in _META_COLUMNS:
        return _META_COLUMNS[name]
    if name in _TEXT_ALIASES:
        return "str", _field_getter(name)
    raise _bad_param(param, f"Unknown column {name!r}.")


def _comparable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _sort_key(value: Any) -> tuple[int, Any]:
    # MySQL sorts NULL before every value in ascending order.
    return (0, "") if value is None else (1, _comparable(value))


def _sort_by(getter: Getter) -> Callable[[_Contact], tuple[int, Any]]:
    return lambda c: _sort_key(getter(c))


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _coerce(kind: str, raw: str, param: str) -> Any:
    text = raw.strip()
    if kind == "int":
        number = _integer(text)
        if number is None:
            raise _bad_param(param, f"{raw!r} is not a number.")
        return number
    if kind == "date":
        value = _parse_datetime(text)
        if value is None:
            raise _bad_param(param, f"{raw!r} is not a date.")
        return value
    return text.casefold()


def _like(pattern: str) -> Callable[[str], bool]:
    """SQL LIKE (`%` any run, `_` one character), case-insensitive as MySQL's collation.

    Matched by walking pattern and text, backing up only to the last `%`: at most
    len(pattern) x len(text) steps, where a regex of `.*` runs takes exponential
    time on a pattern such as `%%%%%%%%%%x` and stalls the whole sandbox.
    """
    wanted = pattern.lower()

    def matches(value: str) -> bool:
        text = value.lower()
        p = t = 0
        star, resume = -1, 0
        while t < len(text):
            if p < len(wanted) and wanted[p] == "%":
                star, resume = p, t
                p += 1
            elif p < len(wanted) and wanted[p] in ("_", text[t]):
                p, t = p + 1, t + 1
            elif star >= 0:
                resume += 1
                p, t = star + 1, resume
            else:
                return False
        return set(wanted[p:]) <= {"%"}

    return matches


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _where_predicate(index: int, condition: dict[str, Any]) -> Predicate:
    param = f"where[{index}]"
    col, expr = condition.get("col"), condition.get("expr")
    if not col or not expr:
        raise _bad_param(param, "A condition needs col and expr.")
    kind, getter = _column(col, param)
    if expr == "isNull":
        return lambda c: getter(c) is None
    if expr == "isNotNull":
        return lambda c: getter(c) is not None
    if expr not in _COMPARATORS and expr not in ("like", "in", "notIn"):
        raise _bad_param(param, f"Unknown expr {expr!r}.")
    values: list[str] | None = condition.get("val")
    if values is None:
        raise _bad_param(param, f"The {expr} condition needs a val.")
    if expr in ("in", "notIn"):
        # `val=a,b` is a comma list; `val[]=a&val[]=b` items are taken whole.
        items = values if condition.get("array") else [p for v in values for p in v.split(",")]
        wanted = {_coerce(kind, v, param) for v in items if v.strip()}
        if expr == "in" and col == "email":
            return _EmailIn(frozenset(wanted))
        inside = expr == "in"
        return lambda c: (v := getter(c)) is not None and (_comparable(v) in wanted) == inside
    if len(values) != 1:
        raise _bad_param(param, f"The {expr} condition takes one value.")
    if expr == "like":
        like = _like(values[0])
        return lambda c: (v := getter(c)) is not None and like(_text(v))
    target = _coerce(kind, values[0], param)
    compare = _COMPARATORS[expr]
    return lambda c: (v := getter(c)) is not None and compare(_comparable(v), target)


@dataclass(frozen=True, slots=True)
class _EmailIn:
    """`where[n][col]=email&where[n][expr]=in`: the email, casefolded, is one of `wanted`.

    The connectors' lookup by email. Like Mautic's indexed email column, it is answered
    from the email index (`AdaptixEmulator._narrowed`) rather than by reading every
    contact; as a predicate it says what the other `in` conditions say.
    """

    wanted: frozenset[str]

    def __call__(self, contact: _Contact) -> bool:
        email = contact.values.get("email")
        return email is not None and _comparable(email) in self.wanted


def _where_predicates(query: QueryParams) -> list[Predicate]:
    conditions: dict[int, dict[str, Any]] = {}
    for key, value in query.multi_items():
        if key != "where" and not key.startswith("where["):
            continue
        match = _WHERE_KEY.fullmatch(key)
        if match is None or (match.group(3) is not None and match.group(2) != "val"):
            raise _bad_param("where", f"Unknown parameter {key!r}.")
        condition = conditions.setdefault(int(match.group(1)), {})
        part = match.group(2)
        if part == "val":
            condition.setdefault("val", []).append(value)
            condition["array"] = condition.get("array", False) or match.group(3) is not None
        else:
            condition[part] = value
    return [_where_predicate(n, conditions[n]) for n in sorted(conditions)]


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text.strip('"')


def _exact(alias: str, wanted: str) -> Predicate:
    return lambda c: (c.values.get(alias) or "").casefold() == wanted


def _prefix(alias: str, wanted: str) -> Predicate:
    if alias == "points":
        return lambda c: str(c.points).startswith(wanted)
    return lambda c: (c.values.get(alias) or "").casefold().startswith(wanted)


def _ids(ids: set[int]) -> Predicate:
    return lambda c: c.id in ids


def _tagged(wanted: str) -> Predicate:
    return lambda c: any(t.casefold() == wanted for t in c.tags)


def _plain(wanted: str) -> Predicate:
    aliases = ("firstname", "lastname", "email", "company")
    return lambda c: any(wanted in (c.values.get(a) or "").casefold() for a in aliases)


def _search_predicates(search: str) -> list[Predicate]:
    """Mautic's search commands; every term must match (AND)."""
    predicates: list[Predicate] = []
    for token in _SEARCH_TOKEN.findall(search):
        match = _COMMAND.fullmatch(token)
        command = match.group(1).lower() if match else ""
        if match is None or (command not in ("ids", "tag") and command not in _FIELD_BY_ALIAS):
            text = _unquote(token).casefold()
            if text:
                predicates.append(_plain(text))
            continue
        value = _unquote(match.group(2)).strip()
        wanted = value.casefold()
        if not value:
            predicates.append(lambda c: False)
        elif command == "ids":
            ids = _id_list(value)
            if ids is None:
                raise _bad_param("search", f"ids:{value} is not a list of contact ids.")
            predicates.append(_ids(set(ids)))
        elif command == "tag":
            predicates.append(_tagged(wanted))
        elif command in ("email", "company"):
            predicates.append(_exact(command, wanted))
        else:
            predicates.append(_prefix(command, wanted))
    return predicates


# -- write bodies ----------------------------------------------------------------


def _field_value(spec: _Field, value: Any) -> tuple[str | int | None, str | None]:
    """(value, problem): a posted field value checked against its field type."""
    if value is None:
        return None, None
    if spec.type == "number":
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            if value.strip() == "":
                return None, None
            number = _integer(value.strip())
        if number is None:
            return None, "This value should be of type integer."
        return number, _points_problem(number)
    if not isinstance(value, str):
        return None, "This value should be of type string."
    text = value.strip()
    if text == "":
        return None, None
    if len(text) > TEXT_MAX:
        return None, f"This value is too long. It should have {TEXT_MAX} characters or less."
    if spec.type == "email" and not _EMAIL.fullmatch(text):
        return None, "This value is not a valid email address."
    return text, None


def _tags_value(value: Any) -> tuple[list[tuple[bool, str]], str | None]:
    if not isinstance(value, list):
        return [], "This value should be of type array."
    tags: list[tuple[bool, str]] = []
    for item in value:
        if not isinstance(item, str):
            return [], "Each tag should be a string."
        text = item.strip()
        remove = text.startswith("-")
        name = text[1:].strip() if remove else text
        if not name:
            return [], "A tag name must not be empty."
        if len(name) > TEXT_MAX:
            return [], f"A tag name should have {TEXT_MAX} characters or less."
        tags.append((not remove, name))
    return tags, None


def _parse_write(body: dict[str, Any]) -> _Write:
    """Check a whole write body; any problem is a 400 keyed by field."""
    write = _Write()
    errors: dict[str, list[str]] = {}
    for key, value in body.items():
        problem: str | None = None
        if key in _FIELD_BY_ALIAS:
            parsed, problem = _field_value(_FIELD_BY_ALIAS[key], value)
            write.fields[key] = parsed
        elif key == "tags":
            write.tags, problem = _tags_value(value)
        elif key == "owner":
            write.owner_given = True
            write.owner = _as_id(value)
            if value is not None and write.owner not in _USER_BY_ID:
                problem = "This value is not a valid user id."
        elif key == "ipAddress" and value is not None:
            try:
                if not isinstance(value, str):
                    raise ValueError(value)
                write.ip_address = str(ipaddress.ip_address(value.strip()))
            except ValueError:
                problem = "This value is not a valid IP address."
        elif key == "lastActive" and value is not None:
            parsed_at = _parse_datetime(value) if isinstance(value, str) else None
            if parsed_at is None:
                problem = "This value is not a valid datetime."
            write.last_active = parsed_at
        elif key == "overwriteWithBlank":
            flag = _as_bool(value)
            if flag is None:
                problem = "This value should be of type boolean."
            write.overwrite_blank = bool(flag)
        # Any other key is ignored, silently, as Mautic does with unknown aliases.
        if problem is not None:
            errors[key] = [problem]
    if errors:
        raise _invalid(errors)
    return write


def _optional_text(body: dict[str, Any], names: Iterable[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    errors: dict[str, list[str]] = {}
    for name in names:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = ["This value should be of type string."]
        values[name] = value
    if errors:
        raise _invalid(errors)
    return values


def _describe_agent(agent: str) -> dict[str, Any]:
    low = agent.lower()
    kind = "desktop"
    if "ipad" in low or "iphone" in low:
        os_name, os_short, platform = "iOS", "IOS", "ARM"
        kind = "tablet" if "ipad" in low else "smartphone"
    elif "android" in low:
        os_name, os_short, platform, kind = "Android", "AND", "ARM", "smartphone"
    elif "windows" in low:
        os_name, os_short, platform = "Windows", "WIN", "x64"
    elif "mac os x" in low or "macintosh" in low:
        os_name, os_short, platform = "Mac", "MAC", "x64"
    elif "linux" in low:
        os_name, os_short, platform = "GNU/Linux", "LIN", "x64"
    else:
        os_name, os_short, platform = "Unknown", "UNK", ""
    browsers = (
        ("edg/", "Microsoft Edge", "PS"),
        ("firefox", "Firefox", "FF"),
        ("chrome", "Chrome", "CH"),
        ("safari", "Mobile Safari" if kind != "desktop" else "Safari", "SF"),
    )
    browser, short = next(((b, s) for n, b, s in browsers if n in low), ("Unknown", "UNK"))
    return {
        "clientInfo": {"type": "browser", "name": browser, "short_name": short},
        "device": kind,
        "deviceOsName": os_name,
        "deviceOsShortName": os_short,
        "deviceOsPlatform": platform,
    }


def _by_label(types: dict[str, str]) -> dict[str, str]:
    return dict(sorted(types.items(), key=lambda kv: kv[1]))


class AdaptixEmulator(Emulator):
    """Adaptix's contacts API: contacts with tags, segments, do-not-contact
    entries, UTM tags, points, notes, devices, companies and activity events."""

    key = "adaptix"
    root = "/api"

    def __init__(self, *, rng_seed: int = 0) -> None:
        super().__init__(rng_seed=rng_seed)
        self._contacts: dict[int, _Contact] = {}  # in id order: ids only grow
        self._emails: dict[str, int] = {}  # casefolded email -> contact id
        self._events: list[_Event] = []
        # event -> type label, by label, as activity answers list them; fixed once seeded.
        self._event_types = _by_label(dict(EVENT_TYPES))
        self._tag_ids: dict[str, tuple[int, str]] = {}  # casefold -> (id, name)
        self._companies: dict[str, tuple[int, str, datetime]] = {}  # casefold -> (id, name, added)
        self._segments: dict[int, tuple[str, str]] = {}  # id -> (name, alias)
        self._automations: dict[int, tuple[str, int]] = {}  # id -> (name, segment id)
        self._next_contact = 1
        self._next_other = 1  # notes, DNC entries, UTM tags, devices, event sequence

    # -- Emulator hooks ---------------------------------------------------------

    def authenticate(self, request: Request) -> bool:
        given = basic_credentials(request)
        if given is None:
            return False
        username, password = given
        return same_secret(username, credentials.ADAPTIX_USERNAME) and same_secret(
            password, credentials.ADAPTIX_PASSWORD
        )

    def error_body(self, error: ProviderError) -> Any:
        details = error.details if error.details is not None else []
        return {"errors": [{"code": error.status, "message": error.message, "details": details}]}

    def unauthorized_body(self) -> Any:
        return {
            "errors": [
                {"message": "API authorization denied.", "code": 401, "type": "access_denied"}
            ]
        }

    def rate_limit_message(self, limit: RateLimit) -> str:
        per_hour = round(limit.requests * 3600 / limit.per_seconds)
        return f"You exceeded the rate limit of {per_hour} API calls per hour."

    def routes(self) -> list[_Route]:
        r = self.route
        # Fixed paths first: /contacts/{id}/... would otherwise take "batch", "list"
        # and "activity" as ids, and stats would count them under the wrong template.
        return [
            r("GET", "/contacts", self.list_contacts),
            r("GET", "/contacts/activity", self.all_activity),
            r("GET", "/contacts/list/owners", self.list_owners),
            r("GET", "/contacts/list/fields", self.list_fields),
            r("POST", "/contacts/new", self.create_contact),
            r("POST", "/contacts/batch/new", self.create_batch),
            r("PATCH", "/contacts/batch/edit", self.patch_batch),
            r("PUT", "/contacts/batch/edit", self.put_batch),
            r("DELETE", "/contacts/batch/delete", self.delete_batch),
            r("GET", "/contacts/{id}", self.get_contact),
            r("PATCH", "/contacts/{id}/edit", self.patch_contact),
            r("PUT", "/contacts/{id}/edit", self.put_contact),
            r("DELETE", "/contacts/{id}/delete", self.delete_contact),
            r("POST", "/contacts/{id}/dnc/{channel}/add", self.add_dnc),
            r("POST", "/contacts/{id}/dnc/{channel}/remove", self.remove_dnc),
            r("POST", "/contacts/{id}/utm/add", self.add_utm),
            r("POST", "/contacts/{id}/utm/{utmid}/remove", self.remove_utm),
            r("POST", "/contacts/{id}/points/plus/{points}", self.add_points),
            r("POST", "/contacts/{id}/points/minus/{points}", self.subtract_points),
            r("GET", "/contacts/{id}/notes", self.list_notes),
            r("GET", "/contacts/{id}/segments", self.list_segments),
            r("GET", "/contacts/{id}/automations", self.list_automations),
            r("GET", "/contacts/{id}/activity", self.contact_activity),
            r("GET", "/contacts/{id}/events", self.contact_activity),
            r("GET", "/contacts/{id}/companies", self.list_companies),
            r("GET", "/contacts/{id}/devices", self.list_devices),
        ]

    def records(self) -> Any:
        return [self._contact_json(c) for c in self._contacts.values()]

    def load_seed(self, data: SeedData) -> None:
        for tag in data.tags:
            self._tag(tag)
        self._segments = {s.id: (s.name, s.alias) for s in data.segments}
        self._automations = {
            aid: (name, segment) for aid, name, segment in AUTOMATIONS if segment in self._segments
        }
        labels = dict(EVENT_TYPES)
        for n, person in enumerate(data.in_provider(self.key), start=1):
            record = person.records[self.key]
            contact = _Contact(
                id=self._next_contact,
                date_added=record.created_at,
                values=dict.fromkeys(_TEXT_ALIASES),
                points=person.points,
                date_modified=record.updated_at,
                modified_by=API_USER.id,
                owner_id=None if n % 4 == 0 else USERS[1 + n % 3].id,
                date_identified=record.created_at,
            )
            self._next_contact += 1
            contact.values.update(
                firstname=record.first_name,
                lastname=record.last_name,
                email=record.email,
                mobile=record.phone,
                company=record.company,
                position=record.job_title,
            )
            self._index_email(contact, None)
            self._sync_company(contact, record.created_at)
            contact.tags = [self._tag(t) for t in person.tags]
            contact.segments = {s: record.created_at for s in person.segments}
            for note in person.notes:
                contact.notes.append(_Note(self._next_id(), note.text, note.type, note.at))
            for seed_event in person.events:
                self._events.append(
                    _Event(
                        self._next_id(),
                        seed_event.event,
                        seed_event.label,
                        labels.get(seed_event.event, seed_event.label),
                        seed_event.at,
                        contact.id,
                        dict(seed_event.details),
                    )
                )
            if person.events:
                contact.last_active = max(e.at for e in person.events)
            if any(e.event == "page.hit" for e in person.events):
                contact.ip_addresses.append(f"198.51.100.{n % 250 + 1}")
                self._add_device(contact, SEED_AGENTS[n % len(SEED_AGENTS)])
            if n % 23 == 0:
                contact.dnc.append(self._dnc_entry("email", DNC_UNSUBSCRIBED, record.updated_at))
                contact.dnc[-1]["comments"] = "User unsubscribed."
            elif n % 29 == 0:
                contact.dnc.append(self._dnc_entry("email", DNC_BOUNCED, record.updated_at))
                contact.dnc[-1]["comments"] = "Hard bounce."
            self._contacts[contact.id] = contact
        self._event_types = _by_label({**labels, **{e.event: e.type_label for e in self._events}})

    # -- shapes -----------------------------------------------------------------

    def _contact_json(self, c: _Contact, *, minimal: bool = False) -> dict[str, Any]:
        owner = _USER_BY_ID.get(c.owner_id) if c.owner_id is not None else None
        body: dict[str, Any] = {
            "id": c.id,
            "isPublished": True,
            "dateAdded": _iso(c.date_added),
            "dateModified": _iso(c.date_modified),
            "createdBy": c.created_by,
            "createdByUser": _user_name(c.created_by),
            "modifiedBy": c.modified_by,
            "modifiedByUser": _user_name(c.modified_by),
            "owner": (
                {
                    "id": owner.id,
                    "username": owner.username,
                    "firstName": owner.first_name,
                    "lastName": owner.last_name,
                }
                if owner
                else None
            ),
            "points": c.points,
            "lastActive": _iso(c.last_active),
            "dateIdentified": _iso(c.date_identified),
            "color": None,
        }
        value_of: dict[str, Any] = {**c.values, "points": c.points}
        every = {"id": c.id, **{alias: value_of[alias] for alias in _ALIASES}}
        if minimal:
            body["fields"] = {"all": every}
            return body
        body["ipAddresses"] = {
            ip: {"ipAddress": ip, "ipDetails": dict.fromkeys(IP_DETAILS, "")}
            for ip in c.ip_addresses
        } or []
        body["tags"] = [{"id": self._tag_ids[t.casefold()][0], "tag": t} for t in c.tags]
        body["utmtags"] = [dict(u, query=u["query"] or []) for u in c.utmtags]
        body["doNotContact"] = [dict(d) for d in c.dnc]
        fields: dict[str, Any] = {
            group: {alias: {**meta, "value": value_of[alias]} for alias, meta in members} or []
            for group, members in _GROUP_FIELDS.items()
        }
        fields["all"] = every
        body["fields"] = fields
        return body

    def _event_json(self, e: _Event) -> dict[str, Any]:
        return {
            "event": e.event,
            "eventId": e.event_id,
            "eventLabel": e.label,
            "eventType": e.type_label,
            "timestamp": _iso(e.at),
            "contactId": e.contact_id,
            "details": dict(e.details) or [],
        }

    # -- store helpers ----------------------------------------------------------

    def _next_id(self) -> int:
        value = self._next_other
        self._next_other += 1
        return value

    def _tag(self, name: str) -> str:
        """The stored spelling of tag `name`, registering it when new."""
        known = self._tag_ids.get(name.casefold())
        if known is None:
            known = (len(self._tag_ids) + 1, name)
            self._tag_ids[name.casefold()] = known
        return known[1]

    def _dnc_entry(self, channel: str, reason: int, at: datetime) -> dict[str, Any]:
        return {
            "id": self._next_id(),
            "dateAdded": _iso(at),
            "reason": reason,
            "comments": None,
            "channel": channel,
            "channelId": None,
        }

    def _add_device(self, contact: _Contact, agent: str) -> None:
        if any(d["clientInfo"].get("userAgent") == agent for d in contact.devices):
            return
        device = {"id": self._next_id(), **_describe_agent(agent)}
        device["clientInfo"]["userAgent"] = agent
        contact.devices.append(device)

    def _sync_company(self, contact: _Contact, at: datetime) -> None:
        """Keep the company associations in step with the `company` field."""
        name = contact.values.get("company")
        company_id = None
        if name:
            known = self._companies.get(name.casefold())
            if known is None:
                known = (len(self._companies) + 1, name, at)
                self._companies[name.casefold()] = known
            company_id = known[0]
            if all(link.company_id != company_id for link in contact.companies):
                contact.companies.append(_CompanyLink(company_id, at, True))
        for link in contact.companies:
            link.primary = link.company_id == company_id

    def _find(self, request: Request) -> _Contact:
        contact_id = whole_number(request.path_params["id"])
        contact = self._contacts.get(contact_id) if contact_id is not None else None
        if contact is None:
            raise _not_found()
        return contact

    def _by_email(self, email: str) -> _Contact | None:
        contact_id = self._emails.get(email.casefold())
        return self._contacts[contact_id] if contact_id is not None else None

    def _index_email(self, contact: _Contact, old: str | None) -> None:
        """Move `contact` in the email index from `old` to its current email."""
        if old:
            del self._emails[old.casefold()]
        email = contact.values.get("email")
        if email:
            self._emails[email.casefold()] = contact.id

    def _check_email_free(self, write: _Write, contact_id: int | None) -> None:
        email = write.email()
        other = self._by_email(email) if email else None
        if other is not None and other.id != contact_id:
            raise _invalid({"email": ["This email is already used by another contact."]})

    def _apply(self, contact: _Contact, write: _Write, now: datetime, *, replace: bool) -> None:
        """Store a validated write; `replace` (PUT) first blanks every field."""
        old_email = contact.values.get("email")
        if replace:
            contact.values = dict.fromkeys(_TEXT_ALIASES)
        for alias, value in write.fields.items():
            if value is None and not write.overwrite_blank:
                continue
            if alias == "points":
                contact.points = value if isinstance(value, int) else 0
            else:
                contact.values[alias] = value if isinstance(value, str) else None
        for add, name in write.tags:
            present = [t for t in contact.tags if t.casefold() == name.casefold()]
            if add and not present:
                contact.tags.append(self._tag(name))
            elif not add:
                contact.tags = [t for t in contact.tags if t not in present]
        if write.owner_given:
            contact.owner_id = write.owner
        if write.ip_address and write.ip_address not in contact.ip_addresses:
            contact.ip_addresses.append(write.ip_address)
        if write.last_active:
            contact.last_active = write.last_active
        if contact.date_identified is None and any(
            contact.values.get(a) for a in ("email", "firstname", "lastname")
        ):
            contact.date_identified = now
        self._index_email(contact, old_email)
        self._sync_company(contact, now)

    def _create(self, write: _Write, now: datetime) -> _Contact:
        contact = _Contact(
            id=self._next_contact, date_added=now, values=dict.fromkeys(_TEXT_ALIASES)
        )
        self._next_contact += 1
        self._apply(contact, write, now, replace=False)
        self._contacts[contact.id] = contact
        return contact

    def _edit(self, contact: _Contact, write: _Write, now: datetime, *, replace: bool) -> None:
        self._apply(contact, write, now, replace=replace)
        contact.date_modified = now
        contact.modified_by = API_USER.id

    def _upsert(self, body: Any, now: datetime) -> tuple[_Contact, int]:
        """`/contacts/new` for one body: (contact, 201 created | 200 updated by email)."""
        if not isinstance(body, dict):
            raise ProviderError(400, "Request body must be an object.", code="bad_request")
        write = _parse_write(body)
        email = write.email()
        existing = self._by_email(email) if email else None
        if existing is not None:
            self._edit(existing, write, now, replace=False)
            return existing, 200
        return self._create(write, now), 201

    def _edit_by_id(
        self, contact_id: int, body: dict[str, Any], now: datetime, *, create: bool
    ) -> tuple[_Contact, int]:
        """PUT (`create`) or PATCH of one contact: (contact, 201 created | 200 edited)."""
        contact = self._contacts.get(contact_id)
        if contact is None and not create:
            raise _not_found()
        write = _parse_write(body)
        self._check_email_free(write, contact.id if contact else None)
        if contact is None:
            return self._create(write, now), 201
        self._edit(contact, write, now, replace=create)
        return contact, 200

    def _remove(self, contact: _Contact) -> dict[str, Any]:
        body = self._contact_json(contact)
        del self._contacts[contact.id]
        email = contact.values.get("email")
        if email:
            del self._emails[email.casefold()]
        self._events = [e for e in self._events if e.contact_id != contact.id]
        return body

    @staticmethod
    def _check_batch_size(count: int) -> None:
        if count > BATCH_LIMIT:
            raise ProviderError(
                400,
                f"A max of {BATCH_LIMIT} entities are supported at a time.",
                code="batch_limit",
            )

    def _batch_entry_error(self, error: ProviderError) -> dict[str, Any]:
        body: dict[str, Any] = self.error_body(error)["errors"][0]
        return body

    def _batch(
        self, items: list[Any], write: Callable[[Any], tuple[_Contact, int]]
    ) -> dict[str, Any]:
        """`write` each item; a refused item is reported under its index and the rest go on."""
        self._check_batch_size(len(items))
        contacts: list[dict[str, Any]] = []
        codes: list[int] = []
        errors: dict[str, Any] = {}
        for index, item in enumerate(items):
            try:
                contact, status = write(item)
            except ProviderError as exc:
                codes.append(exc.status)
                errors[str(index)] = self._batch_entry_error(exc)
                continue
            codes.append(status)
            contacts.append(self._contact_json(contact))
        return {"contacts": contacts, "statusCodes": codes, "errors": errors}

    async def _optional_body(self, request: Request) -> dict[str, Any]:
        if not (await request.body()).strip():
            return {}
        body: dict[str, Any] = await self.json_body(request, expect=dict)
        return body

    # -- contacts ---------------------------------------------------------------

    async def get_contact(self, request: Request) -> Any:
        return {"contact": self._contact_json(self._find(request))}

    async def list_contacts(self, request: Request) -> Any:
        query = request.query_params
        start = _int_param(query, "start", 0, minimum=0)
        limit = _int_param(query, "limit", DEFAULT_LIMIT, minimum=1)
        _bool_param(query, "publishedOnly")  # every contact is published
        minimal = _bool_param(query, "minimal")
        sort = self._sort_keys(query)
        predicates = _search_predicates(query.get("search", "")) + _where_predicates(query)

        matches = [c for c in self._narrowed(predicates) if all(p(c) for p in predicates)]
        if not sort and _direction(query.get("orderByDir"), "orderByDir", "ASC") == "DESC":
            matches.reverse()
        # Stable sorts, last key first, give a multi-column order with id as the tie-break.
        for getter, descending in reversed(sort):
            matches.sort(key=_sort_by(getter), reverse=descending)
        page = matches[start : start + limit]
        return {
            "total": str(len(matches)),
            "contacts": {str(c.id): self._contact_json(c, minimal=minimal) for c in page},
        }

    def _narrowed(self, predicates: list[Predicate]) -> Iterable[_Contact]:
        """The contacts that may match `predicates`, in id order (the order they are
        stored in: ids only grow): those the email index gives for an email `in`
        condition, else all of them."""
        for predicate in predicates:
            if isinstance(predicate, _EmailIn):
                found = (self._emails.get(email) for email in predicate.wanted)
                ids = sorted(n for n in found if n is not None)
                return [self._contacts[n] for n in ids]
        return self._contacts.values()

    def _sort_keys(self, query: QueryParams) -> list[tuple[Getter, bool]]:
        keys: list[tuple[Getter, bool]] = []
        order_by = query.get("orderBy", "").strip()
        if order_by:
            direction = _direction(query.get("orderByDir"), "orderByDir", "ASC")
            keys.append((_column(order_by, "orderBy")[1], direction == "DESC"))
        statements: dict[int, dict[str, str]] = {}
        for key, value in query.multi_items():
            if key != "order" and not key.startswith("order["):
                continue
            match = _ORDER_KEY.fullmatch(key)
            if match is None:
                raise _bad_param("order", f"Unknown parameter {key!r}.")
            statements.setdefault(int(match.group(1)), {})[match.group(2)] = value
        for n in sorted(statements):
            param = f"order[{n}]"
            column = statements[n].get("col", "").strip()
            if not column:
                raise _bad_param(param, "An order statement needs col.")
            direction = _direction(statements[n].get("dir"), param, "ASC")
            keys.append((_column(column, param)[1], direction == "DESC"))
        return keys

    async def create_contact(self, request: Request) -> Response:
        body = await self.json_body(request, expect=dict)
        contact, status = self._upsert(body, _now())
        return self.json({"contact": self._contact_json(contact)}, status)

    async def patch_contact(self, request: Request) -> Response:
        contact = self._find(request)
        body = await self.json_body(request, expect=dict)
        edited, status = self._edit_by_id(contact.id, body, _now(), create=False)
        return self.json({"contact": self._contact_json(edited)}, status)

    async def put_contact(self, request: Request) -> Response:
        contact_id = whole_number(request.path_params["id"])
        if not contact_id:
            raise _not_found()
        body = await self.json_body(request, expect=dict)
        edited, status = self._edit_by_id(contact_id, body, _now(), create=True)
        return self.json({"contact": self._contact_json(edited)}, status)

    async def delete_contact(self, request: Request) -> Any:
        return {"contact": self._remove(self._find(request))}

    async def create_batch(self, request: Request) -> Response:
        items = await self.json_body(request, expect=list)
        now = _now()
        return self.json(self._batch(items, lambda item: self._upsert(item, now)), 201)

    async def patch_batch(self, request: Request) -> Any:
        return await self._edit_batch(request, create=False)

    async def put_batch(self, request: Request) -> Any:
        return await self._edit_batch(request, create=True)

    async def _edit_batch(self, request: Request, *, create: bool) -> Any:
        items = await self.json_body(request, expect=list)
        now = _now()

        def edit(item: Any) -> tuple[_Contact, int]:
            if not isinstance(item, dict):
                raise ProviderError(400, "Each entity must be an object.", code="bad_request")
            contact_id = _as_id(item.get("id"))
            if contact_id is None:
                raise _invalid({"id": ["Each entity needs the id of the contact to edit."]})
            return self._edit_by_id(contact_id, item, now, create=create)

        return self._batch(items, edit)

    async def delete_batch(self, request: Request) -> Any:
        ids = _id_list(",".join(_array_param(request.query_params, "ids")))
        if not ids:
            raise _bad_param("ids", "This value should be a comma-separated list of contact ids.")
        self._check_batch_size(len(ids))
        deleted: list[dict[str, Any]] = []
        errors: dict[str, Any] = {}
        for index, contact_id in enumerate(ids):
            contact = self._contacts.get(contact_id)
            if contact is None:
                errors[str(index)] = self._batch_entry_error(_not_found())
            else:
                deleted.append(self._remove(contact))
        return {"contacts": deleted, "errors": errors}

    # -- do not contact, UTM tags, points ---------------------------------------------

    def _channel(self, request: Request) -> str:
        channel: str = request.path_params["channel"]
        if not _CHANNEL.fullmatch(channel):
            raise _bad_param("channel", "This value is not a valid channel.")
        return channel

    async def add_dnc(self, request: Request) -> Any:
        contact = self._find(request)
        channel = self._channel(request)
        body = await self._optional_body(request)
        errors: dict[str, list[str]] = {}
        reason = _as_id(body.get("reason", DNC_MANUAL))
        if reason not in (DNC_UNSUBSCRIBED, DNC_BOUNCED, DNC_MANUAL):
            errors["reason"] = ["This value should be 1 (unsubscribed), 2 (bounced) or 3 (manual)."]
        channel_id = _as_id(body.get("channelId"))
        if body.get("channelId") is not None and channel_id is None:
            errors["channelId"] = ["This value should be an id."]
        comments = body.get("comments")
        if comments is not None and not isinstance(comments, str):
            errors["comments"] = ["This value should be of type string."]
        if errors:
            raise _invalid(errors)
        assert reason is not None
        entry = next((d for d in contact.dnc if d["channel"] == channel), None)
        if entry is None:
            entry = self._dnc_entry(channel, reason, _now())
            contact.dnc.append(entry)
        entry.update(reason=reason, comments=comments, channelId=channel_id)
        return {"contact": self._contact_json(contact)}

    async def remove_dnc(self, request: Request) -> Any:
        contact = self._find(request)
        channel = self._channel(request)
        await self._optional_body(request)
        contact.dnc = [d for d in contact.dnc if d["channel"] != channel]
        return {"contact": self._contact_json(contact)}

    async def add_utm(self, request: Request) -> Any:
        contact = self._find(request)
        body = await self.json_body(request, expect=dict)
        if not any(body.get(name) not in (None, "") for name in (*UTM_PARAMS, "query")):
            raise _bad_param("utm", "At least one UTM parameter is required.")
        values = _optional_text(body, (*UTM_PARAMS, "lastActive"))
        query = body.get("query")
        if isinstance(query, str):
            query = dict(parse_qsl(query.lstrip("?")))
        elif query is not None and not isinstance(query, dict):
            raise _bad_param("query", "This value should be an object or a query string.")
        last_active = None
        if values["lastActive"] is not None:
            last_active = _parse_datetime(values["lastActive"])
            if last_active is None:
                raise _bad_param("lastActive", "This value is not a valid datetime.")
        now = _now()
        entry: dict[str, Any] = {
            "id": self._next_id(),
            "dateAdded": _iso(now),
            "query": query or {},
            "referer": values["referer"],
            "remoteHost": values["remotehost"],
            "url": values["url"],
            "urlTitle": None,
            "userAgent": values["useragent"],
            "utmCampaign": values["utm_campaign"],
            "utmContent": values["utm_content"],
            "utmMedium": values["utm_medium"],
            "utmSource": values["utm_source"],
            "utmTerm": values["utm_term"],
        }
        contact.utmtags.append(entry)
        if values["useragent"]:
            self._add_device(contact, values["useragent"])
        if last_active:
            contact.last_active = last_active
        return {"contact": self._contact_json(contact)}

    async def remove_utm(self, request: Request) -> Any:
        contact = self._find(request)
        utm_id = whole_number(request.path_params["utmid"])
        if all(u["id"] != utm_id for u in contact.utmtags):
            raise _not_found()
        contact.utmtags = [u for u in contact.utmtags if u["id"] != utm_id]
        return {"contact": self._contact_json(contact)}

    async def add_points(self, request: Request) -> Any:
        return await self._change_points(request, 1)

    async def subtract_points(self, request: Request) -> Any:
        return await self._change_points(request, -1)

    async def _change_points(self, request: Request, sign: int) -> Any:
        contact = self._find(request)
        delta = whole_number(request.path_params["points"])
        if delta is None:
            raise _bad_param("points", "This value should be a whole number.")
        body = await self._optional_body(request)
        _optional_text(body, ("eventName", "actionName", "eventname", "actionname"))
        problem = _points_problem(contact.points + sign * delta)
        if problem is not None:
            raise _bad_param("points", problem)
        contact.points += sign * delta
        contact.date_modified = _now()
        contact.modified_by = API_USER.id
        return {"success": True}

    # -- lists ------------------------------------------------------------------

    async def list_owners(self, request: Request) -> Any:
        return [{"id": u.id, "firstName": u.first_name, "lastName": u.last_name} for u in USERS]

    async def list_fields(self, request: Request) -> Any:
        return {
            str(f.id): {
                "id": f.id,
                "label": f.label,
                "alias": f.alias,
                "type": f.type,
                "group": f.group,
                "order": f.id,
            }
            for f in FIELDS
        }

    async def list_notes(self, request: Request) -> Any:
        contact = self._find(request)
        query = request.query_params
        start = _int_param(query, "start", 0, minimum=0)
        limit = _int_param(query, "limit", DEFAULT_LIMIT, minimum=1)
        columns: dict[str, Callable[[_Note], Any]] = {
            "id": lambda n: n.id,
            "text": lambda n: n.text.casefold(),
            "type": lambda n: n.type,
            "dateTime": lambda n: n.at,
            "date_time": lambda n: n.at,
        }
        order_by = query.get("orderBy", "").strip() or "dateTime"
        if order_by not in columns:
            raise _bad_param("orderBy", f"Unknown column {order_by!r}.")
        descending = _direction(query.get("orderByDir"), "orderByDir", "DESC") == "DESC"
        search = query.get("search", "").strip().casefold()
        notes = [n for n in contact.notes if search in n.text.casefold()]
        notes.sort(key=lambda n: (columns[order_by](n), n.id), reverse=descending)
        return {
            "total": len(notes),
            "notes": [
                {"id": n.id, "text": n.text, "type": n.type, "dateTime": _iso(n.at)}
                for n in notes[start : start + limit]
            ],
        }

    async def list_segments(self, request: Request) -> Any:
        contact = self._find(request)
        lists = {
            str(sid): {
                "id": sid,
                "name": self._segments[sid][0],
                "alias": self._segments[sid][1],
                "dateAdded": _iso(added),
                "manuallyAdded": False,
                "manuallyRemoved": False,
            }
            for sid, added in sorted(contact.segments.items())
            if sid in self._segments
        }
        return {"total": len(lists), "lists": lists}

    async def list_automations(self, request: Request) -> Any:
        contact = self._find(request)
        automations = {
            str(aid): {
                "id": aid,
                "name": name,
                "dateAdded": _iso(contact.segments[segment]),
                "manuallyAdded": False,
                "manuallyRemoved": False,
                "listMembership": [segment],
            }
            for aid, (name, segment) in sorted(self._automations.items())
            if segment in contact.segments
        }
        return {"total": len(automations), "automations": automations}

    async def list_companies(self, request: Request) -> Any:
        contact = self._find(request)
        by_id = {cid: (name, added) for cid, name, added in self._companies.values()}
        companies = [
            {
                "company_id": link.company_id,
                "date_associated": _iso(link.associated),
                "date_added": _iso(by_id[link.company_id][1]),
                "is_primary": link.primary,
                "companyname": by_id[link.company_id][0],
                "companyemail": None,
                "companycity": None,
                "score": 0,
            }
            for link in contact.companies
        ]
        return {"total": len(companies), "companies": companies}

    async def list_devices(self, request: Request) -> Any:
        contact = self._find(request)
        return {"total": len(contact.devices), "devices": [dict(d) for d in contact.devices]}

    # -- activity ---------------------------------------------------------------

    async def contact_activity(self, request: Request) -> Any:
        return self._activity(request.query_params, self._find(request).id)

    async def all_activity(self, request: Request) -> Any:
        return self._activity(request.query_params, None)

    def _activity(self, query: QueryParams, contact_id: int | None) -> dict[str, Any]:
        page = _int_param(query, "page", 1, minimum=1)
        limit = _int_param(query, "limit", ACTIVITY_LIMIT, minimum=1)
        search = query.get("filters[search]", "").strip()
        include = _array_param(query, "filters[includeEvents]")
        exclude = _array_param(query, "filters[excludeEvents]")
        date_from = _date_param(query, "filters[dateFrom]", end_of_day=False)
        date_to = _date_param(query, "filters[dateTo]", end_of_day=True)
        columns: dict[str, Callable[[_Event], Any]] = {
            "timestamp": lambda e: e.at,
            "eventLabel": lambda e: e.label.casefold(),
            "eventType": lambda e: e.type_label.casefold(),
            "event": lambda e: e.event,
            "contactId": lambda e: e.contact_id,
        }
        order = _array_param(query, "order")
        column = query.get("orderBy", "").strip() or (order[0] if order else "timestamp")
        if column not in columns:
            raise _bad_param("orderBy", f"Unknown column {column!r}.")
        raw_direction = query.get("orderByDir") or (order[1] if len(order) > 1 else None)
        direction = _direction(raw_direction, "orderByDir", "DESC")

        needle = search.casefold()

        def keep(e: _Event) -> bool:
            haystack = [e.label, e.type_label, e.event, *map(str, e.details.values())]
            return (
                (contact_id is None or e.contact_id == contact_id)
                and (not include or e.event in include)
                and e.event not in exclude
                and (date_from is None or e.at >= date_from)
                and (date_to is None or e.at <= date_to)
                and (not needle or any(needle in h.casefold() for h in haystack))
            )

        events = [e for e in self._events if keep(e)]
        events.sort(key=lambda e: (columns[column](e), e.seq), reverse=direction == "DESC")
        return {
            "events": [self._event_json(e) for e in events[(page - 1) * limit : page * limit]],
            "filters": {
                "search": search,
                "includeEvents": include,
                "excludeEvents": exclude,
                "dateFrom": _iso(date_from),
                "dateTo": _iso(date_to),
            },
            "order": [column, direction],
            "types": self._event_types,
            "total": len(events),
            "page": page,
            "limit": limit,
            "maxPages": math.ceil(len(events) / limit),
        }
