"""A listing, and a root lookup alone in its document, ask Adaptix for its `minimal` records when
the operation needs nothing they leave out (tags, do-not-contact entries, UTM tags, raw records),
and the answer is the same either way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.registry import build_connector
from gateway.domain.federation import Precedence
from gateway.domain.records import Provider
from resolvers.runtime.context import Runtime
from sandbox.app import Sandbox
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute
from tests.support import SANDBOX_URL, sandbox_settings


class Recording(httpx.AsyncBaseTransport):
    """Forwards to the in-process sandbox and keeps every request's URL."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.inner = httpx.ASGITransport(app=sandbox.app)
        self.urls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return await self.inner.handle_async_request(request)

    def adaptix_listings(self) -> list[httpx.URL]:
        """Adaptix reads of contacts by position (not by email, id or search)."""
        return [
            u
            for u in self.urls
            if u.path == "/adaptix/api/contacts"
            and not any(k.startswith("where") or k == "search" for k in u.params)
        ]


@pytest.fixture
async def recorded(sandbox: Sandbox) -> AsyncIterator[tuple[Runtime, Recording]]:
    transport = Recording(sandbox)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as client:
        connectors = {p: build_connector(p, client, sandbox_settings(p)) for p in Provider}
        yield Runtime(connectors=connectors, precedence=Precedence()), transport


FIELDS = "id email firstName lastName name company jobTitle points createdAt updatedAt"
# What a minimal record lacks, each as a selection (the last in a fragment, `More`).
LACKING = [
    "tags { name }",
    "doNotContact",
    "doNotContactEntries { reason }",
    "utmTags { id }",
    "sources { provider raw }",
    "...More",
]


async def test_a_listing_without_tags_reads_minimal_records(
    recorded: tuple[Runtime, Recording],
) -> None:
    gateway, transport = recorded
    result = await execute(
        gateway, f"{{ contacts(first: 40) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
    )
    assert result.errors == []
    [listing] = transport.adaptix_listings()
    assert listing.params.get("minimal") == "true"


@pytest.mark.parametrize("extra", LACKING)
async def test_a_field_a_minimal_record_lacks_anywhere_in_the_document_reads_full_records(
    recorded: tuple[Runtime, Recording], extra: str
) -> None:
    gateway, transport = recorded
    brief = await execute(
        gateway, f"{{ contacts(first: 40) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
    )
    transport.urls.clear()
    # The field may sit in another root field or a fragment: the listing's records
    # also answer lookups elsewhere in the same operation.
    full = await execute(
        gateway,
        f"""{{
          contacts(first: 40) {{ edges {{ node {{ {FIELDS} }} }} }}
          other: contact(email: "nobody@example.test") {{ email {extra} }}
        }}"""
        + ("fragment More on Contact { tags { name } }" if "More" in extra else ""),
    )
    assert full.errors == []
    [listing] = transport.adaptix_listings()
    assert "minimal" not in listing.params
    assert full.data["contacts"] == brief.data["contacts"]


async def test_tags_and_do_not_contact_are_complete_when_asked(
    sandbox: Sandbox, recorded: tuple[Runtime, Recording]
) -> None:
    gateway, _ = recorded
    result = await execute(
        gateway, "{ contacts(first: 200) { edges { node { email tags { name } doNotContact } } } }"
    )
    assert result.errors == []
    assert sandbox.data is not None
    tagged = {
        p.records["adaptix"].email.lower(): list(p.tags)
        for p in sandbox.data.in_provider("adaptix")
        if p.tags
    }
    nodes = result.data["contacts"]["edges"]
    with_tags = [n["node"] for n in nodes if n["node"]["email"].lower() in tagged]
    assert with_tags, "the seed's first 200 contacts include tagged people"
    for node in with_tags:
        assert [t["name"] for t in node["tags"]] == tagged[node["email"].lower()]
    assert any(n["node"]["doNotContact"] for n in nodes)


# -- a root lookup alone in its document ----------------------------------------------------

ADA = "ada.lovelace.0@stark.test"


def adaptix_lookups(transport: Recording) -> list[httpx.URL]:
    return [
        u
        for u in transport.urls
        if u.path == "/adaptix/api/contacts" and "where[0][col]" in u.params
    ]


@pytest.mark.parametrize("beside", ["", "__typename "], ids=["alone", "beside-another-field"])
async def test_a_lookup_reads_a_minimal_record_when_nothing_needs_more(
    recorded: tuple[Runtime, Recording], beside: str
) -> None:
    gateway, transport = recorded
    lookup = f'{{ {beside}contact(email: "{ADA}") {{ {FIELDS} sources {{ provider remoteId }} }} }}'
    brief = await execute(gateway, lookup)
    [asked] = adaptix_lookups(transport)
    assert asked.params.get("minimal") == "true"
    transport.urls.clear()
    # The same person read whole (the document asks for tags too): the same answer.
    full = await execute(gateway, lookup.replace("sources {", "tags { name } sources {"))
    [asked] = adaptix_lookups(transport)
    assert "minimal" not in asked.params
    assert brief.errors == full.errors == []
    assert full.data is not None
    assert full.data["contact"].pop("tags")
    assert full.data == brief.data


async def test_a_preview_of_an_upsert_reads_full_records(
    recorded: tuple[Runtime, Recording],
) -> None:
    # Its plan compares the input with what each provider holds, tags included.
    gateway, transport = recorded
    preview = f'{{ previewUpsert(input: {{email: "{ADA}", firstName: "Ada"}}) {{ __typename }} }}'
    result = await execute(gateway, preview)
    assert result.errors == []
    lookups = adaptix_lookups(transport)
    assert lookups
    assert all("minimal" not in u.params for u in lookups)


@pytest.mark.parametrize("extra", LACKING)
async def test_the_only_root_lookup_reads_full_records_for_a_field_minimal_ones_lack(
    recorded: tuple[Runtime, Recording], extra: str
) -> None:
    gateway, transport = recorded
    more = "fragment More on Contact { tags { name } }" if "More" in extra else ""
    result = await execute(gateway, f'{{ contact(email: "{ADA}") {{ email {extra} }} }}' + more)
    assert result.errors == []
    [asked] = adaptix_lookups(transport)
    assert "minimal" not in asked.params


async def test_with_a_record_cache_a_lookup_reads_full_records_for_later_requests(
    make_gateway: GatewayFactory,
) -> None:
    # A minimal record kept by the cache would answer a later request for tags wrongly.
    gateway = make_gateway(cache_ttl=300)
    first = await execute(gateway, f'{{ contact(email: "{ADA}") {{ email }} }}')
    later = await execute(gateway, f'{{ contact(email: "{ADA}") {{ tags {{ name }} }} }}')
    fresh = await execute(make_gateway(), f'{{ contact(email: "{ADA}") {{ tags {{ name }} }} }}')
    assert first.errors == later.errors == fresh.errors == []
    assert later.data == fresh.data
    assert later.data is not None
    assert later.data["contact"]["tags"]
