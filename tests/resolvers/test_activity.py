"""Activity through the real schema against the seeded sandbox: a contact's history
filtered by kind and time, the global feed, and the fields a form can be built from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from gateway.domain.records import Provider
from resolvers.runtime.context import Runtime
from resolvers.runtime.limits import estimate
from sandbox.app import Sandbox
from sandbox.seed import SeedPerson
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, reset, stats

HISTORY = """
query($email: String, $first: Int, $after: String, $last: Int, $before: String,
      $kinds: [ActivityKind!], $since: DateTime, $until: DateTime) {
  contact(email: $email) {
    email
    activity(first: $first, after: $after, last: $last, before: $before,
             kinds: $kinds, since: $since, until: $until) {
      edges { cursor node { id kind type timestamp provider contact { email } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
}
"""

FEED = """
query($first: Int, $after: String, $kinds: [ActivityKind!], $since: DateTime,
      $until: DateTime) {
  activity(first: $first, after: $after, kinds: $kinds, since: $since, until: $until) {
    edges { cursor node { id kind type timestamp details contact { email sources { provider remoteId } } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}
"""

FEED_IDS = """
query($first: Int, $after: String, $since: DateTime) {
  activity(first: $first, after: $after, since: $since) {
    nodes { id timestamp } pageInfo { hasNextPage endCursor } totalCount
  }
}
"""


def busy_person(sandbox: Sandbox) -> SeedPerson:
    """Someone with Adaptix events and notes, and a Lunar Send record carrying a note."""
    assert sandbox.data is not None
    return max(
        (p for p in sandbox.data.in_provider("adaptix") if "lunarsend" in p.records),
        key=lambda p: (p.index % 3 == 0, len(p.notes) > 1, len(p.events) + len(p.notes)),
    )


async def history(gateway: Runtime, email: str, **variables: Any) -> list[dict[str, Any]]:
    """Every item of a contact's activity, read page by page with these variables."""
    items: list[dict[str, Any]] = []
    after = None
    while True:
        result = await execute(gateway, HISTORY, {"email": email, "after": after, **variables})
        assert result.errors == []
        page = result.data["contact"]["activity"]
        items += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return items
        after = page["pageInfo"]["endCursor"]


async def test_kinds_filter_gives_only_notes_or_only_events_and_skips_the_other_call(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    person = busy_person(sandbox)
    email = person.records["adaptix"].email
    gateway = make_gateway()

    await reset(client)
    notes = await history(gateway, email, first=100, kinds=["NOTE"])
    assert await stats(client, "adaptix") == {
        "GET /api/contacts": 1,
        "GET /api/contacts/{id}/notes": 1,
    }
    await reset(client)
    events = await history(gateway, email, first=100, kinds=["EVENT"])
    assert await stats(client, "adaptix") == {
        "GET /api/contacts": 1,
        "GET /api/contacts/{id}/activity": 1,
    }
    nothing = await history(gateway, email, kinds=[])

    # Adaptix's notes and the one Lunar Send keeps on the record.
    assert {n["kind"] for n in notes} == {"NOTE"}
    assert len(notes) == len(person.notes) + 1
    assert {n["provider"] for n in notes} == {"ADAPTIX", "LUNARSEND"}
    assert {e["kind"] for e in events} == {"EVENT"}
    assert sorted(e["type"] for e in events) == sorted(e.event for e in person.events)
    assert nothing == []
    # An item of a contact's activity belongs to that contact.
    assert {n["contact"]["email"] for n in notes + events} == {email}


async def test_since_and_until_bound_the_timestamps(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    person = busy_person(sandbox)
    email = person.records["adaptix"].email
    gateway = make_gateway()
    everything = await history(gateway, email, first=100)
    stamps = sorted({datetime.fromisoformat(n["timestamp"]) for n in everything})
    assert len(stamps) >= 4
    since, until = stamps[1], stamps[-2]
    # In another offset: the bounds are moments, whatever the zone they are written in.
    helsinki = since.astimezone(datetime.now(UTC).astimezone().tzinfo).isoformat()

    bounded = await history(gateway, email, first=100, since=helsinki, until=until.isoformat())
    after_only = await history(gateway, email, first=100, since=since.isoformat())
    before_only = await history(
        gateway, email, first=100, until=(until - timedelta(microseconds=1)).isoformat()
    )

    def within(low: datetime | None, high: datetime | None) -> list[str]:
        return [
            n["id"]
            for n in everything
            if (low is None or datetime.fromisoformat(n["timestamp"]) >= low)
            and (high is None or datetime.fromisoformat(n["timestamp"]) <= high)
        ]

    assert [n["id"] for n in bounded] == within(since, until)
    assert [n["id"] for n in after_only] == within(since, None)
    assert [n["id"] for n in before_only] == within(None, until - timedelta(seconds=1))
    assert len(bounded) < len(everything)
    assert {n["kind"] for n in bounded} == {"EVENT", "NOTE"}


async def test_paging_a_filtered_history_never_skips_or_repeats(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    person = busy_person(sandbox)
    email = person.records["adaptix"].email
    gateway = make_gateway()
    everything = await history(gateway, email, first=100)
    stamps = sorted(datetime.fromisoformat(n["timestamp"]) for n in everything)
    filters = {"since": stamps[1].isoformat(), "kinds": ["EVENT", "NOTE"]}
    whole = await history(gateway, email, first=100, **filters)

    forward = await history(gateway, email, first=2, **filters)
    assert [n["id"] for n in forward] == [n["id"] for n in whole]

    # Backward from the end, two at a time, to the start.
    backward: list[dict[str, Any]] = []
    before = None
    while True:
        variables = {"email": email, "last": 2, "before": before, **filters}
        result = await execute(gateway, HISTORY, variables)
        assert result.errors == []
        page = result.data["contact"]["activity"]
        backward = [edge["node"] for edge in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert [n["id"] for n in backward] == [n["id"] for n in whole]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"since": "2025-01-01T00:00:00"}, "since"),
        ({"until": "2025-01-01T00:00:00"}, "until"),
        ({"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "since"),
    ],
)
async def test_bad_bounds_are_bad_user_input(
    sandbox: Sandbox,
    client: httpx.AsyncClient,
    make_gateway: GatewayFactory,
    variables: dict[str, str],
    field: str,
) -> None:
    gateway = make_gateway()
    email = busy_person(sandbox).records["adaptix"].email
    await reset(client)
    for query, extra in ((HISTORY, {"email": email}), (FEED, {})):
        result = await execute(gateway, query, {**extra, **variables})
        [error] = result.errors
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == field
    assert "GET /api/contacts/activity" not in await stats(client, "adaptix")


async def test_bounds_at_the_edge_of_the_calendar_are_no_error(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    email = busy_person(sandbox).records["adaptix"].email
    edges = {"since": "0001-01-01T00:00:00+05:00", "until": "9999-12-31T23:59:59-05:00"}
    everything = await history(gateway, email, first=100)
    assert await history(gateway, email, first=100, **edges) == everything
    feed = await execute(gateway, FEED, {"first": 3, **edges})
    assert feed.errors == []
    assert len(feed.data["activity"]["edges"]) == 3


async def test_the_global_feed_is_newest_first_and_finds_each_contact_in_one_call(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    assert sandbox.data is not None
    gateway = make_gateway()
    await reset(client)
    result = await execute(gateway, FEED, {"first": 20})
    assert result.errors == []
    feed = result.data["activity"]
    nodes = [edge["node"] for edge in feed["edges"]]

    # Every seeded event of every Adaptix contact, newest first.
    seeded = sorted(
        (e.at for p in sandbox.data.in_provider("adaptix") for e in p.events), reverse=True
    )
    assert feed["totalCount"] == len(seeded)
    assert [datetime.fromisoformat(n["timestamp"]) for n in nodes] == seeded[:20]
    assert {n["kind"] for n in nodes} == {"EVENT"}
    assert feed["pageInfo"]["hasNextPage"] is True
    assert feed["pageInfo"]["hasPreviousPage"] is False
    # Each item's contact, looked up for the whole page at once.
    assert all(n["contact"] is not None for n in nodes)
    assert len({n["contact"]["email"] for n in nodes}) > 1
    assert await stats(client, "adaptix") == {
        "GET /api/contacts/activity": 1,
        "GET /api/contacts": 1,
    }


async def test_the_global_feed_item_belongs_to_its_contact(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    result = await execute(gateway, FEED, {"first": 5})
    for node in (edge["node"] for edge in result.data["activity"]["edges"]):
        contact = node["contact"]
        assert "ADAPTIX" in {s["provider"] for s in contact["sources"]}
        mine = await history(gateway, contact["email"], first=100, kinds=["EVENT"])
        assert node["id"] in [n["id"] for n in mine]


async def test_paging_the_global_feed_never_skips_or_repeats(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    since = "2025-01-20T00:00:00Z"
    first = await execute(gateway, FEED_IDS, {"first": 100, "since": since})
    rest = await execute(
        gateway,
        FEED_IDS,
        {"first": 100, "since": since, "after": first.data["activity"]["pageInfo"]["endCursor"]},
    )
    whole = [n["id"] for r in (first, rest) for n in r.data["activity"]["nodes"]]
    total = first.data["activity"]["totalCount"]
    assert len(whole) == min(total, 200)
    assert len(set(whole)) == len(whole)

    # Pages of 35 cross the gateway's pages of the provider's feed (100 events each).
    paged: list[str] = []
    after = None
    while len(paged) < len(whole):
        result = await execute(gateway, FEED_IDS, {"first": 35, "after": after, "since": since})
        assert result.errors == []
        page = result.data["activity"]
        paged += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged[: len(whole)] == whole
    assert all(
        datetime.fromisoformat(n["timestamp"]) >= datetime.fromisoformat(since)
        for n in first.data["activity"]["nodes"]
    )


async def test_the_global_feed_has_no_notes_and_costs_nothing_for_them(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    await reset(client)
    result = await execute(gateway, FEED, {"kinds": ["NOTE"]})
    assert result.errors == []
    assert result.data["activity"]["edges"] == []
    assert result.data["activity"]["totalCount"] == 0
    assert await stats(client, "adaptix") == {}


async def test_without_adaptix_the_global_feed_is_empty(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(providers=(Provider.TRUSTMARY, Provider.LUNARSEND))
    result = await execute(gateway, FEED, {"first": 5})
    assert result.errors == []
    assert result.data["activity"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
        "totalCount": 0,
    }


FIELDS = """
query($provider: Provider!) {
  providerFields(provider: $provider) { provider alias label type group inputField }
}
"""


async def test_adaptix_fields_list_core_fields_with_labels_and_groups(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    await reset(client)
    result = await execute(gateway, FIELDS, {"provider": "ADAPTIX"})
    again = await execute(gateway, FIELDS, {"provider": "ADAPTIX"})
    assert result.errors == []
    fields = {f["alias"]: f for f in result.data["providerFields"]}
    assert fields["firstname"] == {
        "provider": "ADAPTIX",
        "alias": "firstname",
        "label": "First Name",
        "type": "text",
        "group": "core",
        "inputField": "firstName",
    }
    assert fields["email"]["type"] == "email"
    assert fields["mobile"]["inputField"] == fields["phone"]["inputField"] == "phones"
    assert fields["points"]["inputField"] is None  # Adaptix keeps points; not written
    assert fields["twitter"]["group"] == "social"
    assert fields["twitter"]["inputField"] == "customFields.twitter"
    core = {"title", "firstname", "lastname", "company", "position", "email", "city", "website"}
    assert core <= {a for a, f in fields.items() if f["group"] == "core"}
    # Adaptix's order: the core fields first.
    assert list(fields)[:3] == ["title", "firstname", "lastname"]
    # Asked again (another request), the kept answer serves it.
    assert again.data == result.data
    assert await stats(client, "adaptix") == {"GET /api/contacts/list/fields": 1}


async def test_lunarsend_fields_are_the_ones_the_gateway_writes(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    await reset(client)
    result = await execute(gateway, FIELDS, {"provider": "LUNARSEND"})
    providers = await execute(gateway, "{ providers { name writableFields } }")
    assert result.errors == []
    fields = result.data["providerFields"]
    writable = next(
        p["writableFields"] for p in providers.data["providers"] if p["name"] == "LUNARSEND"
    )
    assert sorted(f["alias"] for f in fields) == sorted(writable)
    assert all(f["inputField"] == f["alias"] and f["group"] is None for f in fields)
    by_alias = {f["alias"]: f for f in fields}
    assert by_alias["firstName"]["label"] == "First name"
    assert by_alias["email"]["type"] == "text"
    assert by_alias["phones"]["type"] == "list"
    assert await stats(client, "lunarsend") == {}


async def test_fields_of_a_provider_not_enabled_are_the_ones_it_would_be_written(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway(providers=(Provider.LUNARSEND,))
    result = await execute(gateway, FIELDS, {"provider": "ADAPTIX"})
    assert result.errors == []
    fields = {f["alias"]: f for f in result.data["providerFields"]}
    assert fields["customFields"]["type"] == "object"
    assert fields["tags"]["type"] == "list"


def cost(gateway: Runtime, query: str) -> dict[Provider, int]:
    document = parse(query)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return dict(estimate(operation, {}, {}, gateway))


def test_the_estimate_counts_the_calls_of_activity_and_fields(gateway: Runtime) -> None:
    contact = '{ contact(email: "a@b.test") { activity%s { nodes { id contact { id } } } } }'
    plain = cost(gateway, contact % "")
    only_notes = cost(gateway, contact % "(kinds: [NOTE])")
    notes_until = cost(gateway, contact % '(kinds: [NOTE], until: "2025-01-01T00:00:00Z")')
    # One lookup of the contact; its items' `contact` is that contact: no more lookups.
    assert plain[Provider.ADAPTIX] == 1 + 2
    assert only_notes[Provider.ADAPTIX] == 1 + 1
    assert notes_until[Provider.ADAPTIX] == 1 + 2
    assert plain[Provider.LUNARSEND] == 1

    feed = cost(gateway, "{ activity(first: 50) { nodes { id contact { email } } } }")
    # Two pages of the feed, and one batched lookup of the page's 50 contacts.
    assert feed[Provider.ADAPTIX] == 2 + 1
    assert feed[Provider.LUNARSEND] == 50  # one search per person: its API's minimum
    assert cost(gateway, "{ activity(kinds: [NOTE]) { nodes { id } } }") == {}

    assert cost(gateway, "{ providerFields(provider: ADAPTIX) { alias } }") == {Provider.ADAPTIX: 1}
    assert cost(gateway, "{ providerFields(provider: LUNARSEND) { alias } }") == {}


FEED_BOTH_WAYS = """
query($first: Int, $after: String, $last: Int, $before: String, $since: DateTime) {
  activity(first: $first, after: $after, last: $last, before: $before, since: $since) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount
  }
}
"""


async def test_the_global_feed_read_backward_is_the_feed_read_forward(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    since = "2025-01-20T00:00:00Z"
    forward: list[str] = []
    after = None
    while True:
        result = await execute(
            gateway, FEED_BOTH_WAYS, {"first": 60, "after": after, "since": since}
        )
        assert result.errors == []
        page = result.data["activity"]
        forward += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(forward) == page["totalCount"] > 60

    backward: list[str] = []
    before = None
    while True:
        result = await execute(
            gateway, FEED_BOTH_WAYS, {"last": 45, "before": before, "since": since}
        )
        assert result.errors == []
        page = result.data["activity"]
        backward = [n["id"] for n in page["nodes"]] + backward
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == forward
