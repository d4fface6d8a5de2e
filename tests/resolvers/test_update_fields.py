"""The `ContactPatch` fields only some providers keep (urls, notes, type, address,
signedUpAt, ownerId), changed through the real schema and read back from what each
emulator stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, records, reset, stats
from tests.resolvers.test_update_contact import (
    PREVIEW,
    UPDATE,
    adaptix_record,
    rows,
    upserted,
    writes_made,
)
from tests.resolvers.test_write_fields import EVERYTHING, stored
from tests.resolvers.test_write_journal import QUICK, controls, operation, retry_due

GRACE = {
    "email": "grace.fields@navy.test",
    "externalId": "u-1906",
    "accountExternalId": "acct-navy",
    "firstName": "Grace",
    "lastName": "Hopper",
    "urls": ["https://grace.navy.test"],
    "type": "CUSTOMER",
    "address": {
        "line1": "1 Navy Way",
        "line2": "Room 2",
        "city": "Arlington",
        "state": "VA",
        "postalCode": "22202",
        "country": "United States",
    },
    "ownerId": "2",
}
ADDRESS_ALIASES = ("address1", "address2", "city", "state", "zipcode", "country")


async def update(gateway: Any, contact_id: str, patch: dict[str, Any], *providers: str) -> Any:
    variables = {"id": contact_id, "patch": patch, "providers": list(providers) or None}
    result = await execute(gateway, UPDATE, variables)
    assert result.errors == [], result.errors
    return result.data["updateContact"]


def address(record: dict[str, Any]) -> dict[str, Any]:
    return {alias: record["fields"]["all"][alias] for alias in ADDRESS_ALIASES}


async def test_website_address_and_owner_reach_the_adaptix_record(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)
    await reset(client)

    patch = {
        "urls": ["https://hopper.navy.test", "https://cobol.navy.test"],
        "address": {"line1": "2 Fleet Street", "postalCode": "22203"},
        "ownerId": "4",
    }
    [row] = (await update(gateway, contact_id, patch, "ADAPTIX"))["results"]

    # Adaptix keeps one website: the second url is not stored, and the row says so.
    assert (row["status"], row["droppedFields"]) == ("UPDATED", ["urls[1]"])
    assert await writes_made(client, "adaptix") == {"PATCH /api/contacts/{id}/edit": 1}
    record = await adaptix_record(client, GRACE["email"])
    assert record["fields"]["all"]["website"] == "https://hopper.navy.test"
    assert record["owner"]["id"] == 4
    # The parts given are set; the parts left out are kept.
    assert address(record) == {
        "address1": "2 Fleet Street",
        "address2": "Room 2",
        "city": "Arlington",
        "state": "VA",
        "zipcode": "22203",
        "country": "United States",
    }


async def test_null_clears_an_address_part_the_website_and_the_owner_at_adaptix(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)

    patch = {"address": {"line2": None, "state": None}, "urls": None, "ownerId": None}
    [row] = (await update(gateway, contact_id, patch, "ADAPTIX"))["results"]

    assert (row["status"], row["droppedFields"]) == ("UPDATED", [])
    record = await adaptix_record(client, GRACE["email"])
    assert address(record) == {
        "address1": "1 Navy Way",
        "address2": None,
        "city": "Arlington",
        "state": None,
        "zipcode": "22202",
        "country": "United States",
    }
    assert record["fields"]["all"]["website"] is None
    assert record["owner"] is None

    # The address given as null clears every part.
    [row] = (await update(gateway, contact_id, {"address": None}, "ADAPTIX"))["results"]
    assert row["status"] == "UPDATED"
    record = await adaptix_record(client, GRACE["email"])
    assert set(address(record).values()) == {None}
    assert record["fields"]["all"]["lastname"] == "Hopper"


async def test_notes_are_reported_dropped_at_lunarsend_which_edits_name_email_phone_only(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, {**GRACE, "notes": "First met in 1944"})
    await reset(client)

    patch = {"notes": "Wrote the first compiler", "phones": ["+15550100100"]}
    [row] = (await update(gateway, contact_id, patch, "LUNARSEND"))["results"]
    assert (row["status"], row["droppedFields"]) == ("UPDATED", ["notes"])
    assert "only lets name, email and phone be edited" in row["message"]
    record = await stored(client, "lunarsend", GRACE["email"])
    assert (record["notes"], record["phone"]) == ("First met in 1944", "+15550100100")

    # Notes alone: nothing Lunar Send can change, so nothing is sent.
    await reset(client)
    [row] = (await update(gateway, contact_id, {"notes": None}, "LUNARSEND"))["results"]
    assert (row["status"], row["droppedFields"]) == ("SKIPPED", ["notes"])
    assert "only lets name, email and phone be edited" in row["message"]
    assert await writes_made(client, "lunarsend") == {}


async def test_trustmary_type_is_changed_and_the_others_say_they_keep_none(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)
    assert (await stored(client, "trustmary", GRACE["email"]))["type"] == "customer"

    payload = await update(gateway, contact_id, {"type": "EMPLOYEE"})

    found = rows(payload)
    assert (found["TRUSTMARY"]["status"], found["TRUSTMARY"]["droppedFields"]) == (
        "UPDATED",
        [],
    )
    assert (await stored(client, "trustmary", GRACE["email"]))["type"] == "employee"
    for provider in ("ADAPTIX", "LUNARSEND", "AKITA", "INTERAKT"):
        assert (found[provider]["status"], found[provider]["droppedFields"]) == (
            "SKIPPED",
            ["type"],
        ), provider


async def test_interakt_gets_the_country_url_and_sign_up_time_on_the_record_it_holds(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)  # an externalId: an Interakt member
    await reset(client)

    patch = {
        "urls": ["https://hopper.navy.test", "https://cobol.navy.test"],
        "address": {"line1": "2 Fleet Street", "city": "Washington", "country": "USA"},
        # 2026-01-31T09:30:00Z: unix time 1769851800.
        "signedUpAt": "2026-01-31T11:30:00+02:00",
    }
    [row] = (await update(gateway, contact_id, patch, "INTERAKT"))["results"]

    assert row["status"] == "UPDATED"
    assert row["droppedFields"] == ["address.line1", "urls[1]"]
    assert await writes_made(client, "interakt") == {"POST /api/v1/members": 1}
    [record] = await records(client, "interakt")
    assert record["kind"] == "member"
    assert {k: record["attributes"][k] for k in ("url", "city", "country", "signedup_at")} == {
        "url": "https://hopper.navy.test",
        "city": "Washington",
        "country": "USA",
        "signedup_at": "2026-01-31T09:30:00Z",
    }


async def test_an_interakt_lead_is_changed_as_a_lead_even_with_an_external_id(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    lead = {"email": "lead.fields@example.test", "externalId": "u-lead", "lifecycle": "LEAD"}
    contact_id = await upserted(gateway, lead)
    await reset(client)

    [row] = (await update(gateway, contact_id, {"urls": ["https://lead.test"]}, "INTERAKT"))[
        "results"
    ]

    # Written to /members, the change would make a second Interakt record.
    assert (row["status"], row["droppedFields"]) == ("UPDATED", [])
    assert await writes_made(client, "interakt") == {"POST /api/v1/leads": 1}
    [record] = await records(client, "interakt")
    assert (record["kind"], record["attributes"]["url"]) == ("lead", "https://lead.test")


async def test_interakt_cannot_clear_and_says_so_without_a_call(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, {**GRACE, "signedUpAt": "2026-01-31T09:30:00Z"})
    await reset(client)

    patch = {"urls": None, "address": {"city": None, "state": "MD"}, "signedUpAt": None}
    [row] = (await update(gateway, contact_id, patch, "INTERAKT"))["results"]

    assert row["status"] == "SKIPPED"
    assert row["droppedFields"] == ["urls", "address.city", "address.state", "signedUpAt"]
    assert "cannot clear" in row["message"]
    assert await writes_made(client, "interakt") == {}


async def test_akita_replaces_its_urls_and_clears_them_with_null(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)
    urls = ["https://hopper.navy.test", "https://cobol.navy.test"]

    [row] = (await update(gateway, contact_id, {"urls": urls, "ownerId": "3"}, "AKITA"))["results"]
    assert (row["status"], row["droppedFields"]) == ("UPDATED", ["ownerId"])
    assert [u["value"] for u in (await stored(client, "akita", GRACE["email"]))["urls"]] == urls

    [row] = (await update(gateway, contact_id, {"urls": None}, "AKITA"))["results"]
    assert (row["status"], row["droppedFields"]) == ("UPDATED", [])
    assert (await stored(client, "akita", GRACE["email"]))["urls"] == []


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        (
            {
                "urls": ["ftp://grace.navy.test", "https://ok.test"],
                "notes": "  ",
                "type": None,
                "address": {"line1": " ", "city": None},
                "signedUpAt": "2026-01-31T09:30:00",
                "ownerId": "owner-2",
            },
            [
                "patch.urls[0]",
                "patch.notes",
                "patch.type",
                "patch.address.line1",
                "patch.signedUpAt",
                "patch.ownerId",
            ],
        ),
        (
            {"type": "OTHER", "address": {}, "signedUpAt": "1969-12-31T23:59:59Z"},
            ["patch.type", "patch.address", "patch.signedUpAt"],
        ),
        ({"urls": [" "], "ownerId": 12.5}, None),
    ],
)
async def test_every_problem_with_the_new_fields_is_refused_at_once_before_any_call(
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    patch: dict[str, Any],
    fields: list[str] | None,
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)
    await reset(client)

    result = await execute(gateway, UPDATE, {"id": contact_id, "patch": patch})

    assert result.data is None
    # A value of the wrong type is refused by GraphQL itself: never a crash.
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in result.errors)
    if fields is not None:
        assert sorted(e["extensions"]["field"] for e in result.errors) == sorted(fields)
    for key in ("adaptix", "trustmary", "lunarsend", "akita", "interakt"):
        assert await stats(client, key) == {}, key


async def test_a_queued_patch_leg_sends_the_same_fields_when_tried_again(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway(writes=QUICK)
    contact_id = await upserted(gateway, GRACE)
    await controls(client, "adaptix", outage=True)

    patch = {
        "urls": ["https://hopper.navy.test"],
        "address": {"line1": "2 Fleet Street", "state": None},
        "ownerId": "4",
    }
    result = await execute(
        gateway, UPDATE, {"id": contact_id, "patch": patch, "providers": ["ADAPTIX"]}
    )
    payload = result.data["updateContact"]
    # Adaptix cannot be read now; the store knows the record, so the edit is queued.
    assert [(r["provider"], r["status"]) for r in payload["results"]] == [("ADAPTIX", "QUEUED")]

    await controls(client, "adaptix", outage=False)
    assert await retry_due(gateway) == 1
    after = await operation(gateway, payload["operationId"])
    assert (after["kind"], after["legs"][0]["status"]) == ("updateContact", "UPDATED")
    record = await adaptix_record(client, GRACE["email"])
    assert record["fields"]["all"]["website"] == "https://hopper.navy.test"
    assert record["owner"]["id"] == 4
    # The part given null came through the journal as a part to clear.
    assert (address(record)["address1"], address(record)["state"]) == ("2 Fleet Street", None)
    assert address(record)["city"] == "Arlington"


async def test_preview_of_the_new_fields_tells_what_the_upsert_then_does(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    known = {**EVERYTHING, "email": "ada.lovelace.0@stark.test", "lifecycle": "LEAD"}
    for input in (EVERYTHING, known, {**EVERYTHING, "lifecycle": "MEMBER"}):
        await reset(client)
        preview = await execute(gateway, PREVIEW, {"input": input})
        assert preview.errors == []
        written = await execute(gateway, UPSERT, {"input": input})
        assert written.errors == []
        predicted = preview.data["previewUpsert"]["results"]
        actual = written.data["upsertContact"]["results"]
        assert [(r["provider"], r["status"], r["droppedFields"]) for r in predicted] == [
            (r["provider"], r["status"], r["droppedFields"]) for r in actual
        ], input


UPSERT = """
mutation($input: ContactInput!) {
  upsertContact(input: $input) { results { provider status droppedFields } }
}
"""
