"""`ContactWrite` as the write journal keeps it: JSON and back, every field."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

from gateway.domain.records import (
    ContactChange,
    ContactType,
    ContactWrite,
    Lifecycle,
    PostalAddress,
)

EVERY_FIELD = ContactWrite(
    email="ada@example.test",
    external_id="u-1",
    account_external_id="acct-1",
    first_name="Ada",
    last_name="Lovelace",
    phones=("+15550100100",),
    company="Engines",
    job_title="Analyst",
    tags=("vip",),
    custom_fields={"plan": "pro"},
    urls=("https://ada.example.test",),
    notes="Met at a fair",
    type=ContactType.EMPLOYEE,
    lifecycle=Lifecycle.LEAD,
    address=PostalAddress(city="London", postal_code="SW1Y 4JH"),
    signed_up_at=datetime(2026, 1, 31, 11, 30, tzinfo=timezone(timedelta(hours=2))),
    owner_id="3",
)


def test_every_field_round_trips_through_json() -> None:
    stored = json.loads(json.dumps(EVERY_FIELD.values()))

    assert stored["type"] == "employee"
    assert stored["lifecycle"] == "lead"
    assert stored["address"] == {"city": "London", "postal_code": "SW1Y 4JH"}
    assert stored["signed_up_at"] == "2026-01-31T11:30:00+02:00"
    again = ContactWrite.of_values(stored)
    assert again == EVERY_FIELD
    assert again.signed_up_at == datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    # A field added later must be added above, and so proven to round-trip.
    assert {f.name for f in fields(ContactWrite)} == set(stored)


def test_given_parts_names_the_parts_of_an_address() -> None:
    assert EVERY_FIELD.given_parts("address") == ["address.city", "address.postal_code"]
    assert EVERY_FIELD.given_parts("email") == []
    assert ContactWrite().given_parts("address") == []


def test_every_field_of_a_change_round_trips_through_json_cleared_parts_too() -> None:
    change = ContactChange(
        {
            "email": "ada@example.test",
            "company": None,
            "phones": ("+15550100100",),
            "urls": ("https://ada.example.test",),
            "notes": None,
            "type": ContactType.CUSTOMER,
            "address": {"line1": "12 Square", "state": None, "postal_code": None},
            "signed_up_at": datetime(2026, 1, 31, 9, 30, tzinfo=UTC),
            "owner_id": "3",
            "custom_fields": {"plan": "pro", "tier": None},
        }
    )
    stored = json.loads(json.dumps(change.json()))

    assert stored["type"] == "customer"
    # A part given null is a part to clear: it stays in the journal's JSON.
    assert stored["address"] == {"line1": "12 Square", "state": None, "postal_code": None}
    assert stored["signed_up_at"] == "2026-01-31T09:30:00+00:00"
    again = ContactChange.of_json(stored)
    assert again == change
    assert again.address() == {"line1": "12 Square", "state": None, "postal_code": None}
    assert again.cleared() == ["company", "notes"]


def test_an_address_cleared_whole_clears_every_part_and_round_trips() -> None:
    change = ContactChange({"address": None, "urls": None})
    again = ContactChange.of_json(json.loads(json.dumps(change.json())))

    assert again == change
    assert again.cleared() == ["urls", "address"]
    assert again.address() == dict.fromkeys(
        ("line1", "line2", "city", "state", "postal_code", "country")
    )
    assert ContactChange({}).address() == {}


def test_the_change_an_upsert_makes_holds_the_address_parts_it_sets() -> None:
    change = ContactChange.of_write(EVERY_FIELD)

    assert change.get("address") == {"city": "London", "postal_code": "SW1Y 4JH"}
    assert ContactChange.of_json(json.loads(json.dumps(change.json()))) == change
