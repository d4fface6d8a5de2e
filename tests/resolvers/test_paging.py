"""Relay paging both ways, sorting, counting and changes, against the seeded sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.domain.normalize import normalize_email
from gateway.domain.records import Provider
from resolvers.runtime.context import Runtime
from sandbox.app import Sandbox
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, reset, stats

LIST = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: ContactFilter, $orderBy: ContactOrder) {
  contacts(first: $first, after: $after, last: $last, before: $before,
           filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id email name createdAt updatedAt } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    coveredProviders
  }
}
"""

# The seed's unfiltered listing: 180 people in Adaptix, then 98 only in Trustmary.
LISTED = 180 + 98


async def page(gateway: Runtime, **variables: Any) -> dict[str, Any]:
    result = await execute(gateway, LIST, variables)
    assert result.errors == [], result.errors
    connection: dict[str, Any] = result.data["contacts"]
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def walk_forward(gateway: Runtime, size: int, **variables: Any) -> list[str]:
    found: list[str] = []
    after = None
    while True:
        connection = await page(gateway, first=size, after=after, **variables)
        found += ids(connection)
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            return found
        after = info["endCursor"]


async def walk_backward(gateway: Runtime, size: int, **variables: Any) -> list[str]:
    found: list[str] = []
    before = None
    while True:
        connection = await page(gateway, last=size, before=before, **variables)
        found = ids(connection) + found
        info = connection["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        if not info["hasPreviousPage"]:
            return found
        before = info["startCursor"]


async def test_page_info_is_relay_complete_and_nodes_match_edges(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    first = await page(gateway, first=5)
    assert [n["id"] for n in first["nodes"]] == ids(first)
    info = first["pageInfo"]
    assert info["hasPreviousPage"] is False
    assert info["hasNextPage"] is True
    assert info["startCursor"] == first["edges"][0]["cursor"]
    assert info["endCursor"] == first["edges"][-1]["cursor"]

    second = await page(gateway, first=5, after=info["endCursor"])
    assert second["pageInfo"]["hasPreviousPage"] is True
    # Backward from the second page's start gives the first page again.
    back = await page(gateway, last=5, before=second["pageInfo"]["startCursor"])
    assert ids(back) == ids(first)
    assert back["pageInfo"]["hasPreviousPage"] is False
    assert back["pageInfo"]["hasNextPage"] is True


async def test_the_whole_listing_read_backward_is_the_listing_read_forward(
    make_gateway: GatewayFactory,
) -> None:
    """Across the Adaptix and Trustmary parts of the listing, and with page ends that
    fall anywhere in them."""
    gateway = make_gateway()
    forward = await walk_forward(gateway, 37)
    assert len(forward) == len(set(forward)) == LISTED
    assert await walk_backward(gateway, 23) == forward
    assert ids(await page(gateway, last=4)) == forward[-4:]


async def test_backward_paging_of_one_provider_and_of_a_filtered_listing(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    only = {"filter": {"provider": "TRUSTMARY"}}
    assert await walk_backward(gateway, 9, **only) == await walk_forward(gateway, 11, **only)
    search = {"filter": {"search": "a"}}
    forward = await walk_forward(gateway, 13, **search)
    assert len(forward) > 20
    assert await walk_backward(gateway, 8, **search) == forward


async def test_filtered_and_unfiltered_listings_come_in_one_order(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    gateway = make_gateway()
    everyone = await walk_forward(gateway, 200)
    company = next(p.records["trustmary"].company for p in sandbox.data.in_provider("trustmary"))
    matched = await walk_forward(gateway, 200, filter={"company": company})
    listed = [i for i in matched if i in set(everyone)]
    assert listed, "the company's people are listed"
    # The filtered listing is the unfiltered one with the others left out.
    assert listed == [i for i in everyone if i in set(listed)]
    assert matched[: len(listed)] == listed  # people the listing cannot enumerate come last


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_order_by_email_both_ways_pages_without_gaps(
    make_gateway: GatewayFactory, direction: str
) -> None:
    gateway = make_gateway()
    order = {"orderBy": {"field": "EMAIL", "direction": direction}}
    emails: list[str | None] = []
    after = None
    while True:
        connection = await page(gateway, first=40, after=after, **order)
        emails += [normalize_email(e["node"]["email"]) for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(emails) == LISTED
    present = [e for e in emails if e is not None]
    assert present == sorted(present, reverse=direction == "DESC")
    assert emails[: len(present)] == present  # no email: last, either way
    assert len(set(present)) == len(present)


async def test_order_by_name_on_a_filtered_listing_and_backward(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    variables = {"filter": {"search": "e"}, "orderBy": {"field": "NAME", "direction": "DESC"}}
    connection = await page(gateway, first=60, **variables)
    names = [e["node"]["name"].casefold() for e in connection["edges"]]
    assert names == sorted(names, reverse=True)
    forward = await walk_forward(gateway, 60, **variables)
    assert forward[:60] == ids(connection)
    assert await walk_backward(gateway, 7, **variables) == forward


TOTAL = "query($filter: ContactFilter) { contacts(first: 3, filter: $filter) { totalCount } }"


async def test_total_count_is_exact_where_the_providers_can_say(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    gateway = make_gateway()
    adaptix = await execute(gateway, TOTAL, {"filter": {"provider": "ADAPTIX"}})
    assert adaptix.data == {"contacts": {"totalCount": len(sandbox.data.in_provider("adaptix"))}}

    everyone = await execute(gateway, TOTAL)
    assert everyone.data == {"contacts": {"totalCount": None}}  # Trustmary does not say

    company = next(p.records["adaptix"].company for p in sandbox.data.in_provider("adaptix"))
    matched = await walk_forward(gateway, 200, filter={"company": company})
    counted = await execute(gateway, TOTAL, {"filter": {"company": company}})
    assert counted.data == {"contacts": {"totalCount": len(matched)}}

    # Counting costs Adaptix one call, and only when asked.
    await reset(client)
    await execute(
        make_gateway(), "{ contacts(first: 3, filter: {provider: ADAPTIX}) { nodes { id } } }"
    )
    without = await stats(client, "adaptix")
    await reset(client)
    await execute(make_gateway(), TOTAL, {"filter": {"provider": "ADAPTIX"}})
    assert sum((await stats(client, "adaptix")).values()) == sum(without.values()) + 1


CHANGES = """
query($since: DateTime!, $first: Int, $after: String) {
  contactChanges(since: $since, first: $first, after: $after) {
    edges { cursor node { email updatedAt sources { provider } } }
    pageInfo { hasNextPage endCursor }
    coveredProviders
  }
}
"""


async def test_contact_changes_lists_people_changed_since_oldest_first(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    since = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(3):
        written = await execute(
            gateway,
            "mutation($input: ContactInput!) { upsertContact(input: $input,"
            " providers: [ADAPTIX, TRUSTMARY]) { results { status } } }",
            {"input": {"email": f"changed{n}@example.com", "firstName": f"Changed{n}"}},
        )
        assert written.errors == []
    result = await execute(gateway, CHANGES, {"since": since.isoformat(), "first": 2})
    assert result.errors == []
    changes = result.data["contactChanges"]
    assert [e["node"]["email"] for e in changes["edges"]] == [
        "changed0@example.com",
        "changed1@example.com",
    ]
    assert changes["coveredProviders"] == ["TRUSTMARY", "ADAPTIX"]
    rest = await execute(
        gateway,
        CHANGES,
        {"since": since.isoformat(), "first": 2, "after": changes["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["email"] for e in rest.data["contactChanges"]["edges"]] == [
        "changed2@example.com"
    ]
    assert rest.data["contactChanges"]["pageInfo"]["hasNextPage"] is False

    # The same people through the listing's filter.
    filtered = await page(gateway, first=10, filter={"updatedSince": since.isoformat()})
    assert sorted(e["node"]["email"] for e in filtered["edges"]) == [
        f"changed{n}@example.com" for n in range(3)
    ]


async def test_a_time_without_offset_is_refused_before_any_provider_call(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    result = await execute(make_gateway(), CHANGES, {"since": "2026-01-01T00:00:00"})
    assert [e["extensions"] for e in result.errors] == [
        {"code": "BAD_USER_INPUT", "field": "since"}
    ]
    for key in ("adaptix", "trustmary", "lunarsend"):
        assert await stats(client, key) == {}


async def test_a_text_search_says_which_providers_it_covered(
    make_gateway: GatewayFactory,
) -> None:
    connection = await page(make_gateway(), first=5, filter={"search": "a"})
    assert connection["coveredProviders"] == ["TRUSTMARY", "ADAPTIX"]  # not Lunar Send
    listing = await page(make_gateway(), first=5)
    assert listing["coveredProviders"] == ["TRUSTMARY", "ADAPTIX"]
    by_email = await page(make_gateway(), first=5, filter={"email": "nobody@example.com"})
    assert by_email["coveredProviders"] == ["TRUSTMARY", "ADAPTIX", "LUNARSEND"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 2, "last": 2}, "last"),
        ({"last": 0}, "last"),
        ({"last": 2, "before": "bm9wZQ"}, "before"),
        ({"first": 2, "before": "eyJhIjpudWxsLCJwIjoiYWRhcHRpeCJ9"}, "before"),
    ],
)
async def test_bad_backward_paging_is_bad_input(
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    variables: dict[str, Any],
    field: str,
) -> None:
    await reset(client)
    result = await execute(make_gateway(), LIST, variables)
    assert [e["extensions"] for e in result.errors] == [{"code": "BAD_USER_INPUT", "field": field}]
    for key in ("adaptix", "trustmary", "lunarsend"):
        assert await stats(client, key) == {}


ACTIVITY = """
query($email: String, $first: Int, $after: String, $last: Int, $before: String) {
  contact(email: $email) {
    activity(first: $first, after: $after, last: $last, before: $before) {
      nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def test_activity_pages_backward(sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    assert sandbox.data is not None
    person = max(sandbox.data.in_provider("adaptix"), key=lambda p: len(p.events) + len(p.notes))
    gateway = make_gateway()
    email = person.records["adaptix"].email
    whole = await execute(gateway, ACTIVITY, {"email": email, "first": 100})
    everything = [n["id"] for n in whole.data["contact"]["activity"]["nodes"]]
    assert len(everything) >= 6
    second = await execute(gateway, ACTIVITY, {"email": email, "first": 3, "after": None})
    end = second.data["contact"]["activity"]["pageInfo"]["endCursor"]
    rest = await execute(gateway, ACTIVITY, {"email": email, "first": 3, "after": end})
    start = rest.data["contact"]["activity"]["pageInfo"]["startCursor"]
    back = await execute(gateway, ACTIVITY, {"email": email, "last": 2, "before": start})
    assert back.errors == []
    activity = back.data["contact"]["activity"]
    assert [n["id"] for n in activity["nodes"]] == everything[1:3]
    assert activity["pageInfo"]["hasPreviousPage"] is True
    oldest = await execute(gateway, ACTIVITY, {"email": email, "last": 2})
    assert [n["id"] for n in oldest.data["contact"]["activity"]["nodes"]] == everything[-2:]


OPERATIONS = """
query($first: Int, $after: String, $last: Int, $before: String) {
  writeOperations(first: $first, after: $after, last: $last, before: $before) {
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_write_operations_page_both_ways(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(providers=(Provider.ADAPTIX,))
    for n in range(5):
        await execute(
            gateway,
            "mutation($input: ContactInput!) { upsertContact(input: $input) { operationId } }",
            {"input": {"email": f"op{n}@example.com"}},
        )
    newest = await execute(gateway, OPERATIONS, {"first": 100})
    everything = [n["id"] for n in newest.data["writeOperations"]["nodes"]]
    assert len(everything) >= 5
    oldest = await execute(gateway, OPERATIONS, {"last": 2})
    assert [n["id"] for n in oldest.data["writeOperations"]["nodes"]] == everything[-2:]
    info = oldest.data["writeOperations"]["pageInfo"]
    assert info["hasPreviousPage"] is (len(everything) > 2)
    before = await execute(gateway, OPERATIONS, {"last": 2, "before": info["startCursor"]})
    assert [n["id"] for n in before.data["writeOperations"]["nodes"]] == everything[-4:-2]


@pytest.mark.parametrize("size", [180, 181, 37])
async def test_a_forward_page_s_end_cursor_bounds_a_backward_page(
    make_gateway: GatewayFactory, size: int
) -> None:
    """A page ending at the last Adaptix contact hands out a cursor that goes on in
    Trustmary; backward from it still ends right before that contact."""
    gateway = make_gateway()
    forward = await walk_forward(gateway, 200)
    page_one = await page(gateway, first=size)
    end = page_one["pageInfo"]["endCursor"]
    back = await page(gateway, last=3, before=end)
    assert ids(back) == forward[size - 4 : size - 1]
    onward = await page(gateway, first=2, after=end)
    assert ids(onward) == forward[size : size + 2]


async def test_contact_changes_page_backward_from_the_latest_change(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    since = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(4):
        await execute(
            gateway,
            "mutation($input: ContactInput!) { upsertContact(input: $input,"
            " providers: [ADAPTIX]) { results { status } } }",
            {"input": {"email": f"later{n}@example.com", "firstName": f"Later{n}"}},
        )
    query = """
    query($since: DateTime!, $last: Int, $before: String) {
      contactChanges(since: $since, last: $last, before: $before) {
        nodes { email } pageInfo { hasPreviousPage startCursor }
      }
    }"""
    latest = await execute(gateway, query, {"since": since.isoformat(), "last": 2})
    assert latest.errors == []
    changes = latest.data["contactChanges"]
    assert [n["email"] for n in changes["nodes"]] == ["later2@example.com", "later3@example.com"]
    assert changes["pageInfo"]["hasPreviousPage"] is True
    earlier = await execute(
        gateway,
        query,
        {"since": since.isoformat(), "last": 5, "before": changes["pageInfo"]["startCursor"]},
    )
    assert [n["email"] for n in earlier.data["contactChanges"]["nodes"]] == [
        "later0@example.com",
        "later1@example.com",
    ]
