"""Writing by id (`updateContact`), what an upsert would do (`previewUpsert`), and
upserts without an email matched by external id; through the real schema, read back
from the sandbox's records and request counts."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse

from resolvers.runtime import limits
from resolvers.runtime.context import Runtime
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, records, reset, stats
from tests.resolvers.test_write_journal import QUICK, controls, operation, retry_due

UPSERT = """
mutation($input: ContactInput!, $providers: [Provider!]) {
  upsertContact(input: $input, providers: $providers) {
    results { provider status remoteId message droppedFields }
    contact { id }
  }
}
"""

UPDATE = """
mutation($id: ID!, $patch: ContactPatch!, $providers: [Provider!]) {
  updateContact(id: $id, patch: $patch, providers: $providers) {
    results { provider status remoteId message droppedFields }
    operationId
    contact { id email firstName lastName company phones sources { provider remoteId } }
  }
}
"""

PREVIEW = """
query($input: ContactInput!, $providers: [Provider!]) {
  previewUpsert(input: $input, providers: $providers) {
    results { provider status remoteId message droppedFields }
  }
}
"""

FIND = """
query($email: String!) {
  contact(email: $email) { id email company sources { provider remoteId } }
}
"""

GRACE = {
    "email": "grace.hopper@navy.test",
    "externalId": "u-1906",
    "accountExternalId": "acct-navy",
    "firstName": "Grace",
    "lastName": "Hopper",
    "phones": ["+15550100100"],
    "company": "US Navy",
}
WRITES = ("POST", "PATCH", "PUT", "DELETE")


def rows(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["provider"]: r for r in payload["results"]}


async def writes_made(client: httpx.AsyncClient, key: str) -> dict[str, int]:
    found = await stats(client, key)
    return {route: n for route, n in found.items() if route.split(" ")[0] in WRITES}


async def adaptix_record(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    found = [
        r
        for r in await records(client, "adaptix")
        if (r["fields"]["all"].get("email") or "").lower() == email
    ]
    assert len(found) == 1
    record: dict[str, Any] = found[0]
    return record


async def upserted(gateway: Runtime, input: dict[str, Any]) -> str:
    result = await execute(gateway, UPSERT, {"input": input})
    assert result.errors == []
    contact_id: str = result.data["upsertContact"]["contact"]["id"]
    return contact_id


async def test_update_changes_the_email_where_providers_can_and_each_row_says_what_it_did(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)
    await reset(client)

    patch = {"email": "grace@navy.test", "company": "Navy Labs", "jobTitle": "Commodore"}
    result = await execute(gateway, UPDATE, {"id": contact_id, "patch": patch})
    assert result.errors == []
    payload = result.data["updateContact"]
    found = rows(payload)
    # Every provider that holds her, in the configured precedence.
    assert [r["provider"] for r in payload["results"]] == [
        "ADAPTIX",
        "TRUSTMARY",
        "LUNARSEND",
        "AKITA",
        "INTERAKT",
    ]
    assert found["ADAPTIX"]["status"] == "UPDATED"
    assert found["ADAPTIX"]["droppedFields"] == []
    assert found["LUNARSEND"]["status"] == "UPDATED"
    assert found["LUNARSEND"]["droppedFields"] == ["company", "jobTitle"]
    assert "only lets name, email and phone" in found["LUNARSEND"]["message"]
    # Trustmary keys contacts by email: it keeps hers, takes the company, and says so.
    assert found["TRUSTMARY"]["status"] == "UPDATED"
    assert found["TRUSTMARY"]["droppedFields"] == ["email", "jobTitle"]
    assert "keys contacts by email" in found["TRUSTMARY"]["message"]
    assert found["AKITA"]["status"] == "UPDATED"
    assert found["AKITA"]["droppedFields"] == ["jobTitle"]
    assert found["INTERAKT"]["status"] == "UPDATED"
    assert found["INTERAKT"]["droppedFields"] == ["email"]
    assert "keys contacts by email" in found["INTERAKT"]["message"]

    # One call each where an edit is one call.
    assert await writes_made(client, "adaptix") == {"PATCH /api/contacts/{id}/edit": 1}
    assert await writes_made(client, "lunarsend") == {"POST /api/contacts/edit": 1}
    assert await writes_made(client, "trustmary") == {"POST /v1/contacts": 1}

    # What the providers hold now.
    adaptix = await adaptix_record(client, "grace@navy.test")
    assert adaptix["fields"]["all"]["company"] == "Navy Labs"
    assert adaptix["fields"]["all"]["position"] == "Commodore"
    lunarsend = [r for r in await records(client, "lunarsend") if r["email"] == "grace@navy.test"]
    assert [(r["first_name"], r["company"]) for r in lunarsend] == [("Grace", "US Navy")]
    trustmary = [
        r for r in await records(client, "trustmary") if r["email"] == "grace.hopper@navy.test"
    ]
    assert [r["company"] for r in trustmary] == ["Navy Labs"]
    akita = [r for r in await records(client, "akita") if r.get("kind") == "contact"]
    assert [r["emails"] for r in akita] == [[{"label": "Email", "value": "grace@navy.test"}]]

    # The payload's contact, and a lookup by the new email, find her.
    assert payload["contact"]["id"] == contact_id
    after = await execute(make_gateway(), FIND, {"email": "grace@navy.test"})
    assert after.errors == []
    contact = after.data["contact"]
    assert contact["id"] == contact_id
    assert {"ADAPTIX", "LUNARSEND"} <= {s["provider"] for s in contact["sources"]}
    assert contact["company"] == "Navy Labs"


async def test_null_clears_a_field_and_absent_fields_stay(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, {**GRACE, "jobTitle": "Rear Admiral"})
    patch = {"company": None, "phones": None, "firstName": "Amazing Grace"}
    result = await execute(
        gateway, UPDATE, {"id": contact_id, "patch": patch, "providers": ["ADAPTIX"]}
    )
    assert result.errors == []
    assert [(r["provider"], r["status"]) for r in result.data["updateContact"]["results"]] == [
        ("ADAPTIX", "UPDATED")
    ]
    fields = (await adaptix_record(client, "grace.hopper@navy.test"))["fields"]["all"]
    assert fields["company"] is None
    assert fields["mobile"] is None
    assert fields["firstname"] == "Amazing Grace"
    # Left out: kept.
    assert fields["lastname"] == "Hopper"
    assert fields["position"] == "Rear Admiral"
    # Only Adaptix was named: Lunar Send still has her company.
    lunarsend = [r for r in await records(client, "lunarsend") if r["email"] == GRACE["email"]]
    assert [r["company"] for r in lunarsend] == ["US Navy"]


async def test_lunarsend_cannot_clear_a_first_name_nor_take_anything_but_name_email_phone(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)
    await reset(client)
    only_lunarsend = {"id": contact_id, "providers": ["LUNARSEND"]}

    nothing = await execute(
        gateway, UPDATE, {**only_lunarsend, "patch": {"company": "X", "firstName": None}}
    )
    assert nothing.errors == []
    [row] = nothing.data["updateContact"]["results"]
    # Nothing it can change was given: never reported as a success.
    assert row["status"] == "SKIPPED"
    assert row["droppedFields"] == ["firstName", "company"]
    assert row["message"]
    assert await writes_made(client, "lunarsend") == {}

    cleared = await execute(gateway, UPDATE, {**only_lunarsend, "patch": {"lastName": None}})
    [row] = cleared.data["updateContact"]["results"]
    assert (row["status"], row["droppedFields"]) == ("UPDATED", [])
    stored = [r for r in await records(client, "lunarsend") if r["email"] == GRACE["email"]]
    assert [(r["first_name"], r["last_name"]) for r in stored] == [("Grace", None)]


async def test_a_provider_that_holds_no_record_is_skipped(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, {"email": "only.adaptix@example.test", "company": "A"})
    result = await execute(
        gateway,
        UPDATE,
        {"id": contact_id, "patch": {"company": "B"}, "providers": ["LUNARSEND", "ADAPTIX"]},
    )
    assert result.errors == []
    found = rows(result.data["updateContact"])
    assert found["ADAPTIX"]["status"] == "UPDATED"
    assert found["LUNARSEND"]["status"] == "SKIPPED"
    assert "no record" in found["LUNARSEND"]["message"]


async def test_bad_patch_is_refused_whole_before_any_provider_is_called(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    contact_id = await upserted(gateway, GRACE)
    await reset(client)
    patch = {
        "email": "not an email",
        "firstName": "  ",
        "phones": ["+1 555 010 0100", "12"],
        "customFields": None,
    }
    result = await execute(gateway, UPDATE, {"id": contact_id, "patch": patch})
    assert result.data is None
    assert {e["extensions"]["field"] for e in result.errors} == {
        "patch.email",
        "patch.firstName",
        "patch.phones[1]",
        "patch.customFields",
    }
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in result.errors)
    empty = await execute(gateway, UPDATE, {"id": contact_id, "patch": {}})
    assert [e["extensions"]["field"] for e in empty.errors] == ["patch"]
    for key in ("adaptix", "trustmary", "lunarsend", "akita", "interakt"):
        assert await stats(client, key) == {}


async def test_preview_writes_nothing_and_tells_what_the_upsert_then_does(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    await upserted(gateway, {**GRACE, "email": None, "firstName": None, "accountExternalId": "a"})
    # Ada is held by Adaptix, Trustmary and Lunar Send (seed); Grace is new everywhere.
    inputs = [
        {
            "email": "ada.lovelace.0@stark.test",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "phones": ["+15550100100", "+15550100101", "+15550100102"],
            "company": "Analytical Engines",
            "jobTitle": "Countess",
            "tags": ["vip", "no-such-list"],
            "customFields": {"plan": "pro"},
        },
        {**GRACE, "jobTitle": "Rear Admiral"},
        {"externalId": "u-1906", "accountExternalId": "a", "lastName": "Hopper"},
    ]
    previews = []
    for input in inputs:
        await reset(client)
        preview = await execute(gateway, PREVIEW, {"input": input})
        assert preview.errors == []
        for key in ("adaptix", "trustmary", "lunarsend", "akita", "interakt"):
            assert await writes_made(client, key) == {}, key
        predicted = preview.data["previewUpsert"]["results"]
        previews.append(rows(preview.data["previewUpsert"]))

        written = await execute(gateway, UPSERT, {"input": input})
        assert written.errors == []
        actual = written.data["upsertContact"]["results"]
        assert [(r["provider"], r["status"], r["droppedFields"]) for r in predicted] == [
            (r["provider"], r["status"], r["droppedFields"]) for r in actual
        ], input
    ada, grace, no_email = previews
    assert {p: r["status"] for p, r in ada.items()} == {
        "ADAPTIX": "UPDATED",
        "TRUSTMARY": "UPDATED",
        "LUNARSEND": "UPDATED",
        "AKITA": "SKIPPED",
        "INTERAKT": "UPDATED",
    }
    assert ada["LUNARSEND"]["droppedFields"][:2] == ["company", "jobTitle"]
    assert "tags[1]" in ada["TRUSTMARY"]["droppedFields"]
    assert "phones[2]" in ada["ADAPTIX"]["droppedFields"]
    assert ada["ADAPTIX"]["remoteId"] is not None
    # Akita cannot be read: what the gateway wrote to it is what it knows.
    assert grace["AKITA"]["status"] == "UPDATED"
    assert grace["LUNARSEND"]["status"] == "CREATED"
    assert no_email["ADAPTIX"]["status"] == "UPDATED"
    assert no_email["TRUSTMARY"]["status"] == "SKIPPED"
    # A preview is no write: the journal has only the upserts.
    journal = gateway.journal
    assert journal is not None
    listed = await execute(gateway, "{ writeOperations(first: 20) { edges { node { kind } } } }")
    kinds = [e["node"]["kind"] for e in listed.data["writeOperations"]["edges"]]
    assert set(kinds) == {"upsertContact"}
    assert len(kinds) == 1 + len(inputs)


async def test_an_upsert_without_email_matches_the_adaptix_contact_by_external_id(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    before = len(await records(client, "adaptix"))
    input = {"externalId": "u-42", "firstName": "Nomail", "company": "First"}
    first = await execute(gateway, UPSERT, {"input": input, "providers": ["ADAPTIX"]})
    [row] = first.data["upsertContact"]["results"]
    assert row["status"] == "CREATED"
    await reset(client)

    again = {**input, "company": "Second"}
    second = await execute(gateway, UPSERT, {"input": again, "providers": ["ADAPTIX"]})
    [row2] = second.data["upsertContact"]["results"]
    assert (row2["status"], row2["remoteId"]) == ("UPDATED", row["remoteId"])
    assert await writes_made(client, "adaptix") == {"PATCH /api/contacts/{id}/edit": 1}
    stored = await records(client, "adaptix")
    assert len(stored) == before + 1
    assert [r["fields"]["all"]["company"] for r in stored if r["id"] == int(row["remoteId"])] == [
        "Second"
    ]


async def test_a_bulk_upsert_of_known_adaptix_contacts_goes_through_batch_edit(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    bulk = """
    mutation($inputs: [ContactInput!]!) {
      upsertContacts(inputs: $inputs, providers: [ADAPTIX]) {
        results { results { status remoteId } } created updated
      }
    }
    """
    inputs = [{"externalId": f"u-{n}", "firstName": f"Person {n}"} for n in range(3)]
    first = await execute(gateway, bulk, {"inputs": inputs})
    assert first.data["upsertContacts"]["created"] == 3
    await reset(client)

    # Two known by external id, one with an email (a plain upsert by email).
    inputs[2] = {"email": "bulk.new@example.test", "firstName": "New"}
    second = await execute(gateway, bulk, {"inputs": inputs})
    assert second.errors == []
    assert (second.data["upsertContacts"]["created"], second.data["upsertContacts"]["updated"]) == (
        1,
        2,
    )
    assert await writes_made(client, "adaptix") == {
        "PATCH /api/contacts/batch/edit": 1,
        "POST /api/contacts/batch/new": 1,
    }


def test_the_cost_estimate_counts_the_lookup_and_one_call_per_provider(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()

    def estimated(query: str, variables: dict[str, Any]) -> dict[str, int]:
        [operation] = parse(query).definitions
        assert isinstance(operation, OperationDefinitionNode)
        return {p.name: n for p, n in limits.estimate(operation, {}, variables, gateway).items()}

    # Found first (one lookup in each readable provider), then one edit where held, then
    # the payload's contact read again.
    update = estimated(UPDATE, {"id": "x", "patch": {"company": "X"}})
    assert update == {"ADAPTIX": 3, "TRUSTMARY": 3, "LUNARSEND": 3, "AKITA": 1, "INTERAKT": 1}
    # One lookup, and a plan's read of field or list names.
    preview = estimated(PREVIEW, {"input": {"email": "a@example.test"}})
    assert preview == {"ADAPTIX": 2, "TRUSTMARY": 2, "LUNARSEND": 2, "AKITA": 1, "INTERAKT": 1}


async def test_an_edit_queued_in_an_outage_is_replayed_exactly_when_tried_again(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway(writes=QUICK)
    contact_id = await upserted(gateway, {**GRACE, "jobTitle": "Rear Admiral"})
    await controls(client, "adaptix", outage=True)

    patch = {"company": None, "firstName": "Amazing"}
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
    fields = (await adaptix_record(client, "grace.hopper@navy.test"))["fields"]["all"]
    assert (fields["firstname"], fields["company"], fields["position"]) == (
        "Amazing",
        None,
        "Rear Admiral",
    )
