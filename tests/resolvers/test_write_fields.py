"""The `ContactInput` fields only some providers keep (urls, notes, type, lifecycle,
address, signedUpAt, ownerId), written through the real schema and read back from
what each emulator stored."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from resolvers.runtime.policy import WritePolicy
from resolvers.services import background
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, records, reset, stats

UPSERT = """
mutation($input: ContactInput!, $providers: [Provider!]) {
  upsertContact(input: $input, providers: $providers) {
    operationId
    results { provider status remoteId message droppedFields }
  }
}
"""

EVERYTHING = {
    "email": "ada.writes@example.test",
    "externalId": "u-1815",
    "accountExternalId": "acct-engines",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "urls": ["https://ada.example.test", "https://notes.example.test/ada"],
    "notes": "Met at the engine demo",
    "type": "EMPLOYEE",
    "address": {
        "line1": "12 St James's Square",
        "line2": "Floor 2",
        "city": "London",
        "state": "Greater London",
        "postalCode": "SW1Y 4JH",
        "country": "United Kingdom",
    },
    # 2026-01-31T09:30:00Z: Interakt is sent unix time 1769851800.
    "signedUpAt": "2026-01-31T11:30:00+02:00",
    "ownerId": "3",
}


def by_provider(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["provider"]: r for r in payload["results"]}


async def upsert(gateway: Any, value: dict[str, Any], providers: list[str] | None = None) -> Any:
    result = await execute(gateway, UPSERT, {"input": value, "providers": providers})
    assert result.errors == [], result.errors
    return result.data["upsertContact"]


async def stored(client: httpx.AsyncClient, key: str, email: str) -> dict[str, Any]:
    """The one record `key`'s emulator keeps for `email`."""

    def emails(record: dict[str, Any]) -> list[str]:
        if key == "akita":
            return [e["value"].lower() for e in record.get("emails") or []]
        if key == "adaptix":
            return [str(record["fields"]["all"]["email"]).lower()]
        return [str(record.get("email")).lower()]

    [found] = [r for r in await records(client, key) if email.lower() in emails(r)]
    return found


async def test_each_field_reaches_the_providers_that_keep_it_and_the_others_drop_it(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    payload = await upsert(make_gateway(), EVERYTHING)

    rows = by_provider(payload)
    assert {p: r["status"] for p, r in rows.items()} == {
        "AKITA": "CREATED",
        "INTERAKT": "UPDATED",
        "TRUSTMARY": "CREATED",
        "ADAPTIX": "CREATED",
        "LUNARSEND": "CREATED",
    }
    assert {p: r["droppedFields"] for p, r in rows.items()} == {
        "AKITA": ["notes", "type", "address", "signedUpAt", "ownerId"],
        "INTERAKT": [
            "urls[1]",
            "notes",
            "type",
            "address.line1",
            "address.line2",
            "address.state",
            "address.postalCode",
            "ownerId",
        ],
        "TRUSTMARY": ["accountExternalId", "urls", "notes", "address", "signedUpAt", "ownerId"],
        "ADAPTIX": ["externalId", "accountExternalId", "notes", "type", "signedUpAt", "urls[1]"],
        "LUNARSEND": [
            "externalId",
            "accountExternalId",
            "urls",
            "type",
            "address",
            "signedUpAt",
            "ownerId",
        ],
    }

    email = EVERYTHING["email"]
    akita = await stored(client, "akita", email)
    assert akita["urls"] == [
        {"label": "Website", "value": "https://ada.example.test"},
        {"label": "Website", "value": "https://notes.example.test/ada"},
    ]
    interakt = await stored(client, "interakt", email)
    assert interakt["kind"] == "member"  # an externalId and no lifecycle: as before
    assert {k: interakt["attributes"].get(k) for k in ("url", "city", "country")} == {
        "url": "https://ada.example.test",
        "city": "London",
        "country": "United Kingdom",
    }
    # Sent as a unix timestamp, which Interakt stores as a date-time.
    assert interakt["attributes"]["signedup_at"] == "2026-01-31T09:30:00Z"
    assert (await stored(client, "trustmary", email))["type"] == "employee"
    adaptix = await stored(client, "adaptix", email)
    assert adaptix["owner"]["id"] == 3
    assert {
        alias: adaptix["fields"]["all"][alias]
        for alias in ("website", "address1", "address2", "city", "state", "zipcode", "country")
    } == {
        "website": "https://ada.example.test",
        "address1": "12 St James's Square",
        "address2": "Floor 2",
        "city": "London",
        "state": "Greater London",
        "zipcode": "SW1Y 4JH",
        "country": "United Kingdom",
    }
    assert (await stored(client, "lunarsend", email))["notes"] == "Met at the engine demo"


async def test_the_written_contact_reads_back_with_the_new_fields(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    await upsert(gateway, EVERYTHING)

    result = await execute(
        gateway,
        """query($email: String!) { contact(email: $email) {
          type website owner { id name }
          address { line1 line2 city state postalCode country }
          activity(first: 5) { edges { node { kind provider } } } } }""",
        {"email": EVERYTHING["email"]},
    )

    assert result.errors == []
    contact = result.data["contact"]
    assert contact["type"] == "EMPLOYEE"
    assert contact["website"] == "https://ada.example.test"
    assert contact["owner"] == {"id": "3", "name": "Oskar Karlsson"}
    assert contact["address"] == {
        "line1": "12 St James's Square",
        "line2": "Floor 2",
        "city": "London",
        "state": "Greater London",
        "postalCode": "SW1Y 4JH",
        "country": "United Kingdom",
    }
    # Lunar Send's notes read as a note.
    kinds = [e["node"] for e in contact["activity"]["edges"]]
    assert {"kind": "NOTE", "provider": "LUNARSEND"} in kinds


@pytest.mark.parametrize(
    ("given", "path", "kind"),
    [
        ({}, "/members", "member"),  # externalId given: a member, as before
        ({"lifecycle": "LEAD"}, "/leads", "lead"),
        ({"lifecycle": "MEMBER"}, "/members", "member"),
    ],
)
async def test_interakt_writes_a_member_or_a_lead_as_lifecycle_says(
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    given: dict[str, Any],
    path: str,
    kind: str,
) -> None:
    await reset(client)
    value = {"email": "kind@example.test", "externalId": "u-kind", **given}
    payload = await upsert(make_gateway(), value, ["INTERAKT"])

    [row] = payload["results"]
    assert row["status"] == "UPDATED"
    # A lead has no user id at Interakt: the externalId is not stored, and says so.
    assert row["droppedFields"] == (["externalId"] if kind == "lead" else [])
    assert await stats(client, "interakt") == {f"POST /api/v1{path}": 1}
    [record] = await records(client, "interakt")
    assert record["kind"] == kind
    assert ("user_id" in record["attributes"]) is (kind == "member")


async def test_without_an_external_id_or_lifecycle_interakt_still_writes_a_lead(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    await upsert(make_gateway(), {"email": "lead@example.test"}, ["INTERAKT"])
    assert await stats(client, "interakt") == {"POST /api/v1/leads": 1}


async def test_lifecycle_is_dropped_where_no_provider_keeps_it(
    make_gateway: GatewayFactory,
) -> None:
    payload = await upsert(
        make_gateway(),
        {"email": "x.lifecycle@example.test", "firstName": "X", "lifecycle": "LEAD"},
        ["TRUSTMARY", "ADAPTIX", "LUNARSEND"],
    )
    assert {r["provider"]: r["droppedFields"] for r in payload["results"]} == {
        "TRUSTMARY": ["lifecycle"],
        "ADAPTIX": ["lifecycle"],
        "LUNARSEND": ["lifecycle"],
    }


async def test_an_update_with_notes_reports_them_dropped_at_lunarsend(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    email = "notes.later@example.test"
    await upsert(gateway, {"email": email, "firstName": "Nora", "notes": "First"}, ["LUNARSEND"])

    payload = await upsert(
        gateway, {"email": email, "phones": ["+15550100100"], "notes": "Second"}, ["LUNARSEND"]
    )

    [row] = payload["results"]
    assert row["status"] == "UPDATED"
    assert row["droppedFields"] == ["notes"]
    assert "only lets name, email and phone be edited" in row["message"]
    record = await stored(client, "lunarsend", email)
    assert (record["notes"], record["phone"]) == ("First", "+15550100100")


async def test_trustmary_type_customer_is_written(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    email = "customer.type@example.test"
    payload = await upsert(make_gateway(), {"email": email, "type": "CUSTOMER"}, ["TRUSTMARY"])
    assert payload["results"][0]["droppedFields"] == []
    assert (await stored(client, "trustmary", email))["type"] == "customer"


async def test_writable_fields_list_the_new_fields_where_they_are_kept(
    make_gateway: GatewayFactory,
) -> None:
    result = await execute(make_gateway(), "{ providers { name writableFields } }")
    fields = {row["name"]: set(row["writableFields"]) for row in result.data["providers"]}
    new = {
        "urls",
        "notes",
        "type",
        "lifecycle",
        "address",
        "address.city",
        "address.country",
        "signedUpAt",
        "ownerId",
    }
    assert {name: sorted(found & new) for name, found in fields.items()} == {
        "AKITA": ["urls"],
        "INTERAKT": ["address.city", "address.country", "lifecycle", "signedUpAt", "urls"],
        "TRUSTMARY": ["type"],
        "ADAPTIX": ["address", "ownerId", "urls"],
        "LUNARSEND": ["notes"],
    }


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"urls": ["ada.example.test"]}, "input.urls[0]"),
        ({"urls": ["https://ok.test", "ftp://files.test"]}, "input.urls[1]"),
        ({"urls": ["https://"]}, "input.urls[0]"),
        ({"urls": [" "]}, "input.urls[0]"),
        ({"notes": "  "}, "input.notes"),
        ({"type": "OTHER"}, "input.type"),
        ({"address": {}}, "input.address"),
        ({"address": {"city": " "}}, "input.address.city"),
        ({"address": {"postalCode": ""}}, "input.address.postalCode"),
        ({"signedUpAt": "2026-01-31T09:00:00"}, "input.signedUpAt"),
        ({"signedUpAt": "1969-12-31T23:59:59Z"}, "input.signedUpAt"),
        ({"ownerId": "lhill"}, "input.ownerId"),
        ({"ownerId": " "}, "input.ownerId"),
    ],
)
async def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_written(
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    given: dict[str, Any],
    field: str,
) -> None:
    await reset(client)
    result = await execute(make_gateway(), UPSERT, {"input": {"email": "a@b.test", **given}})
    assert result.data is None
    assert [e["extensions"] for e in result.errors] == [{"code": "BAD_USER_INPUT", "field": field}]
    for key in ("akita", "interakt", "trustmary", "adaptix", "lunarsend"):
        assert await stats(client, key) == {}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"type": "MANAGER"}, "MANAGER"),
        ({"lifecycle": "VISITOR"}, "VISITOR"),
        ({"signedUpAt": "yesterday"}, "yesterday"),
        ({"address": {"street": "1 Main St"}}, "street"),
    ],
)
async def test_a_value_of_the_wrong_type_is_bad_user_input_not_a_crash(
    make_gateway: GatewayFactory, variables: dict[str, Any], message: str
) -> None:
    result = await execute(make_gateway(), UPSERT, {"input": {"email": "a@b.test", **variables}})
    assert result.error_codes() == [("BAD_USER_INPUT", None)]
    assert message in result.errors[0]["message"]


async def test_every_problem_with_the_new_fields_is_reported_at_once(
    make_gateway: GatewayFactory,
) -> None:
    bad = {
        "email": "a@b.test",
        "urls": ["nope"],
        "type": "OTHER",
        "address": {"city": "", "country": " "},
        "signedUpAt": "2026-01-31T09:00:00",
        "ownerId": "me",
    }
    result = await execute(make_gateway(), UPSERT, {"input": bad})
    assert result.data is None
    assert [e["extensions"]["field"] for e in result.errors] == [
        "input.urls[0]",
        "input.type",
        "input.address.city",
        "input.address.country",
        "input.signedUpAt",
        "input.ownerId",
    ]


async def test_a_queued_leg_sends_the_same_fields_when_tried_again(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway(writes=WritePolicy(first_retry=0.01, max_retry_interval=0.05))
    for key in ("interakt", "adaptix", "trustmary", "lunarsend", "akita"):
        response = await client.post(f"/{key}/_sandbox/controls", json={"outage": True})
        assert response.is_success
    value = {**EVERYTHING, "lifecycle": "LEAD"}

    payload = await upsert(gateway, value)

    assert {r["status"] for r in payload["results"]} == {"QUEUED"}
    for key in ("interakt", "adaptix", "trustmary", "lunarsend", "akita"):
        await client.post(f"/{key}/_sandbox/controls", json={"outage": False})
    assert gateway.journal is not None
    await asyncio.sleep(0.06)
    due = await gateway.journal.claim_due(limit=100, lease=30)
    assert len(due) == 5
    await background.retry(gateway, gateway.journal, due)

    email = EVERYTHING["email"]
    interakt = await stored(client, "interakt", email)
    assert interakt["kind"] == "lead"  # the lifecycle came through the journal
    assert {k: interakt["attributes"][k] for k in ("url", "city", "country", "signedup_at")} == {
        "url": "https://ada.example.test",
        "city": "London",
        "country": "United Kingdom",
        "signedup_at": "2026-01-31T09:30:00Z",
    }
    assert await stats(client, "interakt") == {"POST /api/v1/leads": 2}
    assert (await stored(client, "trustmary", email))["type"] == "employee"
    adaptix = await stored(client, "adaptix", email)
    assert adaptix["owner"]["id"] == 3
    assert adaptix["fields"]["all"]["zipcode"] == "SW1Y 4JH"
    assert (await stored(client, "lunarsend", email))["notes"] == "Met at the engine demo"
    assert [u["value"] for u in (await stored(client, "akita", email))["urls"]] == value["urls"]
