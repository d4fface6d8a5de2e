from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.domain.federation import PRECEDENCE_FIELDS, Person, Precedence, merge
from gateway.domain.normalize import phone_key
from gateway.domain.provenance import (
    FieldConflict,
    FieldSource,
    FieldValue,
    comparable,
    conflicts,
    field_sources,
)
from gateway.domain.records import ContactRecord, Provider, WrittenSource

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)
TUESDAY = datetime(2025, 3, 4, tzinfo=UTC)


def record(provider: Provider, remote_id: str, **fields: object) -> ContactRecord:
    return ContactRecord(provider=provider, remote_id=remote_id, **fields)  # type: ignore[arg-type]


def person(*records: ContactRecord, precedence: Precedence | None = None) -> Person:
    [found] = merge(records, precedence or Precedence())
    return found


def adaptix(**fields: Any) -> ContactRecord:
    return record(Provider.ADAPTIX, "1", email="dana@example.test", updated_at=MONDAY, **fields)


def lunarsend(**fields: Any) -> ContactRecord:
    return record(Provider.LUNARSEND, "l1", email="dana@example.test", **fields)


def test_each_field_names_the_record_pick_took_its_value_from() -> None:
    dana = person(
        lunarsend(phones=["+1 555 0199"], job_title="CTO"),
        adaptix(phones=["+1 555 0100"], company="Acme"),
    )
    assert field_sources(dana, ("email", "phones", "company", "job_title", "urls")) == [
        FieldSource("email", Provider.ADAPTIX, MONDAY),
        FieldSource("phones", Provider.ADAPTIX, MONDAY),
        FieldSource("company", Provider.ADAPTIX, MONDAY),
        FieldSource("job_title", Provider.LUNARSEND, None),
    ]
    for source in field_sources(dana):
        chosen = dana.source(source.provider)
        assert chosen is not None
        assert dana.pick(source.field) == getattr(chosen, source.field)


def test_a_per_field_precedence_moves_the_source() -> None:
    records = (adaptix(phones=["+1 555 0100"]), lunarsend(phones=["+1 555 0199"]))
    lunar_phones = Precedence(fields={"phones": (Provider.LUNARSEND,)})
    assert field_sources(person(*records, precedence=lunar_phones), ("email", "phones")) == [
        FieldSource("email", Provider.ADAPTIX, MONDAY),
        FieldSource("phones", Provider.LUNARSEND, None),
    ]


def test_a_name_no_record_holds_comes_from_the_first_names_record() -> None:
    dana = person(record(Provider.TRUSTMARY, "t", email="d@x.io", last_name="Quinn"))
    assert field_sources(dana, ("first_name", "last_name", "name")) == [
        FieldSource("last_name", Provider.TRUSTMARY, None),
        FieldSource("name", Provider.TRUSTMARY, None),
    ]
    both = person(
        record(Provider.ADAPTIX, "1", email="d@x.io", last_name="Quinn"),
        record(Provider.LUNARSEND, "l", email="d@x.io", first_name="Dana"),
    )
    assert [(s.field, s.provider) for s in field_sources(both, ("name",))] == [
        ("name", Provider.LUNARSEND)
    ]


def test_different_phones_are_a_conflict_listed_in_precedence_order() -> None:
    dana = person(
        lunarsend(phones=["+1 555 0199"]), adaptix(phones=["+1 555 0100"]), precedence=None
    )
    assert conflicts(dana) == [
        FieldConflict(
            "phones",
            (
                FieldValue(Provider.ADAPTIX, ["+1 555 0100"], MONDAY),
                FieldValue(Provider.LUNARSEND, ["+1 555 0199"], None),
            ),
        )
    ]
    lunar_first = Precedence(fields={"phones": (Provider.LUNARSEND,)})
    [phones] = conflicts(
        person(
            adaptix(phones=["+1 555 0100"]),
            lunarsend(phones=["1-555-0199"]),
            precedence=lunar_first,
        )
    )
    assert [v.provider for v in phones.values] == [Provider.LUNARSEND, Provider.ADAPTIX]


@pytest.mark.parametrize(
    ("field", "ours", "theirs"),
    [
        ("email", "Dana@Example.test", " dana@example.TEST"),
        ("phones", ["+1 (555) 0100"], ["001 555 0100"]),
        ("phones", ["+15550100", "+15550199"], ["+1 555 0199", "+1 555 0100"]),
        ("company", "Acme  Corp", "ACME CORP"),
        ("first_name", " Dana", "DANA"),
        ("job_title", "Head of  Sales", "head of sales"),
        ("urls", ["https://Acme.test/"], ["https://acme.test"]),
    ],
)
def test_values_equal_once_normalized_are_no_conflict(field: str, ours: Any, theirs: Any) -> None:
    dana = person(
        record(Provider.ADAPTIX, "1", external_id="u-1", **{field: ours}),
        record(Provider.TRUSTMARY, "t", external_id="u-1", **{field: theirs}),
    )
    assert conflicts(dana) == []


@pytest.mark.parametrize(
    ("field", "ours", "theirs"),
    [
        ("email", "dana@example.test", "dana.quinn@example.test"),
        ("phones", ["+1 555 0100"], ["+1 555 0100", "+1 555 0199"]),
        ("company", "Acme", "Globex"),
        ("last_name", "Quinn", "Quinn-Berg"),
        ("external_id", "u-1", "U-1"),
        ("points", 0, 12),
    ],
)
def test_different_values_are_a_conflict(field: str, ours: Any, theirs: Any) -> None:
    # Joined on the external id when the emails differ, else on the email.
    join = {"external_id": "u-1"} if field == "email" else {"email": "d@x.io"}
    dana = person(
        record(Provider.ADAPTIX, "1", **{**join, field: ours}),
        record(Provider.TRUSTMARY, "t", **{**join, field: theirs}),
    )
    [found] = [c for c in conflicts(dana) if c.field == field]
    assert [(v.provider, v.value) for v in found.values] == [
        (Provider.ADAPTIX, ours),
        (Provider.TRUSTMARY, theirs),
    ]


def test_empty_values_and_a_lone_record_are_no_conflict() -> None:
    dana = person(adaptix(company="Acme", phones=[]), lunarsend(company="  ", phones=["()"]))
    assert conflicts(dana) == []
    assert conflicts(person(adaptix(company="Acme"))) == []


def test_every_holder_is_listed_when_two_agree_and_one_differs() -> None:
    dana = person(
        adaptix(company="Acme"),
        record(
            Provider.TRUSTMARY, "t", email="dana@example.test", company="ACME", updated_at=TUESDAY
        ),
        lunarsend(company="Globex"),
    )
    [company] = conflicts(dana)
    assert [(v.provider, v.value) for v in company.values] == [
        (Provider.ADAPTIX, "Acme"),
        (Provider.TRUSTMARY, "ACME"),
        (Provider.LUNARSEND, "Globex"),
    ]
    assert company.values[1].updated_at == TUESDAY


def test_what_the_gateway_wrote_to_write_only_providers_does_not_count() -> None:
    dana = person(adaptix(company="Acme"))
    dana.written = [
        WrittenSource(Provider.AKITA, "u-1", MONDAY, {"company": "Globex", "phones": ["+1"]})
    ]
    assert conflicts(dana) == []
    assert {s.provider for s in field_sources(dana)} == {Provider.ADAPTIX}


def test_fields_keep_the_order_asked_for() -> None:
    dana = person(
        adaptix(company="Acme", phones=["+1 555 0100"], first_name="Dana"),
        lunarsend(company="Globex", phones=["+1 555 0199"], first_name="Daniela"),
    )
    assert [c.field for c in conflicts(dana)] == ["first_name", "phones", "company"]
    order = ("company", "phones", "first_name")
    assert [c.field for c in conflicts(dana, order)] == list(order)
    assert [s.field for s in field_sources(dana, order)] == list(order)
    assert set(PRECEDENCE_FIELDS) >= {s.field for s in field_sources(dana)}


@pytest.mark.parametrize(
    ("phone", "form"),
    [
        ("+358 40 123 4567", "+358401234567"),
        ("00358401234567", "+358401234567"),
        ("+1 555 010 0100", "+15550100100"),
        ("(555) 010-0100", "+15550100100"),
        ("12", "12"),
        ("ext.", None),
        ("", None),
        (None, None),
    ],
)
def test_phones_compare_in_e164_else_by_digits(phone: str | None, form: str | None) -> None:
    assert phone_key(phone) == form


def test_lists_compare_as_sets_and_blank_forms_are_empty() -> None:
    assert comparable("phones", ["+1 555", "1555"]) == frozenset({"1555"})
    assert comparable("phones", ["+1 555 010 0100", "(555) 010-0100"]) == frozenset(
        {"+15550100100"}
    )
    assert comparable("phones", ["n/a"]) is None
    assert comparable("email", "  ") is None
    assert comparable("points", 0) == 0
