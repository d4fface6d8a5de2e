"""A deterministic seed data set shared by the emulators.

`generate(seed)` gives the same people for the same seed. People live in the
readable providers (Adaptix, Trustmary, Lunar Send); some in two or three of
them, with the variations real data has: an email cased differently, another
phone, another company. Each emulator turns `SeedPerson.records[key]` into
its own storage shape.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

ADAPTIX = "adaptix"
TRUSTMARY = "trustmary"
LUNARSEND = "lunarsend"

FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kira", "Liam", "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara",
    "Umar", "Vera", "Wen", "Xavi", "Yara", "Zane", "Aino", "Bruno", "Carmen", "Dario",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Okafor", "Martin", "Patel", "Rossi", "Haddad", "Hopper", "Laurent",
    "Silva", "Berg", "Tanaka", "Murphy", "Cohen", "Fischer", "Ivanova", "Novak",
    "Walsh", "Garcia", "Virtanen", "Singh", "Khan", "Costa", "Li", "Ortega", "Nyström",
    "Keller", "Mäkinen", "Dubois", "Alvarez", "Romano",
)  # fmt: skip
COMPANIES = (
    ("Acme Corp", "acme.test"), ("Globex", "globex.test"), ("Initech", "initech.test"),
    ("Umbrella Health", "umbrella.test"), ("Stark Industries", "stark.test"),
    ("Wayne Enterprises", "wayne.test"), ("Hooli", "hooli.test"),
    ("Vandelay Imports", "vandelay.test"),
    ("Soylent Foods", "soylent.test"), ("Tyrell Systems", "tyrell.test"),
    ("Cyberdyne", "cyberdyne.test"),
    ("Wonka Labs", "wonka.test"), ("Oceanic Air", "oceanic.test"), ("Pied Piper", "piedpiper.test"),
    ("Gringotts Bank", "gringotts.test"), ("Monarch Solutions", "monarch.test"),
    ("Nakatomi Trading", "nakatomi.test"), ("Blue Sun", "bluesun.test"),
    ("Dunder Paper", "dunder.test"),
    ("Massive Dynamic", "massive.test"), ("Aperture Science", "aperture.test"),
    ("Black Mesa", "blackmesa.test"), ("Oscorp", "oscorp.test"), ("Virtucon", "virtucon.test"),
)  # fmt: skip
JOB_TITLES = (
    "CEO", "CTO", "Head of Sales", "Account Executive", "Marketing Manager", "Engineer",
    "Product Manager", "Support Lead", "Designer", "Analyst", None,
)  # fmt: skip
TAGS = ("vip", "newsletter", "trial", "churn-risk", "partner", "beta", "webinar-2026")
EVENT_TYPES = (
    ("page.hit", "Page hit"),
    ("form.submitted", "Form submitted"),
    ("email.read", "Email read"),
    ("point.gained", "Point gained"),
)
NOTE_TYPES = ("general", "email", "call", "meeting")
NOTE_TOPICS = ("follow up", "demo", "renewal", "pricing")
BASE_TIME = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

# How many people are in which readable providers (320 in all, 48 in several).
LAYOUT: tuple[tuple[frozenset[str], int], ...] = (
    (frozenset({ADAPTIX, TRUSTMARY, LUNARSEND}), 16),
    (frozenset({ADAPTIX, TRUSTMARY}), 16),
    (frozenset({ADAPTIX, LUNARSEND}), 8),
    (frozenset({TRUSTMARY, LUNARSEND}), 8),
    (frozenset({ADAPTIX}), 140),
    (frozenset({TRUSTMARY}), 90),
    (frozenset({LUNARSEND}), 42),
)


@dataclass(frozen=True)
class SeedRecord:
    """One provider's view of a person."""

    first_name: str
    last_name: str
    email: str
    phone: str | None
    company: str | None
    job_title: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SeedNote:
    text: str
    type: str
    at: datetime


@dataclass(frozen=True)
class SeedEvent:
    event: str
    label: str
    at: datetime
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedList:
    id: str
    name: str
    type: str


@dataclass(frozen=True)
class SeedSegment:
    id: int
    name: str
    alias: str


@dataclass(frozen=True)
class SeedPerson:
    index: int
    external_id: str
    account_id: str
    records: dict[str, SeedRecord]
    tags: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    segments: tuple[int, ...] = ()
    notes: tuple[SeedNote, ...] = ()
    events: tuple[SeedEvent, ...] = ()
    points: int = 0
    contact_type: str = "customer"


@dataclass(frozen=True)
class SeedData:
    people: tuple[SeedPerson, ...]
    companies: tuple[str, ...]
    tags: tuple[str, ...]
    lists: tuple[SeedList, ...]
    segments: tuple[SeedSegment, ...]

    def in_provider(self, key: str) -> list[SeedPerson]:
        return [p for p in self.people if key in p.records]

    def shared(self) -> list[SeedPerson]:
        return [p for p in self.people if len(p.records) > 1]


def _list_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(9))


def generate(seed: int = 0) -> SeedData:
    """The seed data set for `seed`; the same seed always gives the same data."""
    rng = random.Random(seed)
    lists = tuple(
        SeedList(_list_id(rng), name, kind)
        for name, kind in (
            ("Customers 2026", "customer"),
            ("NPS survey", "customer"),
            ("Case study candidates", "customer"),
            ("Staff", "employee"),
        )
    )
    segments = (
        SeedSegment(1, "Newsletter subscribers", "newsletter-subscribers"),
        SeedSegment(2, "Hot leads", "hot-leads"),
        SeedSegment(3, "Customers", "customers"),
    )
    people: list[SeedPerson] = []
    index = 0
    for providers, count in LAYOUT:
        for _ in range(count):
            people.append(_person(rng, index, providers, lists))
            index += 1
    return SeedData(
        people=tuple(people),
        companies=tuple(name for name, _ in COMPANIES),
        tags=TAGS,
        lists=lists,
        segments=segments,
    )


def _person(
    rng: random.Random, index: int, providers: frozenset[str], lists: tuple[SeedList, ...]
) -> SeedPerson:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 7 + index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    company, domain = COMPANIES[rng.randrange(len(COMPANIES))]
    email = f"{first}.{last}.{index}@{domain}".lower().replace("ä", "a").replace("ö", "o")
    phone = f"+35840{rng.randrange(10**6, 10**7)}"
    job = JOB_TITLES[rng.randrange(len(JOB_TITLES))]
    created = BASE_TIME + timedelta(hours=7 * index, minutes=rng.randrange(60))
    updated = created + timedelta(days=rng.randrange(1, 200), minutes=rng.randrange(60))
    base = SeedRecord(first, last, email, phone, company, job, created, updated)

    records: dict[str, SeedRecord] = {}
    for n, key in enumerate(sorted(providers)):
        record = base
        if n > 0:
            # Later copies of a shared person drift the way real data does.
            variant = (index + n) % 4
            if variant == 0:
                record = replace(record, email=_recase(email))
            elif variant == 1:
                record = replace(record, phone=f"+35850{rng.randrange(10**6, 10**7)}")
            elif variant == 2:
                other, _ = COMPANIES[(COMPANIES.index((company, domain)) + 1) % len(COMPANIES)]
                record = replace(record, company=other)
            else:
                record = replace(record, company=company.upper(), email=email.upper())
            record = replace(record, updated_at=updated + timedelta(days=n * 3))
        records[key] = record

    tags = tuple(sorted(rng.sample(TAGS, rng.randrange(0, 3))))
    notes = tuple(
        SeedNote(
            f"{NOTE_TYPES[k % 4].title()} with {first}: {rng.choice(NOTE_TOPICS)}",
            NOTE_TYPES[(index + k) % 4],
            created + timedelta(days=5 * k + 1, hours=k),
        )
        for k in range(rng.randrange(0, 3))
    )
    events = tuple(
        SeedEvent(
            EVENT_TYPES[(index + k) % 4][0],
            EVENT_TYPES[(index + k) % 4][1],
            created + timedelta(days=3 * k + 2, minutes=13 * k),
            {"url": f"https://{domain}/page/{k}"} if (index + k) % 4 == 0 else {},
        )
        for k in range(rng.randrange(0, 6))
    )
    return SeedPerson(
        index=index,
        external_id=f"usr-{index:05d}",
        account_id=f"acct-{COMPANIES.index((company, domain)):03d}",
        records=records,
        tags=tags,
        lists=tuple(sorted({lists[rng.randrange(3)].id for _ in range(rng.randrange(0, 3))})),
        segments=tuple(sorted(set(rng.sample((1, 2, 3), rng.randrange(0, 3))))),
        notes=notes,
        events=events,
        points=rng.randrange(0, 120),
        contact_type="employee" if index % 37 == 0 else "customer",
    )


def _recase(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.title()}@{domain.title()}"
