"""Queries through the real schema against the seeded sandbox."""

from __future__ import annotations

import base64
import gc
import json
from typing import Any

import httpx
import pytest

from connectors.settings import RetryPolicy
from gateway.domain.federation import Precedence
from gateway.domain.records import Provider
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from sandbox.seed import SeedPerson
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, records, reset, stats

CONTACT = """
query($email: String, $id: ID) {
  contact(email: $email, id: $id) {
    id email emails firstName lastName name phones company jobTitle externalId
    sources { provider remoteId raw updatedAt }
    tags { name provider kind }
    account { id name }
    createdAt updatedAt
  }
}
"""


def in_all_three(sandbox: Sandbox) -> SeedPerson:
    assert sandbox.data is not None
    return next(p for p in sandbox.data.people if len(p.records) == 3)


async def test_a_person_in_three_providers_is_one_contact_with_three_sources(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    person = in_all_three(sandbox)
    # Ask with the email as another provider spells it: the join is case-insensitive.
    email = person.records["lunarsend"].email.upper()
    result = await execute(make_gateway(), CONTACT, {"email": email})
    assert result.errors == []
    contact = result.data["contact"]
    assert [s["provider"] for s in contact["sources"]] == ["ADAPTIX", "TRUSTMARY", "LUNARSEND"]
    assert contact["email"] == person.records["adaptix"].email
    assert contact["firstName"] == person.records["adaptix"].first_name
    assert contact["externalId"] == (person.external_id if person.index % 2 == 0 else None)
    assert contact["sources"][0]["raw"]["fields"]["all"]["email"] == person.records["adaptix"].email
    assert {e.lower() for e in contact["emails"]} == {email.lower()}
    assert contact["tags"] == [
        {"name": t, "provider": "ADAPTIX", "kind": "TAG"} for t in person.tags
    ]


async def test_fields_follow_the_configured_precedence(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    person = next(
        p
        for p in sandbox.data.shared()
        if {"adaptix", "lunarsend"} <= set(p.records)
        and p.records["adaptix"].phone != p.records["lunarsend"].phone
    )
    email = person.records["adaptix"].email
    default = await execute(make_gateway(), CONTACT, {"email": email})
    assert default.data["contact"]["phones"] == [person.records["adaptix"].phone]

    lunar_first = Precedence(fields={"phones": (Provider.LUNARSEND,)})
    chosen = await execute(make_gateway(precedence=lunar_first), CONTACT, {"email": email})
    assert chosen.data["contact"]["phones"] == [person.records["lunarsend"].phone]
    # Other fields keep the default order.
    assert chosen.data["contact"]["company"] == default.data["contact"]["company"]


async def test_node_resolves_the_global_id_of_a_contact(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    email = in_all_three(sandbox).records["adaptix"].email
    first = await execute(gateway, CONTACT, {"email": email})
    contact_id = first.data["contact"]["id"]
    by_id = await execute(gateway, CONTACT, {"id": contact_id})
    assert by_id.data["contact"] == first.data["contact"]
    node = await execute(
        gateway,
        "query($id: ID!) { node(id: $id) { id ... on Contact { email sources { provider } } } }",
        {"id": contact_id},
    )
    assert node.data["node"]["id"] == contact_id
    assert len(node.data["node"]["sources"]) == 3


async def test_unknown_email_is_null_and_bad_ids_are_bad_input(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    missing = await execute(gateway, CONTACT, {"email": "nobody@nowhere.test"})
    assert missing.data == {"contact": None}
    assert missing.errors == []
    for variables in ({"id": "garbage!!"}, {"email": "not-an-email"}, {}):
        bad = await execute(gateway, CONTACT, variables)
        assert bad.error_codes() == [("BAD_USER_INPUT", None)], variables


def enumerable_emails(sandbox: Sandbox) -> set[str]:
    assert sandbox.data is not None
    return {
        p.records[min(set(p.records) & {"adaptix", "trustmary"})].email.lower()
        for p in sandbox.data.people
        if set(p.records) & {"adaptix", "trustmary"}
    }


PAGE = """
query($first: Int, $after: String, $filter: ContactFilter) {
  contacts(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id email sources { provider } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.mark.parametrize("page_size", [37, 200])
async def test_paging_lists_everyone_once_with_no_gaps(
    sandbox: Sandbox, make_gateway: GatewayFactory, page_size: int
) -> None:
    gateway = make_gateway()
    seen: list[str] = []
    after = None
    for _ in range(50):
        result = await execute(gateway, PAGE, {"first": page_size, "after": after})
        assert result.errors == []
        page = result.data["contacts"]
        seen += [edge["node"]["email"].lower() for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert len(seen) == len(set(seen)), "someone was listed twice"
    assert set(seen) == enumerable_emails(sandbox)


async def test_an_edge_cursor_resumes_right_after_that_edge(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    whole = await execute(gateway, PAGE, {"first": 10})
    emails = [e["node"]["email"] for e in whole.data["contacts"]["edges"]]
    middle = whole.data["contacts"]["edges"][3]["cursor"]
    rest = await execute(gateway, PAGE, {"first": 6, "after": middle})
    assert [e["node"]["email"] for e in rest.data["contacts"]["edges"]] == emails[4:]


async def test_filters_ask_every_provider_that_can_answer(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    company = "Stark Industries"
    expected = {
        (p.records[k].email.lower())
        for p in sandbox.data.people
        for k in sorted(p.records)[:1]
        if any((r.company or "").lower() == company.lower() for r in p.records.values())
    }
    result = await execute(make_gateway(), PAGE, {"first": 100, "filter": {"company": company}})
    assert result.errors == []
    found = {e["node"]["email"].lower() for e in result.data["contacts"]["edges"]}
    assert found == expected
    providers = {
        s["provider"] for e in result.data["contacts"]["edges"] for s in e["node"]["sources"]
    }
    assert providers == {"ADAPTIX", "TRUSTMARY", "LUNARSEND"}


async def test_tag_and_provider_filters(sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    assert sandbox.data is not None
    gateway = make_gateway()
    tagged = await execute(gateway, PAGE, {"first": 200, "filter": {"tag": "vip"}})
    expected = {
        p.records["adaptix"].email for p in sandbox.data.in_provider("adaptix") if "vip" in p.tags
    }
    assert {e["node"]["email"] for e in tagged.data["contacts"]["edges"]} == expected

    only = await execute(gateway, PAGE, {"first": 200, "filter": {"provider": "TRUSTMARY"}})
    assert len(only.data["contacts"]["edges"]) == len(sandbox.data.in_provider("trustmary"))

    refused = await execute(gateway, PAGE, {"first": 5, "filter": {"provider": "LUNARSEND"}})
    assert refused.error_codes() == [("BAD_USER_INPUT", None)]
    assert "filter by email or company" in refused.errors[0]["message"]


def forged(state: dict[str, Any]) -> str:
    """A cursor as a client could edit one: the gateway's cursors are base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": 5000}, "first"),
        ({"first": 5, "after": "nonsense"}, "after"),
        # Listing cursors edited by hand: refused before any provider is asked.
        ({"first": 5, "after": forged({"p": "adaptix", "s": 0})}, "after"),
        ({"first": 5, "after": forged({"p": "adaptix", "c": 5, "s": 0})}, "after"),
        ({"first": 5, "after": forged({"p": "adaptix", "c": None, "s": -2})}, "after"),
        ({"first": 5, "after": forged({"p": "lunarsend", "c": None, "s": 0})}, "after"),
        ({"first": 5, "after": forged({"o": 3})}, "after"),
        ({"first": 5, "after": forged({"o": -1}), "filter": {"company": "Acme"}}, "after"),
    ],
)
async def test_bad_paging_arguments_are_bad_input(
    client: httpx.AsyncClient, make_gateway: GatewayFactory, variables: dict[str, Any], field: str
) -> None:
    gateway = make_gateway()
    await reset(client)
    result = await execute(gateway, PAGE, variables)
    assert [e["extensions"] for e in result.errors] == [{"code": "BAD_USER_INPUT", "field": field}]
    assert result.data is None
    for key in ("adaptix", "trustmary", "lunarsend"):
        assert await stats(client, key) == {}


LISTING = """
query($first: Int) {
  contacts(first: $first) {
    edges { node { id email tags { name } account { id name } sources { provider remoteId } } }
  }
}
"""


@pytest.mark.parametrize("n", [10, 100])
async def test_listing_costs_a_fixed_number_of_calls_per_provider(
    client: httpx.AsyncClient, make_gateway: GatewayFactory, n: int
) -> None:
    gateway = make_gateway()
    await reset(client)
    result = await execute(gateway, LISTING, {"first": n})
    assert result.errors == []
    assert len(result.data["contacts"]["edges"]) == n
    # Adaptix: one list call answers the page and every person's Adaptix record.
    assert await stats(client, "adaptix") == {"GET /api/contacts": 1}
    # Trustmary: one page of 1000 holds every email asked for.
    assert await stats(client, "trustmary") == {"GET /v1/contacts": 1}
    # Lunar Send has no many-key read: one search per email is its API's minimum.
    assert await stats(client, "lunarsend") == {"GET /api/contacts": n}
    assert await stats(client, "akita") == {}
    assert await stats(client, "interakt") == {}


async def test_activity_is_newest_first_and_paginates(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    # Someone with Adaptix events and notes and a Lunar Send record carrying a note.
    person = max(
        (p for p in sandbox.data.in_provider("adaptix") if "lunarsend" in p.records),
        key=lambda p: (p.index % 3 == 0, len(p.events) + len(p.notes)),
    )
    query = """
    query($email: String, $after: String) { contact(email: $email) {
      activity(first: 2, after: $after) {
        edges { cursor node { kind type timestamp } } pageInfo { hasNextPage endCursor }
    } } }"""
    gateway = make_gateway()
    email = person.records["adaptix"].email
    items: list[tuple[str, str, str]] = []
    after = None
    while True:
        result = await execute(gateway, query, {"email": email, "after": after})
        assert result.errors == []
        page = result.data["contact"]["activity"]
        items += [
            (e["node"]["timestamp"], e["node"]["kind"], e["node"]["type"]) for e in page["edges"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Adaptix's events and notes, and the note Lunar Send keeps on every third seed record.
    assert person.index % 3 == 0
    assert len(items) == len(person.events) + len(person.notes) + 1
    assert len(set(items)) == len(items), "an item was listed twice"
    assert {kind for _, kind, _ in items} == {"EVENT", "NOTE"}
    assert [t for t, _, _ in items] == sorted((t for t, _, _ in items), reverse=True)


async def test_accounts_group_contacts_by_company_across_providers(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    email = in_all_three(sandbox).records["adaptix"].email
    contact = await execute(gateway, CONTACT, {"email": email})
    account = contact.data["contact"]["account"]
    result = await execute(
        gateway,
        "query($id: ID!) { account(id: $id) { id name contacts(first: 100) { edges { node { email company } } } } }",
        {"id": account["id"]},
    )
    assert result.errors == []
    assert result.data["account"]["name"] == account["name"]
    members = result.data["account"]["contacts"]["edges"]
    assert email in {m["node"]["email"] for m in members}
    assert len(members) > 1

    # Paged two at a time, the same contacts in the same order.
    paged: list[str] = []
    after = None
    while True:
        page = await execute(
            gateway,
            "query($id: ID!, $after: String) { account(id: $id) { contacts(first: 2, after: $after) "
            "{ edges { node { email } } pageInfo { hasNextPage endCursor } } } }",
            {"id": account["id"], "after": after},
        )
        contacts = page.data["account"]["contacts"]
        paged += [e["node"]["email"] for e in contacts["edges"]]
        if not contacts["pageInfo"]["hasNextPage"]:
            break
        after = contacts["pageInfo"]["endCursor"]
    assert paged == [m["node"]["email"] for m in members]


async def test_tags_query_unifies_tags_lists_and_configured_tags(
    make_gateway: GatewayFactory,
) -> None:
    result = await execute(make_gateway(), "{ tags { name provider kind count } }")
    assert result.errors == []
    kinds = {(t["provider"], t["kind"]) for t in result.data["tags"]}
    assert kinds == {("ADAPTIX", "TAG"), ("TRUSTMARY", "LIST"), ("AKITA", "TAG")}
    only = await execute(make_gateway(), "{ tags(provider: TRUSTMARY) { name kind count } }")
    assert {t["kind"] for t in only.data["tags"]} == {"LIST"}
    assert all(isinstance(t["count"], int) for t in only.data["tags"])


async def test_providers_lists_every_provider_with_capabilities(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway(providers=(Provider.ADAPTIX, Provider.AKITA))
    result = await execute(
        gateway, "{ providers { name enabled capabilities writableFields health { ok } } }"
    )
    rows = {row["name"]: row for row in result.data["providers"]}
    assert set(rows) == {"AKITA", "INTERAKT", "TRUSTMARY", "ADAPTIX", "LUNARSEND"}
    assert rows["ADAPTIX"]["enabled"]
    assert rows["ADAPTIX"]["health"] == {"ok": True}
    assert not rows["LUNARSEND"]["enabled"]
    assert rows["LUNARSEND"]["health"] is None
    assert "LIST" in rows["ADAPTIX"]["capabilities"]
    assert rows["AKITA"]["capabilities"] == ["WRITE", "TAGS"]
    assert "externalId" in rows["AKITA"]["writableFields"]


async def test_a_listing_read_whole_answers_the_other_lookups_without_calls(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    # 500 is more than Adaptix and Trustmary hold: both listings are read whole, so the
    # duplicate check and every person's lookups are answered from them.
    await reset(client)
    result = await execute(make_gateway(), LISTING, {"first": 500})
    assert result.errors == []
    listed = len(result.data["contacts"]["edges"])
    assert listed == len(enumerable_emails(sandbox))
    assert await stats(client, "adaptix") == {"GET /api/contacts": 1}
    assert await stats(client, "trustmary") == {"GET /v1/contacts": 1}
    assert await stats(client, "lunarsend") == {"GET /api/contacts": listed}


async def test_an_id_minted_from_an_external_id_resolves(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    # Ada's external id is usr-00000 in Trustmary; an id made from it finds her whole.
    global_id = base64.urlsafe_b64encode(b"Contact:eid:usr-00000").decode().rstrip("=")
    gateway = make_gateway()
    for query in (
        "query($id: ID!) { contact(id: $id) { email externalId sources { provider } } }",
        "query($id: ID!) { node(id: $id) { ... on Contact { email externalId sources { provider } } } }",
    ):
        result = await execute(gateway, query, {"id": global_id})
        assert result.errors == []
        found = result.data["contact" if "contact(" in query else "node"]
        assert found["email"] == "ada.lovelace.0@stark.test"
        assert found["externalId"] == "usr-00000"
        assert {s["provider"] for s in found["sources"]} == {"ADAPTIX", "TRUSTMARY", "LUNARSEND"}
    unknown = base64.urlsafe_b64encode(b"Contact:eid:nobody").decode().rstrip("=")
    result = await execute(gateway, "query($id: ID!) { contact(id: $id) { id } }", {"id": unknown})
    assert (result.errors, result.data) == ([], {"contact": None})


PAGE_OF_EMAILS = """
query($first: Int, $after: String, $filter: ContactFilter) {
  contacts(first: $first, after: $after, filter: $filter) {
    edges { node { email sources { provider remoteId } } }
    pageInfo { endCursor hasNextPage }
  }
}
"""


async def _walk(gateway: Any, first: int, filter: Any = None, after: str | None = None) -> Any:
    result = await execute(
        gateway, PAGE_OF_EMAILS, {"first": first, "after": after, "filter": filter}
    )
    assert result.errors == []
    return result.data["contacts"]


@pytest.mark.parametrize(
    ("size", "filter"),
    [(150, None), (220, None), (5, {"company": "Wayne Enterprises"})],
    ids=["within-adaptix", "into-trustmary", "filtered"],
)
async def test_deleting_before_the_next_page_neither_skips_nor_repeats_anyone(
    client: httpx.AsyncClient, make_gateway: GatewayFactory, size: int, filter: Any
) -> None:
    everyone = [e["node"]["email"] for e in (await _walk(make_gateway(), 500, filter))["edges"]]
    first = await _walk(make_gateway(), size, filter)
    listed = [e["node"]["email"] for e in first["edges"]]
    # Three people of the first page are deleted everywhere before the second page.
    for edge in first["edges"][-3:]:
        for source in edge["node"]["sources"]:
            provider, remote = source["provider"].lower(), source["remoteId"]
            if provider == "adaptix":
                await client.delete(
                    f"/adaptix/api/contacts/{remote}/delete",
                    auth=("sandbox", "sandbox-adaptix-password"),
                )
            elif provider == "trustmary":
                await client.request(
                    "DELETE",
                    "/trustmary/v1/contacts",
                    json={"email": edge["node"]["email"]},
                    headers={"Authorization": "Apikey sandbox-trustmary-key"},
                )
    second = await _walk(make_gateway(), 500, filter, after=first["pageInfo"]["endCursor"])
    rest = [e["node"]["email"] for e in second["edges"]]
    assert listed + rest == everyone


# -- segments, companies, UTM tags and do-not-contact entries (Adaptix) ---------------

SEGMENTS = """
query($email: String) {
  contact(email: $email) {
    plain: tags { name provider kind }
    all: tags(kinds: [TAG, LIST, SEGMENT]) { name provider kind remoteId }
  }
}
"""


async def test_segments_show_in_tags_with_kind_segment_only_when_asked(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.in_provider("adaptix") if p.segments and p.tags)
    names = {s.id: s.name for s in sandbox.data.segments}
    gateway = make_gateway()
    await reset(client)

    result = await execute(gateway, SEGMENTS, {"email": person.records["adaptix"].email})

    assert result.errors == []
    contact = result.data["contact"]
    assert {t["kind"] for t in contact["plain"]} == {"TAG"}
    segments = [t for t in contact["all"] if t["kind"] == "SEGMENT"]
    assert [(t["name"], t["provider"], t["remoteId"]) for t in segments] == [
        (names[s], "ADAPTIX", str(s)) for s in person.segments
    ]
    # The record's tags come first, as without SEGMENT.
    assert [(t["name"], t["kind"]) for t in contact["all"][: len(contact["plain"])]] == [
        (t["name"], t["kind"]) for t in contact["plain"]
    ]
    assert (await stats(client, "adaptix"))["GET /api/contacts/{id}/segments"] == 1


PAGE_EXTRAS = """
query($first: Int) {
  contacts(first: $first) {
    edges { node {
      email
      tags(kinds: [SEGMENT]) { name }
      again: tags(kinds: [TAG, SEGMENT]) { name }
      companies { name isPrimary }
    } }
  }
}
"""


async def test_a_page_costs_at_most_one_segments_and_one_companies_call_per_contact(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    n = 20
    gateway = make_gateway()
    await reset(client)
    plain = await execute(
        gateway,
        "query($first: Int) { contacts(first: $first) { edges { node { tags { name } } } } }",
        {"first": n},
    )
    assert plain.errors == []
    assert await stats(client, "adaptix") == {"GET /api/contacts": 1}

    await reset(client)
    result = await execute(gateway, PAGE_EXTRAS, {"first": n})

    assert result.errors == []
    nodes = [e["node"] for e in result.data["contacts"]["edges"]]
    assert len(nodes) == n
    assert any(node["tags"] for node in nodes)
    assert all(node["companies"][0]["isPrimary"] for node in nodes if node["companies"])
    # The page is Adaptix's first 20 contacts; each contact's segments are read once
    # however many fields ask for them.
    assert await stats(client, "adaptix") == {
        "GET /api/contacts": 1,
        "GET /api/contacts/{id}/segments": n,
        "GET /api/contacts/{id}/companies": n,
    }


async def test_the_call_estimate_counts_segments_and_companies_per_contact(
    make_gateway: GatewayFactory,
) -> None:
    from resolvers.runtime.limits import Limits

    gateway = make_gateway()
    gateway.limits = Limits(max_provider_calls=1)

    async def estimated(node: str) -> int:
        query = f"{{ contacts(first: 10) {{ edges {{ node {{ {node} }} }} }} }}"
        result = await execute(gateway, query)
        [error] = result.errors
        return int(error["extensions"]["estimatedProviderCalls"]["ADAPTIX"])

    base = await estimated("tags { name }")
    assert await estimated("tags(kinds: [TAG, SEGMENT]) { name }") == base + 10
    assert await estimated("companies { name }") == base + 10


async def test_companies_show_the_primary_one_first(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.in_provider("adaptix") if p.records["adaptix"].company)
    email = person.records["adaptix"].email
    gateway = make_gateway()
    query = """query($email: String) { contact(email: $email) {
      company companies { id name isPrimary provider createdAt associatedAt } } }"""

    before = await execute(gateway, query, {"email": email})
    moved = await execute(
        gateway,
        "mutation($input: ContactInput!) { upsertContact(input: $input, providers: [ADAPTIX]) { results { status } } }",
        {"input": {"email": email, "company": "Difference Engines Ltd"}},
    )
    after = await execute(gateway, query, {"email": email})

    assert before.errors == moved.errors == after.errors == []
    [company] = before.data["contact"]["companies"]
    assert (company["name"], company["isPrimary"], company["provider"]) == (
        person.records["adaptix"].company,
        True,
        "ADAPTIX",
    )
    assert company["createdAt"]
    assert company["associatedAt"]
    assert [(c["name"], c["isPrimary"]) for c in after.data["contact"]["companies"]] == [
        ("Difference Engines Ltd", True),
        (person.records["adaptix"].company, False),
    ]


async def test_do_not_contact_entries_carry_reason_date_and_comments(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    stored = await records(client, "adaptix")
    unsubscribed = next(r for r in stored if any(d["reason"] == 1 for d in r["doNotContact"]))
    query = """query($email: String) { contact(email: $email) {
      doNotContact doNotContactEntries { channel reason channelId addedAt comments provider } } }"""

    result = await execute(make_gateway(), query, {"email": unsubscribed["fields"]["all"]["email"]})

    assert result.errors == []
    contact = result.data["contact"]
    assert contact["doNotContact"] == ["email"]
    [entry] = contact["doNotContactEntries"]
    assert {k: v for k, v in entry.items() if k != "addedAt"} == {
        "channel": "email",
        "reason": "UNSUBSCRIBED",
        "channelId": None,
        "comments": "User unsubscribed.",
        "provider": "ADAPTIX",
    }
    assert entry["addedAt"]


async def test_root_lookups_of_one_document_share_each_providers_calls(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    emails = ["ada.lovelace.0@stark.test", "grace.hopper.1@wayne.test"]
    document = """query($a: String!, $b: String!, $same: String!) {
      a: contact(email: $a) { email sources { provider } }
      b: contact(email: $b) { email }
      again: contact(email: $same) { email }
    }"""
    gateway = make_gateway()
    await reset(client)
    result = await execute(gateway, document, {"a": emails[0], "b": emails[1], "same": emails[0]})

    assert result.errors == []
    assert [result.data[k]["email"] for k in ("a", "again")] == [emails[0], emails[0]]
    # Adaptix reads both emails in one call, Trustmary its one page (fewer calls than a
    # search per email), Lunar Send one search per email: each email once, though one is
    # asked for twice.
    assert await stats(client, "adaptix") == {"GET /api/contacts": 1}
    assert await stats(client, "trustmary") == {"GET /v1/contacts": 1}
    assert await stats(client, "lunarsend") == {"GET /api/contacts": 2}


# One person, then each of their account's people (the same person among them): the
# only root field asks the providers at once; beside another root field, through the
# loaders' batches. Answers, errors and provider calls must not tell them apart.
ALONE = """query($email: String!) { contact(email: $email) {
    email firstName sources { provider remoteId }
    account { name contacts(first: 5) { edges { node { email sources { provider } } } } }
} }"""
BESIDE = ALONE.replace("query($email: String!) {", "query($email: String!) { __typename")


@pytest.mark.parametrize("outage", [None, "lunarsend"])
async def test_the_only_root_lookup_answers_and_costs_as_one_beside_another_field(
    sandbox: Sandbox,
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    outage: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if outage is not None:
        sandbox.emulators[outage].controls = Controls(outage=True)
    email = "ada.lovelace.0@stark.test"
    answers, counts = [], []
    for query in (ALONE, BESIDE):
        await reset(client)
        result = await execute(make_gateway(retry=RetryPolicy(attempts=1)), query, {"email": email})
        answers.append((result.data and result.data["contact"], result.errors))
        counts.append(
            {key: await stats(client, key) for key in ("adaptix", "trustmary", "lunarsend")}
        )
    assert answers[0] == answers[1]
    assert counts[0] == counts[1]
    contact, errors = answers[0]
    assert contact is not None
    assert email in [e["node"]["email"] for e in contact["account"]["contacts"]["edges"]]
    assert bool(errors) == (outage is not None)
    # A failure kept for later lookups that never come is not reported as unseen.
    await execute(make_gateway(), f'{{ contact(email: "{email}") {{ email }} }}')
    gc.collect()
    assert "never retrieved" not in caplog.text
