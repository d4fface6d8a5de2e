"""`ContactWrite` as the write journal keeps it: JSON and back, every field."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

from gateway.domain.records import ContactType, ContactWrite, Lifecycle, PostalAddress

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
