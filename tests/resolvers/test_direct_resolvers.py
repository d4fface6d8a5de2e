"""Direct resolvers (`internals.use_direct_resolvers`): the same answers and errors as
Strawberry's own resolvers, on the fields where Strawberry's wrappers change nothing,
and Strawberry's resolvers kept everywhere else."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.relay import GlobalID
from strawberry.types import Info

from resolvers.runtime.internals import graphql_schema, use_direct_resolvers
from resolvers.schema import schema as gateway_schema


@strawberry.type
class Item:
    name: str

    @strawberry.field
    async def echo(self, info: Info, text: str | None = None, times: int = 1) -> str:
        return f"{self.name}:{text}:{times}:{info.path.key}:{info.field_name}"


@strawberry.input
class Filter:
    word: str


@strawberry.enum
class Color(Enum):
    RED = "red"


class Shout(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class Query:
    @strawberry.field
    async def item(self, id: strawberry.ID, label: str | None = None) -> Item | None:
        return None if id == "none" else Item(name=f"{id}/{label}")

    @strawberry.field
    def sync_item(self, some_name: str = "x", ratio: float | None = None) -> Item:
        return Item(name=f"{some_name}/{ratio}")

    @strawberry.field
    async def fails(self, why: str) -> str:
        raise ValueError(why)

    @strawberry.field
    def with_root(root: Query, info: Info, flag: bool = False) -> str:
        return f"{type(root).__name__}:{flag}:{info.field_name}"

    @strawberry.field
    async def when(self, at: datetime) -> str:
        return at.isoformat()

    @strawberry.field
    def filtered(self, filter: Filter) -> str:
        return filter.word

    @strawberry.field
    def colored(self, color: Color) -> str:
        return repr(color)

    @strawberry.field
    def decoded(self, id: GlobalID) -> str:
        return f"{id.type_name}/{id.node_id}"

    @strawberry.field
    def many(self, names: list[str]) -> str:
        return ",".join(names)

    @strawberry.field(extensions=[Shout()])  # type: ignore[untyped-decorator]
    def extended(self, word: str) -> str:
        return word


def schemas() -> tuple[strawberry.Schema, strawberry.Schema, list[str]]:
    stock = strawberry.Schema(query=Query)
    direct = strawberry.Schema(query=Query)
    return stock, direct, use_direct_resolvers(direct)


def test_only_fields_whose_wrappers_change_nothing_get_a_direct_resolver() -> None:
    _, _, changed = schemas()
    assert sorted(changed) == [
        "Item.echo",
        "Query.fails",
        "Query.item",
        "Query.syncItem",
        "Query.when",
        "Query.withRoot",
    ]


DOCUMENTS: list[tuple[str, dict[str, Any] | None]] = [
    ('{ item(id: "7", label: "a") { name echo } }', None),
    ('{ item(id: 7) { name e1: echo(text: "hi", times: 3) e2: echo(text: null) } }', None),
    ('{ item(id: "none") { name } }', None),
    ("query Q($id: ID!, $l: String) { item(id: $id, label: $l) { name } }", {"id": "9"}),
    (
        "query Q($id: ID!, $l: String) { item(id: $id, label: $l) { name } }",
        {"id": "9", "l": None},
    ),
    ('{ syncItem { name } other: syncItem(someName: "y", ratio: 1.5) { name } }', None),
    ('{ fails(why: "no luck") }', None),
    ('{ a: fails(why: "one") b: item(id: "1") { name } }', None),
    ("{ withRoot withRoot2: withRoot(flag: true) }", None),
    ('{ when(at: "2026-12-01T10:00:00+00:00") }', None),
    ('{ when(at: "not a date") }', None),
    ('{ filtered(filter: {word: "w"}) colored(color: RED) many(names: ["a", "b"]) }', None),
    ('{ decoded(id: "SXRlbToxMjM=") extended(word: "quiet") }', None),
    ("{ item { name } }", None),
]


@pytest.mark.parametrize(("document", "variables"), DOCUMENTS)
async def test_answers_and_errors_are_strawberrys(
    document: str, variables: dict[str, Any] | None
) -> None:
    stock, direct, _ = schemas()
    expected = await stock.execute(document, variable_values=variables)
    got = await direct.execute(document, variable_values=variables)

    def shown(result: Any) -> str:
        errors = [
            {"message": e.message, "path": e.path, "locations": e.locations}
            for e in result.errors or []
        ]
        return json.dumps({"data": result.data, "errors": errors}, default=str)

    assert shown(got) == shown(expected)


def test_the_gateways_root_lookups_are_direct_and_fields_with_inputs_are_not() -> None:
    built = graphql_schema(gateway_schema)

    def direct(type_name: str, field: str) -> bool:
        named = built.type_map[type_name]
        resolve = named.fields[field].resolve  # type: ignore[attr-defined]
        return "direct_resolver" in getattr(resolve, "__qualname__", "")

    assert direct("Query", "contact")
    assert direct("Query", "node")
    assert direct("Query", "account")
    assert not direct("Query", "contacts")  # filter: an input object, orderBy: an enum
    assert not direct("Query", "tags")  # provider: an enum
    assert not direct("Mutation", "upsertContact")  # input: an input object
