"""Writes are written down, and what fails in a way another try may mend is QUEUED and
tried again (`resolvers.services.writes`, `resolvers.services.background`)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.settings import Secret
from gateway.domain.records import Provider
from resolvers.runtime.context import Runtime
from resolvers.runtime.policy import WritePolicy
from resolvers.services import background
from tests.resolvers.conftest import execute, records

Factory = Callable[..., Runtime]

UPSERT = """mutation($input: ContactInput!, $providers: [Provider!]) {
  upsertContact(input: $input, providers: $providers) {
    operationId results { provider status message remoteId } } }"""
OPERATION = """query($id: ID!) { writeOperation(id: $id) {
  id kind status createdAt finishedAt inputs counts { status count }
  legs { input provider status attempts lastError nextAttemptAt remoteId message } } }"""
QUICK = WritePolicy(first_retry=0.01, max_retry_interval=0.05)


async def controls(client: httpx.AsyncClient, provider: str, **values: Any) -> None:
    response = await client.post(f"/{provider}/_sandbox/controls", json=values)
    assert response.is_success, response.text


def person(email: str) -> dict[str, Any]:
    return {
        "email": email,
        "firstName": "Quinn",
        "lastName": "Queue",
        "externalId": email,
        "accountExternalId": "acct-queue",
    }


async def operation(gateway: Runtime, operation_id: str) -> dict[str, Any]:
    result = await execute(gateway, OPERATION, {"id": operation_id})
    assert not result.errors, result.errors
    found: dict[str, Any] = result.data["writeOperation"]
    return found


async def retry_due(gateway: Runtime) -> int:
    """Run the background retrier's work once, for legs whose time has come."""
    assert gateway.journal is not None
    await asyncio.sleep(0.06)  # past QUICK's longest wait
    due = await gateway.journal.claim_due(limit=100, lease=30)
    await background.retry(gateway, gateway.journal, due)
    return len(due)


async def stored_emails(client: httpx.AsyncClient, provider: str) -> list[str]:
    """Every email the provider's emulator stores, once per record."""
    found = await records(client, provider)
    if provider == "adaptix":
        return [r["fields"]["all"]["email"] for r in found]
    return [r["email"] for r in found]


def by_provider(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["provider"]: r for r in results}


async def test_an_outage_is_queued_and_the_leg_lands_when_tried_again(
    make_gateway: Factory, client: httpx.AsyncClient
) -> None:
    gateway = make_gateway(writes=QUICK)
    await controls(client, "adaptix", outage=True)

    result = await execute(gateway, UPSERT, {"input": person("queued.one@example.com")})

    assert not result.errors
    payload = result.data["upsertContact"]
    results = by_provider(payload["results"])
    assert results["ADAPTIX"]["status"] == "QUEUED"
    assert re.search(r"queued: tried again at \d{4}-\d\d-\d\d", results["ADAPTIX"]["message"])
    others = {p: results[p]["status"] for p in ("AKITA", "TRUSTMARY", "LUNARSEND", "INTERAKT")}
    # Interakt upserts by email and does not say whether it created.
    assert others == {
        "AKITA": "CREATED",
        "TRUSTMARY": "CREATED",
        "LUNARSEND": "CREATED",
        "INTERAKT": "UPDATED",
    }
    before = await operation(gateway, payload["operationId"])
    assert before["status"] == "PENDING"
    assert before["kind"] == "upsertContact"
    adaptix = next(leg for leg in before["legs"] if leg["provider"] == "ADAPTIX")
    assert adaptix["status"] == "QUEUED"
    assert adaptix["attempts"] == 1
    assert adaptix["lastError"]
    assert adaptix["nextAttemptAt"]

    await controls(client, "adaptix", outage=False)
    assert await retry_due(gateway) == 1

    after = await operation(gateway, payload["operationId"])
    assert after["status"] == "DONE"
    assert after["finishedAt"] is not None
    adaptix = next(leg for leg in after["legs"] if leg["provider"] == "ADAPTIX")
    assert adaptix["status"] == "CREATED"
    assert adaptix["attempts"] == 2
    assert adaptix["lastError"] is None
    assert adaptix["remoteId"]
    assert (await stored_emails(client, "adaptix")).count("queued.one@example.com") == 1


async def test_a_leg_still_failing_when_retry_for_runs_out_is_failed_with_the_last_message(
    make_gateway: Factory, client: httpx.AsyncClient
) -> None:
    gateway = make_gateway(writes=WritePolicy(first_retry=0.01, retry_for=0.03))
    await controls(client, "trustmary", outage=True)

    result = await execute(
        gateway, UPSERT, {"input": person("gives.up@example.com"), "providers": ["TRUSTMARY"]}
    )
    assert result.data["upsertContact"]["results"][0]["status"] == "QUEUED"

    await retry_due(gateway)

    found = await operation(gateway, result.data["upsertContact"]["operationId"])
    assert found["status"] == "FAILED"
    leg = found["legs"][0]
    assert leg["status"] == "FAILED"
    assert leg["attempts"] == 2
    assert "gave up after trying for the configured time" in leg["lastError"]
    assert "unavailable" in leg["lastError"].lower()


async def test_a_refusal_is_failed_at_once_and_never_queued(
    make_gateway: Factory,
) -> None:
    gateway = make_gateway(providers=(Provider.LUNARSEND,), api_key=Secret("wrong-key"))

    result = await execute(
        gateway, UPSERT, {"input": person("refused@example.com"), "providers": ["LUNARSEND"]}
    )

    assert result.data["upsertContact"]["results"][0]["status"] == "FAILED", result.data
    found = await operation(gateway, result.data["upsertContact"]["operationId"])
    assert found["status"] == "FAILED"
    assert found["legs"][0]["nextAttemptAt"] is None
    assert gateway.journal is not None
    assert await gateway.journal.claim_due(limit=10, lease=1) == []


async def test_upsert_contacts_counts_queued_legs_under_one_operation(
    make_gateway: Factory, client: httpx.AsyncClient
) -> None:
    gateway = make_gateway(writes=QUICK)
    await controls(client, "lunarsend", outage=True)
    inputs = [person(f"batch.{i}@example.com") for i in range(3)]

    result = await execute(
        gateway,
        """mutation($inputs: [ContactInput!]!) { upsertContacts(inputs: $inputs,
          providers: [LUNARSEND, ADAPTIX]) { operationId created queued failed
          results { operationId results { provider status } } } }""",
        {"inputs": inputs},
    )

    payload = result.data["upsertContacts"]
    assert (payload["created"], payload["queued"], payload["failed"]) == (3, 3, 0)
    assert {r["operationId"] for r in payload["results"]} == {payload["operationId"]}
    await controls(client, "lunarsend", outage=False)
    assert await retry_due(gateway) == 3
    found = await operation(gateway, payload["operationId"])
    assert found["status"] == "DONE"
    assert found["inputs"] == 3
    assert {c["status"]: c["count"] for c in found["counts"]} == {"CREATED": 6}
    emails = await stored_emails(client, "lunarsend")
    assert all(emails.count(p["email"]) == 1 for p in inputs)


async def test_a_delete_during_an_outage_is_queued_then_done(
    make_gateway: Factory, client: httpx.AsyncClient
) -> None:
    gateway = make_gateway(writes=QUICK)
    created = await execute(
        gateway, UPSERT, {"input": person("to.delete@example.com"), "providers": ["ADAPTIX"]}
    )
    remote_id = created.data["upsertContact"]["results"][0]["remoteId"]
    found = await execute(
        gateway, '{ contact(email: "to.delete@example.com") { id sources { provider } } }', None
    )
    contact_id = found.data["contact"]["id"]
    await controls(client, "adaptix", outage=True)

    result = await execute(
        gateway,
        """mutation($id: ID!) { deleteContact(id: $id, providers: [ADAPTIX]) {
          operationId results { provider status message } } }""",
        {"id": contact_id},
    )

    payload = result.data["deleteContact"]
    # Adaptix cannot be read now; the store knows the record, so the delete is queued.
    assert payload["results"][0]["status"] == "QUEUED", payload
    await controls(client, "adaptix", outage=False)
    await retry_due(gateway)
    after = await operation(gateway, payload["operationId"])
    assert after["legs"][0]["status"] == "DELETED"
    assert all(str(r["id"]) != remote_id for r in await records(client, "adaptix"))


async def test_a_utm_tag_added_during_an_outage_is_queued_then_added_once(
    make_gateway: Factory, client: httpx.AsyncClient
) -> None:
    gateway = make_gateway(writes=QUICK)
    created = await execute(
        gateway, UPSERT, {"input": person("utm.queue@example.com"), "providers": ["ADAPTIX"]}
    )
    remote_id = created.data["upsertContact"]["results"][0]["remoteId"]
    found = await execute(gateway, '{ contact(email: "utm.queue@example.com") { id } }', None)
    await controls(client, "adaptix", outage=True)

    result = await execute(
        gateway,
        """mutation($id: ID!) { addUtmTags(id: $id, utm: {campaign: "spring", query: "a=1",
          lastActive: "2026-03-01T12:00:00Z"}) { operationId results { provider status } } }""",
        {"id": found.data["contact"]["id"]},
    )

    payload = result.data["addUtmTags"]
    # Refused before it was sent (the provider was down): safe to send again.
    assert payload["results"][0]["status"] == "QUEUED", payload
    await controls(client, "adaptix", outage=False)
    await retry_due(gateway)
    after = await operation(gateway, payload["operationId"])
    assert after["legs"][0]["status"] == "UPDATED"
    [stored] = [r for r in await records(client, "adaptix") if str(r["id"]) == remote_id]
    assert [(u["utmCampaign"], u["query"]) for u in stored["utmtags"]] == [("spring", {"a": "1"})]
    assert stored["lastActive"].startswith("2026-03-01T12:00:00")


async def test_without_a_store_a_retriable_failure_is_failed_and_the_operation_has_an_id(
    make_gateway: Factory, client: httpx.AsyncClient
) -> None:
    gateway = make_gateway(store=False)
    await controls(client, "akita", outage=True)

    result = await execute(
        gateway, UPSERT, {"input": person("no.store@example.com"), "providers": ["AKITA"]}
    )

    payload = result.data["upsertContact"]
    assert payload["results"][0]["status"] == "FAILED"
    assert re.fullmatch(r"[0-9a-f-]{36}", payload["operationId"])
    lookup = await execute(gateway, OPERATION, {"id": payload["operationId"]})
    assert lookup.error_codes() == [("STORE_UNAVAILABLE", None)]


async def test_the_operation_log_counts_legs_and_names_queued_ones_as_errors(
    make_gateway: Factory, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = make_gateway(writes=QUICK)
    await controls(client, "interakt", outage=True)

    with caplog.at_level(logging.INFO, logger="contact_gateway.operation"):
        await execute(gateway, UPSERT, {"input": person("logged@example.com")})

    line = next(r.getMessage() for r in caplog.records if "write_legs=" in r.getMessage())
    assert "write_legs=created:4,queued:1" in line
    assert "errors=WRITE_QUEUED" in line


async def test_write_operations_lists_newest_first_and_pages(make_gateway: Factory) -> None:
    gateway = make_gateway()
    ids = []
    for i in range(3):
        result = await execute(
            gateway, UPSERT, {"input": person(f"listed.{i}@example.com"), "providers": ["AKITA"]}
        )
        ids.append(result.data["upsertContact"]["operationId"])
    query = """query($after: String) { writeOperations(first: 2, after: $after, status: DONE) {
      edges { cursor node { id status counts { status count } } } pageInfo { hasNextPage endCursor } } }"""

    first = (await execute(gateway, query, {"after": None})).data["writeOperations"]
    second = (await execute(gateway, query, {"after": first["pageInfo"]["endCursor"]})).data[
        "writeOperations"
    ]

    assert [e["node"]["id"] for e in first["edges"]] == ids[::-1][:2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in second["edges"]] == ids[:1]
    assert second["pageInfo"]["hasNextPage"] is False
    assert first["edges"][0]["node"]["counts"] == [{"status": "CREATED", "count": 1}]


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ("query($id: ID!) { writeOperation(id: $id) { id } }", {"id": "not-an-id"}, "id"),
        ("query($id: ID!) { bulkJob(id: $id) { id } }", {"id": "x" * 50}, "id"),
        ('{ writeOperations(after: "bm9wZQ") { edges { cursor } } }', None, "after"),
        ("{ writeOperations(first: 0) { edges { cursor } } }", None, "first"),
    ],
)
async def test_bad_journal_arguments_are_bad_user_input(
    gateway: Runtime, query: str, variables: dict[str, Any] | None, field: str
) -> None:
    result = await execute(gateway, query, variables)

    assert result.error_codes() == [("BAD_USER_INPUT", None)]
    assert result.errors[0]["extensions"]["field"] == field


async def test_an_unknown_operation_is_null(gateway: Runtime) -> None:
    result = await execute(
        gateway,
        "query($id: ID!) { writeOperation(id: $id) { id } bulkJob(id: $id) { id } }",
        {"id": "01890000-0000-7000-8000-000000000000"},
    )

    assert not result.errors
    assert result.data == {"writeOperation": None, "bulkJob": None}


async def test_a_lost_answer_is_landed_only_when_the_record_holds_the_write(
    make_gateway: Factory, sandbox: Any
) -> None:
    """A contact found by the write's email proves nothing by being there: an upsert
    mostly goes to one that was. Only a record holding the write's values counts."""
    from gateway.domain.records import ContactWrite, WriteResult, WriteStatus
    from resolvers.services.writes import settle

    gateway = make_gateway(writes=QUICK)
    person = next(p for p in sandbox.data.in_provider("adaptix"))
    held = person.records["adaptix"]
    lost = WriteResult(
        Provider.ADAPTIX,
        WriteStatus.FAILED,
        message="no answer",
        retriable=True,
        outcome_unknown=True,
    )
    key = (0, Provider.ADAPTIX)

    other = ContactWrite(email=held.email, first_name=held.first_name + "-renamed")
    result, outcome = (await settle(gateway, "upsertContact", {key: lost}, {0: other}, attempts=1))[
        key
    ]
    assert result.status is WriteStatus.QUEUED
    assert outcome.status == "queued"

    same = ContactWrite(email=held.email, first_name=held.first_name.upper())
    result, _ = (await settle(gateway, "upsertContact", {key: lost}, {0: same}, attempts=1))[key]
    assert result.status is WriteStatus.UPDATED
    assert "holds what was written" in (result.message or "")
