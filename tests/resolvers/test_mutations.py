"""Writes through the real schema, read back from the sandbox's records."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.domain.federation import Precedence
from gateway.domain.records import Provider
from sandbox.app import Sandbox
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, records, reset, stats

UPSERT = """
mutation($input: ContactInput!, $providers: [Provider!]) {
  upsertContact(input: $input, providers: $providers) {
    results { provider status remoteId message droppedFields }
    contact { id email firstName company sources { provider remoteId } }
  }
}
"""

FULL_INPUT = {
    "email": "Grace.Hopper@Navy.test",
    "externalId": "u-1906",
    "accountExternalId": "acct-navy",
    "firstName": "Grace",
    "lastName": "Hopper",
    "phones": ["+1 555 010 0100", "+1 555 010 0101", "+1 555 010 0102"],
    "company": "US Navy",
    "jobTitle": "Rear Admiral",
    "tags": ["vip"],
    "customFields": {"plan": "pro"},
}


def by_provider(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["provider"]: r for r in payload["results"]}


async def test_upsert_fans_out_and_reports_each_provider_honestly(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    result = await execute(make_gateway(), UPSERT, {"input": FULL_INPUT})
    assert result.errors == []
    payload = result.data["upsertContact"]
    rows = by_provider(payload)
    assert {p: r["status"] for p, r in rows.items()} == {
        "AKITA": "CREATED",
        "INTERAKT": "UPDATED",  # Interakt never says whether the contact was new
        "TRUSTMARY": "CREATED",
        "ADAPTIX": "CREATED",
        "LUNARSEND": "CREATED",
    }
    assert "does not say" in rows["INTERAKT"]["message"]
    assert rows["AKITA"]["droppedFields"] == ["jobTitle", "customFields"]
    assert "phones[2]" in rows["ADAPTIX"]["droppedFields"]
    assert "externalId" in rows["ADAPTIX"]["droppedFields"]
    assert "customFields" in rows["LUNARSEND"]["droppedFields"]
    assert "jobTitle" in rows["TRUSTMARY"]["droppedFields"]

    # The returned contact is the merged view after the write; Akita and Interakt, which
    # cannot be read, show as what the gateway wrote to them.
    contact = payload["contact"]
    assert contact["email"] == "Grace.Hopper@Navy.test"
    assert {s["provider"] for s in contact["sources"]} == {p.name for p in Provider}

    # What the providers stored, read from the sandbox itself.
    akita = [r for r in await records(client, "akita") if r.get("kind") == "contact"]
    assert [(r["internal_id"], r["internal_account_id"]) for r in akita] == [
        ("u-1906", "acct-navy")
    ]
    interakt = await records(client, "interakt")
    assert [(r["kind"], r["email"].lower()) for r in interakt] == [
        ("member", "grace.hopper@navy.test")
    ]
    trustmary = [
        r
        for r in await records(client, "trustmary")
        if r["email"].lower() == "grace.hopper@navy.test"
    ]
    assert trustmary[0]["eid"] == "u-1906"
    assert trustmary[0]["id"] == rows["TRUSTMARY"]["remoteId"]
    lunar = [
        r
        for r in await records(client, "lunarsend")
        if r["email"].lower() == "grace.hopper@navy.test"
    ]
    assert lunar[0]["job_title"] == "Rear Admiral"


async def test_a_second_upsert_updates_and_lunarsend_reports_what_it_cannot_edit(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    await execute(gateway, UPSERT, {"input": FULL_INPUT})
    change = {"email": FULL_INPUT["email"], "firstName": "Amazing", "company": "Harvard"}
    result = await execute(
        gateway, UPSERT, {"input": change, "providers": ["LUNARSEND", "ADAPTIX", "TRUSTMARY"]}
    )
    rows = by_provider(result.data["upsertContact"])
    assert rows["ADAPTIX"]["status"] == "UPDATED"
    assert rows["TRUSTMARY"]["status"] == "UPDATED"
    assert rows["LUNARSEND"]["status"] == "UPDATED"
    assert rows["LUNARSEND"]["droppedFields"] == ["company"]
    lunar = [
        r
        for r in await records(client, "lunarsend")
        if r["email"].lower() == "grace.hopper@navy.test"
    ]
    assert (lunar[0]["first_name"], lunar[0]["company"]) == ("Amazing", "US Navy")
    assert result.data["upsertContact"]["contact"]["firstName"] == "Amazing"


async def test_providers_that_cannot_take_the_contact_are_skipped_with_the_reason(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    result = await execute(
        make_gateway(),
        UPSERT,
        {"input": {"externalId": "u-2", "accountExternalId": "a-2", "firstName": "Ann"}},
    )
    rows = by_provider(result.data["upsertContact"])
    assert rows["AKITA"]["status"] == "CREATED"
    for provider in ("INTERAKT", "TRUSTMARY", "LUNARSEND"):
        assert rows[provider]["status"] == "SKIPPED"
        assert "email" in rows[provider]["message"].lower()
    # Nothing was sent to a provider that would have ignored it.
    assert await stats(client, "interakt") == {}
    assert await records(client, "interakt") == []


async def test_a_disabled_provider_is_skipped(make_gateway: GatewayFactory) -> None:
    from gateway.domain.records import Provider

    gateway = make_gateway(providers=(Provider.ADAPTIX,))
    result = await execute(
        gateway, UPSERT, {"input": {"email": "x@y.test"}, "providers": ["ADAPTIX", "LUNARSEND"]}
    )
    rows = by_provider(result.data["upsertContact"])
    assert rows["ADAPTIX"]["status"] == "CREATED"
    assert rows["LUNARSEND"] == {
        "provider": "LUNARSEND",
        "status": "SKIPPED",
        "remoteId": None,
        "message": "not enabled in this gateway",
        "droppedFields": [],
    }


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"input": {"email": "not-an-email"}}, "input.email"),
        ({"input": {}}, "input"),
        ({"input": {"email": "a@b.test", "firstName": "  "}}, "input.firstName"),
        ({"input": {"email": "a@b.test", "tags": ["-vip"]}}, "input.tags[0]"),
        ({"input": {"email": "a@b.test", "customFields": [1, 2]}}, "input.customFields"),
        ({"input": {"email": "a@b.test"}, "providers": []}, "providers"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_written(
    client: httpx.AsyncClient, make_gateway: GatewayFactory, variables: dict[str, Any], field: str
) -> None:
    await reset(client)
    result = await execute(make_gateway(), UPSERT, variables)
    assert result.data is None
    assert [e["extensions"] for e in result.errors] == [{"code": "BAD_USER_INPUT", "field": field}]
    for key in ("akita", "interakt", "trustmary", "adaptix", "lunarsend"):
        assert await stats(client, key) == {}


async def test_unknown_provider_is_bad_input(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    result = await execute(
        make_gateway(),
        'mutation { upsertContact(input: {email: "a@b.test"}, providers: [HUBSPOT]) { results { status } } }',
    )
    assert result.error_codes() == [("BAD_USER_INPUT", None)]
    assert "HUBSPOT" in result.errors[0]["message"]
    assert await stats(client, "adaptix") == {}


BULK = """
mutation($inputs: [ContactInput!]!, $providers: [Provider!]) {
  upsertContacts(inputs: $inputs, providers: $providers) {
    created updated skipped failed
    results { results { provider status } contact { email } }
  }
}
"""


async def test_bulk_upsert_uses_batch_endpoints(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    inputs = [{"email": f"bulk{i}@example.test", "firstName": f"B{i}"} for i in range(250)]
    await reset(client)
    result = await execute(
        make_gateway(), BULK, {"inputs": inputs, "providers": ["ADAPTIX", "TRUSTMARY"]}
    )
    assert result.errors == []
    payload = result.data["upsertContacts"]
    assert (payload["created"], payload["failed"], payload["skipped"]) == (500, 0, 0)
    assert len(payload["results"]) == 250
    # Two batch writes of at most 200; the records they answered with are the contacts
    # read back: no lookup after the write.
    assert await stats(client, "adaptix") == {"POST /api/contacts/batch/new": 2}
    stored = {r["email"] for r in await records(client, "trustmary")}
    assert {i["email"] for i in inputs} <= stored


async def test_bulk_bad_input_names_the_item_and_writes_nothing(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    inputs = [{"email": "ok@example.test"}, {"email": "broken"}]
    result = await execute(make_gateway(), BULK, {"inputs": inputs})
    assert [e["extensions"] for e in result.errors] == [
        {"code": "BAD_USER_INPUT", "field": "inputs[1].email"}
    ]
    assert await stats(client, "adaptix") == {}


async def contact_id(gateway: Any, email: str) -> str:
    result = await execute(gateway, "query($e: String) { contact(email: $e) { id } }", {"e": email})
    return str(result.data["contact"]["id"])


async def test_delete_removes_the_contact_from_every_provider_that_holds_it(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.people if len(p.records) == 3)
    gateway = make_gateway()
    cid = await contact_id(gateway, person.records["adaptix"].email)
    result = await execute(
        gateway,
        "mutation($id: ID!) { deleteContact(id: $id) { deletedId results { provider status remoteId message } } }",
        {"id": cid},
    )
    assert result.errors == []
    rows = result.data["deleteContact"]["results"]
    # A row for every provider, in the configured precedence (the default here).
    assert [(r["provider"], r["status"]) for r in rows] == [
        ("ADAPTIX", "DELETED"),
        ("TRUSTMARY", "DELETED"),
        ("LUNARSEND", "DELETED"),
        ("AKITA", "SKIPPED"),
        ("INTERAKT", "SKIPPED"),
    ]
    by_provider = {r["provider"]: r for r in rows}
    assert by_provider["AKITA"]["message"] == "AKITA cannot delete contacts"
    assert by_provider["INTERAKT"]["message"] == "INTERAKT cannot delete contacts"
    assert "Trustmary keeps the contact with status deleted" in by_provider["TRUSTMARY"]["message"]
    after = await execute(gateway, "query($id: ID) { contact(id: $id) { id } }", {"id": cid})
    assert after.data == {"contact": None}


async def test_tag_untag_do_not_contact_and_points(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.in_provider("adaptix") if "trustmary" in p.records)
    gateway = make_gateway()
    cid = await contact_id(gateway, person.records["adaptix"].email)
    tagged = await execute(
        gateway,
        'mutation($id: ID!) { tagContact(id: $id, tags: ["Customers 2026", "speaker"]) { results { provider status droppedFields message } contact { tags { name provider kind } } } }',
        {"id": cid},
    )
    assert tagged.errors == []
    rows = {r["provider"]: r for r in tagged.data["tagContact"]["results"]}
    assert rows["ADAPTIX"]["status"] == "UPDATED"
    tags = {(t["provider"], t["name"]) for t in tagged.data["tagContact"]["contact"]["tags"]}
    assert ("ADAPTIX", "speaker") in tags

    untagged = await execute(
        gateway,
        'mutation($id: ID!) { untagContact(id: $id, tags: ["speaker"], providers: [ADAPTIX]) { contact { tags { name } } } }',
        {"id": cid},
    )
    assert "speaker" not in {t["name"] for t in untagged.data["untagContact"]["contact"]["tags"]}

    dnc = await execute(
        gateway,
        'mutation($id: ID!) { setDoNotContact(id: $id, channel: "email", comments: "asked") { results { provider status } contact { doNotContact } } }',
        {"id": cid},
    )
    assert dnc.data["setDoNotContact"]["contact"]["doNotContact"] == ["email"]

    before = await execute(gateway, "query($id: ID) { contact(id: $id) { points } }", {"id": cid})
    points = await execute(
        gateway,
        "mutation($id: ID!) { addPoints(id: $id, delta: 5) { results { provider status } contact { points } } }",
        {"id": cid},
    )
    assert points.data["addPoints"]["contact"]["points"] == before.data["contact"]["points"] + 5
    zero = await execute(
        gateway,
        "mutation($id: ID!) { addPoints(id: $id, delta: 0) { results { status } } }",
        {"id": cid},
    )
    assert zero.error_codes() == [("BAD_USER_INPUT", None)]


async def test_the_contact_after_an_upsert_is_read_only_where_the_write_answered_no_record(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    result = await execute(make_gateway(), UPSERT, {"input": FULL_INPUT})
    assert result.errors == []
    contact = result.data["upsertContact"]["contact"]
    assert contact["email"] == "Grace.Hopper@Navy.test"
    assert {s["provider"] for s in contact["sources"]} == {p.name for p in Provider}
    # Adaptix and Trustmary answered the write with the stored record: nothing is read
    # back. Lunar Send answers a create with an id only: its record is read (after the
    # search its create needs first).
    assert await stats(client, "adaptix") == {
        "GET /api/contacts/list/fields": 1,  # to check the custom field's alias
        "POST /api/contacts/new": 1,
    }
    assert await stats(client, "trustmary") == {"GET /v1/lists": 1, "POST /v1/contacts": 1}
    assert await stats(client, "lunarsend") == {"GET /api/contacts": 2, "POST /api/contacts": 1}


async def test_result_rows_come_in_the_configured_precedence_not_as_named(
    make_gateway: GatewayFactory,
) -> None:
    order = (Provider.LUNARSEND, Provider.TRUSTMARY, Provider.AKITA)
    gateway = make_gateway(precedence=Precedence(default=order))
    result = await execute(
        gateway,
        'mutation { upsertContact(input: {email: "rows@example.com", firstName: "Row"},'
        " providers: [ADAPTIX, AKITA, TRUSTMARY, LUNARSEND]) { results { provider } } }",
    )
    assert result.errors == []
    rows = [r["provider"] for r in result.data["upsertContact"]["results"]]
    # Named providers first in the configured order, the rest in the default order.
    assert rows == ["LUNARSEND", "TRUSTMARY", "AKITA", "ADAPTIX"]


async def adaptix_contact(sandbox: Sandbox, gateway: Any) -> str:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.in_provider("adaptix") if "trustmary" in p.records)
    return await contact_id(gateway, person.records["adaptix"].email)


UTM_FIELDS = (
    "id provider addedAt campaign source medium content term url referer userAgent remoteHost query"
)


async def test_utm_tags_are_added_read_and_removed_through_the_journal(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    cid = await adaptix_contact(sandbox, gateway)
    added = await execute(
        gateway,
        f"""mutation($id: ID!, $utm: UtmTagInput!) {{ addUtmTags(id: $id, utm: $utm) {{
          operationId results {{ provider status message }} contact {{ utmTags {{ {UTM_FIELDS} }} }} }} }}""",
        {
            "id": cid,
            "utm": {
                "campaign": "spring-launch",
                "source": "newsletter",
                "medium": "email",
                "url": "https://example.test/pricing",
                "query": {"ref": "banner", "page": 2},
                "lastActive": "2026-03-01T12:00:00+00:00",
            },
        },
    )
    assert added.errors == []
    payload = added.data["addUtmTags"]
    # Only Adaptix keeps UTM tags: Trustmary, which holds the contact too, is skipped.
    rows = {r["provider"]: r for r in payload["results"]}
    assert rows["ADAPTIX"]["status"] == "UPDATED"
    assert rows["TRUSTMARY"]["status"] == "SKIPPED"
    assert rows["TRUSTMARY"]["message"] == "TRUSTMARY has no API for this change"
    [tag] = payload["contact"]["utmTags"]
    assert {k: v for k, v in tag.items() if k not in ("id", "addedAt")} == {
        "provider": "ADAPTIX",
        "campaign": "spring-launch",
        "source": "newsletter",
        "medium": "email",
        "content": None,
        "term": None,
        "url": "https://example.test/pricing",
        "referer": None,
        "userAgent": None,
        "remoteHost": None,
        "query": {"ref": "banner", "page": "2"},
    }
    operation = await execute(
        gateway,
        "query($id: ID!) { writeOperation(id: $id) { kind status legs { provider status } } }",
        {"id": payload["operationId"]},
    )
    assert operation.data["writeOperation"]["kind"] == "addUtmTags"
    assert operation.data["writeOperation"]["status"] == "DONE"

    read = await execute(
        gateway, "query($id: ID) { contact(id: $id) { utmTags { id campaign } } }", {"id": cid}
    )
    assert read.data["contact"]["utmTags"] == [{"id": tag["id"], "campaign": "spring-launch"}]

    removed = await execute(
        gateway,
        "mutation($id: ID!, $utm: ID!) { removeUtmTag(id: $id, utmTagId: $utm) { results { provider status message } contact { utmTags { id } } } }",
        {"id": cid, "utm": tag["id"]},
    )
    assert removed.errors == []
    removed_rows = {r["provider"]: r for r in removed.data["removeUtmTag"]["results"]}
    assert removed_rows["ADAPTIX"]["status"] == "UPDATED"
    assert removed.data["removeUtmTag"]["contact"]["utmTags"] == []
    stored = [r for r in await records(client, "adaptix") if r["utmtags"]]
    assert stored == []


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ("addUtmTags(id: $id, utm: {})", "utm"),
        ('addUtmTags(id: $id, utm: {campaign: "  "})', "utm.campaign"),
        ("addUtmTags(id: $id, utm: {query: [1]})", "utm.query"),
        ('removeUtmTag(id: $id, utmTagId: "abc")', "utmTagId"),
        ("setDoNotContact(id: $id, reason: OTHER)", "reason"),
        ('setDoNotContact(id: $id, channelId: "x1")', "channelId"),
        ('addPoints(id: $id, delta: 1, eventName: " ")', "eventName"),
    ],
)
async def test_bad_marketing_input_is_refused_before_any_write(
    sandbox: Sandbox,
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    mutation: str,
    field: str,
) -> None:
    gateway = make_gateway()
    cid = await adaptix_contact(sandbox, gateway)
    await reset(client)

    result = await execute(
        gateway, f"mutation($id: ID!) {{ {mutation} {{ results {{ status }} }} }}", {"id": cid}
    )

    assert [e["extensions"] for e in result.errors] == [{"code": "BAD_USER_INPUT", "field": field}]
    writes = {k: v for k, v in (await stats(client, "adaptix")).items() if k.startswith("POST")}
    assert writes == {}


async def test_do_not_contact_entries_after_set_do_not_contact(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    cid = await adaptix_contact(sandbox, gateway)

    result = await execute(
        gateway,
        """mutation($id: ID!) { setDoNotContact(id: $id, channel: "sms", reason: BOUNCED,
          channelId: "42", comments: "number disconnected") {
          results { provider status } contact { doNotContact doNotContactEntries {
            channel reason channelId comments provider addedAt } } } }""",
        {"id": cid},
    )

    assert result.errors == []
    contact = result.data["setDoNotContact"]["contact"]
    assert "sms" in contact["doNotContact"]
    [entry] = [e for e in contact["doNotContactEntries"] if e["channel"] == "sms"]
    assert {k: v for k, v in entry.items() if k != "addedAt"} == {
        "channel": "sms",
        "reason": "BOUNCED",
        "channelId": "42",
        "comments": "number disconnected",
        "provider": "ADAPTIX",
    }
    assert entry["addedAt"]

    manual = await execute(
        gateway,
        'mutation($id: ID!) { setDoNotContact(id: $id, channel: "email", comments: "asked") { contact { doNotContactEntries { channel reason comments } } } }',
        {"id": cid},
    )
    entries = manual.data["setDoNotContact"]["contact"]["doNotContactEntries"]
    assert {"channel": "email", "reason": "MANUAL", "comments": "asked"} in entries


async def test_points_with_event_and_action_names(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    cid = await adaptix_contact(sandbox, gateway)
    before = await execute(gateway, "query($id: ID) { contact(id: $id) { points } }", {"id": cid})

    result = await execute(
        gateway,
        'mutation($id: ID!) { addPoints(id: $id, delta: -3, eventName: "Refund", actionName: "returned") { results { provider status } contact { points } } }',
        {"id": cid},
    )

    assert result.errors == []
    rows = {r["provider"]: r["status"] for r in result.data["addPoints"]["results"]}
    assert rows["ADAPTIX"] == "UPDATED"
    assert result.data["addPoints"]["contact"]["points"] == before.data["contact"]["points"] - 3
