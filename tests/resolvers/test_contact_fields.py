"""The fields a CRM screen shows, read through the real schema from records made at
the sandbox's providers."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox import credentials
from sandbox.app import Sandbox
from sandbox.trustmary import TrustmaryEmulator
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, reset, stats

FIELDS = """
query($email: String!) {
  contact(email: $email) {
    email title website lastActiveAt customFields type status
    address { line1 line2 city state postalCode country }
    owner { id name email }
    sources { provider raw }
  }
}
"""
PLAIN = "query($email: String!) { contact(email: $email) { id email name } }"
ADAPTIX_AUTH = (credentials.ADAPTIX_USERNAME, credentials.ADAPTIX_PASSWORD)
TRUSTMARY_AUTH = {"Authorization": f"Apikey {credentials.TRUSTMARY_API_KEY}"}


async def create_at_adaptix(client: httpx.AsyncClient, **values: Any) -> None:
    response = await client.post("/adaptix/api/contacts/new", json=values, auth=ADAPTIX_AUTH)
    assert response.status_code == 201, response.text


async def create_at_trustmary(client: httpx.AsyncClient, **values: Any) -> None:
    response = await client.post("/trustmary/v1/contacts", json=values, headers=TRUSTMARY_AUTH)
    assert response.status_code == 200, response.text


async def test_adaptix_core_fields_owner_and_last_activity_are_read(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await create_at_adaptix(
        client,
        email="ada@fields.test",
        firstname="Ada",
        title="Mrs",
        address1="12 St James's Square",
        city="London",
        zipcode="SW1Y 4LB",
        country="United Kingdom",
        website="https://ada.fields.test",
        owner=3,
        lastActive="2026-02-03 04:05:06",
        twitter="@ada",
    )
    result = await execute(make_gateway(), FIELDS, {"email": "ada@fields.test"})
    assert result.errors == []
    contact = result.data["contact"]
    assert contact["title"] == "Mrs"
    assert contact["address"] == {
        "line1": "12 St James's Square",
        "line2": None,
        "city": "London",
        "state": None,
        "postalCode": "SW1Y 4LB",
        "country": "United Kingdom",
    }
    assert contact["website"] == "https://ada.fields.test"
    # Adaptix's owner object names the user but carries no email.
    assert contact["owner"] == {"id": "3", "name": "Oskar Karlsson", "email": None}
    assert contact["lastActiveAt"] == "2026-02-03T04:05:06+00:00"
    # Every alias outside Adaptix's core group is a custom field (here a social one).
    assert contact["customFields"] == {"twitter": "@ada"}
    assert (contact["type"], contact["status"]) == (None, None)


async def test_no_address_part_means_no_address(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await create_at_adaptix(client, email="bare@fields.test", firstname="Bare")
    result = await execute(make_gateway(), FIELDS, {"email": "bare@fields.test"})
    contact = result.data["contact"]
    assert (contact["address"], contact["owner"], contact["lastActiveAt"]) == (None, None, None)
    assert (contact["title"], contact["website"], contact["customFields"]) == (None, None, {})


async def test_custom_fields_written_by_upsert_are_read_back(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    written = await execute(
        gateway,
        """mutation($input: ContactInput!) { upsertContact(input: $input) {
             results { provider status droppedFields } } }""",
        {
            "input": {
                "email": "grace@fields.test",
                "customFields": {"twitter": "@grace", "plan": "pro"},
            }
        },
    )
    assert written.errors == []
    dropped = {r["provider"]: r["droppedFields"] for r in written.data["upsertContact"]["results"]}
    # This Adaptix instance has no `plan` field; Interakt stores both but cannot be read.
    assert dropped["ADAPTIX"] == ["customFields.plan"]
    assert dropped["INTERAKT"] == []

    result = await execute(gateway, FIELDS, {"email": "grace@fields.test"})
    assert result.errors == []
    contact = result.data["contact"]
    assert contact["customFields"] == {"twitter": "@grace"}
    interakt = next(s for s in contact["sources"] if s["provider"] == "INTERAKT")
    assert interakt["raw"]["custom_fields"] == {"twitter": "@grace", "plan": "pro"}


async def test_trustmary_type_and_status_are_enum_values(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await create_at_trustmary(client, email="eve@fields.test", name="Eve Staff", type="employee")
    result = await execute(make_gateway(), FIELDS, {"email": "eve@fields.test"})
    assert result.errors == []
    assert (result.data["contact"]["type"], result.data["contact"]["status"]) == (
        "EMPLOYEE",
        "ACTIVE",
    )


async def test_a_value_the_enums_do_not_know_is_other_and_raw_keeps_it(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await create_at_trustmary(client, email="pat@fields.test", name="Pat Partner")
    # Values Trustmary's documents do not list, as a later Trustmary might answer.
    emulator = sandbox.emulators["trustmary"]
    assert isinstance(emulator, TrustmaryEmulator)
    stored = emulator.find("pat@fields.test")
    assert stored is not None
    stored.type, stored.status = "partner", "bouncing"

    result = await execute(make_gateway(), FIELDS, {"email": "pat@fields.test"})
    assert result.errors == []
    contact = result.data["contact"]
    assert (contact["type"], contact["status"]) == ("OTHER", "OTHER")
    [source] = contact["sources"]
    assert (source["raw"]["type"], source["raw"]["status"]) == ("partner", "bouncing")


async def test_the_new_fields_cost_no_provider_call_a_plain_lookup_does_not(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.people if len(p.records) == 3)
    email = person.records["adaptix"].email
    costs = []
    for query in (PLAIN, FIELDS):
        await reset(client)
        result = await execute(make_gateway(), query, {"email": email})
        assert result.errors == []
        costs.append({key: await stats(client, key) for key in ("adaptix", "trustmary")})
    assert costs[0] == costs[1]
    assert "GET /api/contacts/list/owners" not in costs[1]["adaptix"]


def test_every_plain_contact_field_is_worked_out_when_read() -> None:
    # A contact's plain fields are computed on first read (ContactNode.__getattr__): a
    # field added without its rule would fail every query that asks for it.
    from strawberry.types import get_object_definition

    from resolvers.types.contact import _SHOWN_FROM, ContactNode

    definition = get_object_definition(ContactNode, strict=True)
    plain = {f.python_name for f in definition.fields if f.base_resolver is None}
    plain -= {"person"}  # set by from_person
    assert plain == set(_SHOWN_FROM)
