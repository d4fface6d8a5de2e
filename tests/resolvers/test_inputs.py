"""Input checked as a whole before anything is written: every problem reported with
its field, phones stored in E.164, one email rule for writes, filters and lookups."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resolvers.runtime.errors import MAX_INPUT_ERRORS
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, records, reset, stats

PROVIDERS = ("akita", "interakt", "trustmary", "adaptix", "lunarsend")

UPSERT = """
mutation($input: ContactInput!) {
  upsertContact(input: $input) { results { provider status } contact { phones } }
}
"""
BULK = """
mutation($inputs: [ContactInput!]!) {
  upsertContacts(inputs: $inputs) { created }
}
"""
START_BULK = """
mutation($inputs: [ContactInput!]!) {
  startBulkUpsert(inputs: $inputs) { id }
}
"""


async def nothing_was_asked(client: httpx.AsyncClient) -> bool:
    return all([await stats(client, key) == {} for key in PROVIDERS])


def fields(errors: list[dict[str, Any]]) -> list[str]:
    return [e["extensions"]["field"] for e in errors]


@pytest.mark.parametrize(
    ("document", "root"), [(BULK, "upsertContacts"), (START_BULK, "startBulkUpsert")]
)
async def test_a_batch_gets_every_problem_of_every_input_and_nothing_is_written(
    client: httpx.AsyncClient, make_gateway: GatewayFactory, document: str, root: str
) -> None:
    await reset(client)
    inputs = [
        {"email": "fine@example.test", "firstName": "Fine"},
        {"email": "broken", "phones": ["12"]},
        {"email": "also.fine@example.test"},
        {"email": "x@example.test", "firstName": " ", "phones": ["+1 555 010 0100", "nope"]},
        {},
    ]
    result = await execute(make_gateway(), document, {"inputs": inputs})

    assert result.data is None
    assert fields(result.errors) == [
        "inputs[1].email",
        "inputs[1].phones[0]",
        "inputs[3].firstName",
        "inputs[3].phones[1]",
        "inputs[4]",
    ]
    assert {e["extensions"]["code"] for e in result.errors} == {"BAD_USER_INPUT"}
    assert all(e["path"] == [root] for e in result.errors)
    assert "inputs[1].phones[0] is not a phone number" in result.errors[1]["message"]
    assert await nothing_was_asked(client)


async def test_past_the_cap_one_more_error_says_how_many_were_left_out(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    inputs = [{"email": f"broken-{i}"} for i in range(MAX_INPUT_ERRORS + 50)]
    result = await execute(make_gateway(), BULK, {"inputs": inputs})

    listed, summary = result.errors[:-1], result.errors[-1]
    assert fields(listed) == [f"inputs[{i}].email" for i in range(MAX_INPUT_ERRORS)]
    assert summary["extensions"] == {"code": "BAD_USER_INPUT", "field": "inputs", "omitted": 50}
    assert "50 more problems" in summary["message"]
    assert await nothing_was_asked(client)


async def test_one_input_gets_every_problem_it_has(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    bad = {"email": "a@b", "lastName": "", "tags": ["-vip"], "phones": ["", "555-0100"]}
    result = await execute(make_gateway(), UPSERT, {"input": bad})

    assert fields(result.errors) == [
        "input.lastName",
        "input.email",
        "input.phones[0]",
        "input.phones[1]",
        "input.tags[0]",
    ]
    assert "lacks its area code" in result.errors[3]["message"]
    assert await nothing_was_asked(client)


async def test_a_phone_as_people_write_it_is_stored_in_e164_everywhere(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    contact = {
        "email": "phone.person@example.test",
        "firstName": "Phone",
        "externalId": "u-phone",
        "accountExternalId": "a-phone",
        "phones": ["(555) 010-0100", "+358 40 123 4567"],
    }
    result = await execute(make_gateway(), UPSERT, {"input": contact})

    assert result.errors == []
    payload = result.data["upsertContact"]
    assert {r["status"] for r in payload["results"]} <= {"CREATED", "UPDATED"}
    assert payload["contact"]["phones"] == ["+15550100100", "+358401234567"]

    def mine(found: list[Any], email: str = "phone.person@example.test") -> dict[str, Any]:
        return next(r for r in found if str(r.get("email", "")).lower() == email)

    akita = next(r for r in await records(client, "akita") if r.get("internal_id") == "u-phone")
    assert [p["value"] for p in akita["phones"]] == ["+15550100100", "+358401234567"]
    assert mine(await records(client, "interakt"))["attributes"]["phone"] == "+15550100100"
    assert mine(await records(client, "trustmary"))["phone"] == "+15550100100"
    assert mine(await records(client, "lunarsend"))["phone"] == "+15550100100"
    adaptix = next(
        r
        for r in await records(client, "adaptix")
        if r["fields"]["core"]["email"]["value"] == "phone.person@example.test"
    )
    core = adaptix["fields"]["core"]
    assert (core["mobile"]["value"], core["phone"]["value"]) == ("+15550100100", "+358401234567")


async def test_a_number_without_a_plus_is_read_in_the_configured_region(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    contact = {"email": "suomi@example.test", "firstName": "Aino", "phones": ["040 123 4567"]}
    result = await execute(make_gateway(phone_region="FI"), UPSERT, {"input": contact})

    assert result.errors == []
    assert result.data["upsertContact"]["contact"]["phones"] == ["+358401234567"]


async def test_an_invalid_phone_is_refused_naming_its_index(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    contact = {"email": "a@b.test", "phones": ["+1 555 010 0100", "+1 555 010 0100 ext 7"]}
    result = await execute(make_gateway(), UPSERT, {"input": contact})

    assert result.data is None
    assert [e["extensions"] for e in result.errors] == [
        {"code": "BAD_USER_INPUT", "field": "input.phones[1]"}
    ]
    assert "extension" in result.errors[0]["message"]
    assert await nothing_was_asked(client)


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        ("query($e: String) { contact(email: $e) { id } }", {"e": "not an email"}, ["email"]),
        ("query($e: String) { contact(email: $e) { id } }", {"e": "a@b"}, ["email"]),
        (
            "query($f: ContactFilter) { contacts(filter: $f) { edges { node { id } } } }",
            {"f": {"email": "x@", "company": " ", "tag": ""}},
            ["filter.email", "filter.tag", "filter.company"],
        ),
    ],
)
async def test_an_email_to_look_up_follows_the_rule_of_an_email_to_write(
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    document: str,
    variables: dict[str, Any],
    expected: list[str],
) -> None:
    await reset(client)
    result = await execute(make_gateway(), document, variables)

    assert fields(result.errors) == expected
    assert {e["extensions"]["code"] for e in result.errors} == {"BAD_USER_INPUT"}
    assert "is not a valid email address" in result.errors[0]["message"]
    assert await nothing_was_asked(client)
