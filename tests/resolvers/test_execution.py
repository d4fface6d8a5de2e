"""Plain leaf fields read directly give exactly the stock executor's answers and errors."""

from __future__ import annotations

import gc
from typing import Any, cast

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers.mutation import Mutation
from resolvers.query import Query
from resolvers.runtime.context import Context
from resolvers.runtime.execution import (
    _PLANS,
    LEAF_LIST,
    OBJECT,
    OBJECT_LIST,
    PlainFieldExecution,
)
from resolvers.runtime.loaders import Loaders
from resolvers.schema import GatewaySchema, schema
from resolvers.types.account import AccountNode
from resolvers.types.contact import ContactNode
from tests.conftest import GatewayFactory

# The gateway's own schema and pipeline with Strawberry's stock executor, to compare against.
stock = GatewaySchema(
    query=Query,
    mutation=Mutation,
    types=[ContactNode, AccountNode],
    config=StrawberryConfig(auto_camel_case=True),
)

DOCUMENTS = [
    """{ contacts(first: 30) { edges { cursor node {
        id email firstName lastName name company jobTitle externalId type status points
        createdAt updatedAt providers doNotContact phones emails __typename
    } } pageInfo { hasNextPage endCursor } } }""",
    # Aliases, the same field twice, directives and fragments.
    """query($skip: Boolean!) { contacts(first: 12) { edges { node {
        mail: email email first: firstName ...Names @include(if: true)
        company @skip(if: $skip) ... on Contact { points status }
        sources { provider remoteId createdAt }
        account { id name }
    } } } }
    fragment Names on Contact { lastName name email }""",
    """{ tags { name provider kind count } providers { name enabled capabilities writableFields } }""",
    # Lists of objects read whole (`sources`), with aliases, a skipped field and a
    # field that is not plain (`account`) among them, and one inside a fragment.
    """query($skip: Boolean!) { contacts(first: 20) { edges { node {
        sources { provider id: remoteId raw createdAt updatedAt lastWrittenAt }
        more: sources { remoteId provider @skip(if: $skip) }
        ...Sourced
        phones urls emails address { city country line1 } owner { id name }
        fieldSources { field provider } conflicts { field }
        doNotContactEntries { channel reason addedAt } utmTags { campaign source }
    } } } }
    fragment Sourced on Contact { sources { provider __typename } account { name } }""",
]


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_answers_match_the_stock_executor(
    make_gateway: GatewayFactory, document: str
) -> None:
    gateway = make_gateway()
    variables = {"skip": True}
    fast = await schema.execute(document, variable_values=variables, context_value=Context(gateway))
    slow = await stock.execute(document, variable_values=variables, context_value=Context(gateway))
    assert fast.errors is None, fast.errors
    assert fast.data == slow.data
    # Key order is part of the answer: clients and snapshot tests see it.
    assert repr(fast.data) == repr(slow.data)


class Boom(Exception):
    pass


class Thing:
    def __init__(self, name: Any, count: Any, label: Any = "ok") -> None:
        self.name = name
        self.count = count
        self._label = label

    @property
    def label(self) -> Any:
        if isinstance(self._label, Exception):
            raise self._label
        return self._label


@strawberry.type
class Item:
    name: str
    count: int | None
    label: str | None


@strawberry.type
class Part:
    name: str
    count: int | None


class Box:
    def __init__(self, parts: Any, tags: Any) -> None:
        self.parts = parts
        self.tags = tags


@strawberry.type
class Crate:
    tags: list[str]
    loose: list[str | None] | None = None

    @strawberry.field
    def parts(self) -> list[Part]:
        return cast("Box", self).parts  # type: ignore[no-any-return]

    @strawberry.field
    def top(self) -> Part | None:
        parts = cast("Box", self).parts
        return parts[0] if isinstance(parts, list) else None


@strawberry.type
class ToyQuery:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [
            Thing("fine", 1),  # type: ignore[list-item]
            Thing(None, 2),  # type: ignore[list-item]  # null in a non-null field
            Thing("big", 2**40),  # type: ignore[list-item]  # Int refuses it
            Thing("raises", 3, Boom("no label")),  # type: ignore[list-item]
        ]

    @strawberry.field
    def crates(self) -> list[Crate | None]:
        fine = [Thing("a", 1), Thing("b", None)]
        return [
            Box(fine, ["x", "y"]),  # type: ignore[list-item]
            Box([Thing("a", 1), None], ["x"]),  # type: ignore[list-item]  # null part
            Box([Thing("a", 2**40)], ["x"]),  # type: ignore[list-item]  # Int refuses it
            Box(fine, ["x", None]),  # type: ignore[list-item]  # null tag
            Box(fine, ("x", "y")),  # type: ignore[list-item]  # a tuple is a list too
            Box(iter(fine), iter(["z"])),  # type: ignore[list-item]  # other iterables
            Box(fine, "xy"),  # type: ignore[list-item]  # a string is not a list
            Box(Boom("no parts"), ["x"]),  # type: ignore[list-item]  # reading fails
        ]


def toy(execution_context_class: Any) -> strawberry.Schema:
    return strawberry.Schema(query=ToyQuery, execution_context_class=execution_context_class)


async def test_null_refused_and_raising_values_give_the_stock_errors() -> None:
    document = "{ items { name count label } }"
    fast = await toy(PlainFieldExecution).execute(document)
    slow = await toy(None).execute(document)
    assert (
        fast.data
        == slow.data
        == {
            "items": [
                {"name": "fine", "count": 1, "label": "ok"},
                None,
                {"name": "big", "count": None, "label": "ok"},
                {"name": "raises", "count": 3, "label": None},
            ]
        }
    )
    assert [e.formatted for e in fast.errors or []] == [e.formatted for e in slow.errors or []]
    assert [e.path for e in fast.errors or []] == [
        ["items", 1, "name"],
        ["items", 2, "count"],
        ["items", 3, "label"],
    ]


async def test_lists_of_leaves_and_of_objects_give_the_stock_answers_and_errors() -> None:
    document = "{ crates { tags loose parts { name count } again: parts { count } top { name } } }"
    fast = await toy(PlainFieldExecution).execute(document)
    slow = await toy(None).execute(document)
    assert fast.data == slow.data
    assert repr(fast.data) == repr(slow.data)
    assert fast.data is not None
    assert fast.data["crates"][0] == {
        "tags": ["x", "y"],
        "loose": None,
        "parts": [{"name": "a", "count": 1}, {"name": "b", "count": None}],
        "again": [{"count": 1}, {"count": None}],
        "top": {"name": "a"},
    }
    assert [e.formatted for e in fast.errors or []] == [e.formatted for e in slow.errors or []]
    assert len(fast.errors or []) >= 5
    # The lists were planned to be read whole (and fell back where they had to).
    planned = {
        step[1] for key, (_, plan) in _PLANS.items() if key[0] == "Crate" for step in plan or ()
    }
    assert {LEAF_LIST, OBJECT, OBJECT_LIST} <= planned


async def test_an_unexpected_failure_of_the_pipeline_is_the_gateways_error_not_the_requests(
    make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Variables that are not a mapping cannot come through HTTP (the view refuses them
    # with a 400): from code they make graphql-core raise a TypeError before it runs.
    result = await schema.execute(
        "{ __typename }",
        variable_values=[1],  # type: ignore[arg-type]
        context_value=Context(make_gateway()),
    )

    assert result.data is None
    assert [e.extensions for e in result.errors or []] == [{"code": "INTERNAL_SERVER_ERROR"}]
    assert "unexpected error running an operation" in caplog.text


async def test_selections_that_read_variables_are_collected_anew_for_each_request(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    document = """query($skip: Boolean!, $with: Boolean!) { contacts(first: 6) { edges { node {
        email company @skip(if: $skip) sources { provider remoteId @include(if: $with) }
        ...More
    } } } }
    fragment More on Contact { lastName phones @include(if: $with) }"""
    seen = []
    for skip, with_ in [(True, False), (False, True), (True, True), (True, False)]:
        variables = {"skip": skip, "with": with_}
        fast = await schema.execute(
            document, variable_values=variables, context_value=Context(gateway)
        )
        slow = await stock.execute(
            document, variable_values=variables, context_value=Context(gateway)
        )
        assert fast.errors is None, fast.errors
        assert repr(fast.data) == repr(slow.data)
        assert fast.data is not None
        node = fast.data["contacts"]["edges"][0]["node"]
        seen.append(("company" in node, "remoteId" in node["sources"][0], "phones" in node))
    shown = [(False, False, False), (True, True, True), (False, True, True)]
    assert seen == [*shown, (False, False, False)]


async def test_a_documents_selections_are_collected_once_not_per_request(
    make_gateway: GatewayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphql.execution import executor

    collected: list[str] = []
    collect = executor.collect_subfields  # type: ignore[attr-defined]

    def counted(*args: Any, **kwargs: Any) -> Any:
        collected.append(args[4].name)
        return collect(*args, **kwargs)

    monkeypatch.setattr(executor, "collect_subfields", counted)
    gateway = make_gateway()
    plain = "{ contacts(first: 5) { edges { node { email sources { provider remoteId } } } } }"
    directed = (
        "query($s: Boolean!) { contacts(first: 5) { edges { node { email @skip(if: $s) } } } }"
    )

    async def run(document: str) -> Any:
        result = await schema.execute(
            document, variable_values={"s": False}, context_value=Context(gateway)
        )
        assert result.errors is None, result.errors
        return result.data

    first = await run(plain)
    assert "Source" in collected
    collected.clear()
    assert await run(plain) == first
    assert collected == []
    # With a directive the selection depends on the variables: collected every time.
    await run(directed)
    collected.clear()
    await run(directed)
    assert "Contact" in collected


async def test_a_contacts_fields_are_read_by_its_own_readers(make_gateway: GatewayFactory) -> None:
    document = "{ contacts(first: 3) { edges { node { email first: firstName firstName } } } }"
    result = await schema.execute(document, context_value=Context(make_gateway()))
    assert result.errors is None, result.errors
    readers = {
        step[0]: step[2]
        for key, (_, plan) in _PLANS.items()
        if key[0] == "Contact"
        for step in plan or ()
    }
    assert readers["email"] is ContactNode.plain_readers["email"]
    assert readers["first"] is readers["firstName"] is ContactNode.plain_readers["first_name"]
    node = result.data["contacts"]["edges"][0]["node"]  # type: ignore[index]
    assert node["first"] == node["firstName"]


@pytest.mark.parametrize(
    "document",
    [
        "{ contacts(first: 5) { edges { node { email sources { provider } tags { name } } } } }",
        'query { contact(email: "nobody@nowhere.test") { email } }',
        'mutation { upsertContact(input: {email: "cycle@x.test"}) { results { status } } }',
    ],
)
async def test_an_answered_operation_leaves_no_reference_cycle(
    make_gateway: GatewayFactory, document: str
) -> None:
    # Left to the cycle collector, every request's executor, context, loaders and
    # records waited for a collection: milliseconds each, every ~150 requests.
    gateway = make_gateway()
    await schema.execute(document, context_value=Context(gateway))
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = await schema.execute(document, context_value=Context(gateway))
        assert result.errors is None, result.errors
        del result
        gc.collect()
        kept = (PlainFieldExecution, Context, Loaders)
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, kept)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


@strawberry.type
class Gathering:
    @strawberry.field
    async def doubled(self, info: strawberry.Info) -> list[int]:
        async def twice(n: int) -> int:
            return 2 * n

        helpers = info._raw_info.async_helpers
        helpers.track([twice(0)])
        return cast("list[int]", await helpers.gather([twice(1), twice(2)]))


async def test_resolvers_still_gather_and_track_work_through_the_executor() -> None:
    gathering = strawberry.Schema(query=Gathering, execution_context_class=PlainFieldExecution)
    result = await gathering.execute("{ doubled }")
    assert result.errors is None, result.errors
    assert result.data == {"doubled": [2, 4]}
