"""Plain leaf fields read directly give exactly the stock executor's answers and errors."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers.mutation import Mutation
from resolvers.query import Query
from resolvers.runtime.context import Context
from resolvers.runtime.execution import PlainFieldExecution
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
class ToyQuery:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [
            Thing("fine", 1),  # type: ignore[list-item]
            Thing(None, 2),  # type: ignore[list-item]  # null in a non-null field
            Thing("big", 2**40),  # type: ignore[list-item]  # Int refuses it
            Thing("raises", 3, Boom("no label")),  # type: ignore[list-item]
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
