"""The Strawberry and graphql-core internals `resolvers/runtime/internals.py` reads.

Each test names the internal and what breaks without it, so an upgrade that moves
one fails here, with that message, before it fails anywhere else.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLEnumType, GraphQLObjectType
from strawberry.types import Info

from gateway.domain.records import Provider
from resolvers.runtime import internals
from resolvers.schema import schema


def field(type_name: str, name: str) -> Any:
    gql_type = internals.graphql_schema(schema).type_map[type_name]
    assert isinstance(gql_type, GraphQLObjectType)
    return gql_type.fields[name]


def test_the_execution_context_class_is_still_strawberrys_to_subclass() -> None:
    assert issubclass(internals.StrawberryGraphQLCoreExecutionContext, object), (
        "strawberry.schema.schema.StrawberryGraphQLCoreExecutionContext moved: "
        "PlainFieldExecution (resolvers/runtime/execution.py) subclasses it"
    )
    assert hasattr(internals.StrawberryGraphQLCoreExecutionContext, "execute_fields"), (
        "graphql-core's ExecutionContext.execute_fields is gone: PlainFieldExecution overrides it"
    )


def test_plain_fields_are_recognised_through_strawberrys_markers() -> None:
    email = field("Contact", "email")
    assert internals.is_default_resolver(email), (
        "Strawberry no longer marks its default resolver with `_is_default`: "
        "every leaf would take the slow path (resolvers/runtime/execution.py)"
    )
    definition = internals.strawberry_field(email)
    assert definition is not None, (
        "GraphQLCoreConverter.DEFINITION_BACKREF no longer leads back to the StrawberryField"
    )
    assert definition.python_name == "email"
    assert definition.is_basic_field
    assert not internals.is_default_resolver(field("Contact", "sources"))


def test_a_plain_method_is_found_behind_its_field() -> None:
    sources = internals.strawberry_field(field("Contact", "sources"))
    assert sources is not None
    method = internals.plain_method(sources)
    assert method is not None, (
        "StrawberryResolver's wrapped_func, self_parameter or arguments changed: fields "
        "such as Contact.sources would take the slow path (resolvers/runtime/execution.py)"
    )
    assert method.__name__ == "sources"
    # A resolver with arguments or info is not plain.
    for name in ("activity", "tags"):
        definition = internals.strawberry_field(field("Contact", name))
        assert definition is not None
        assert internals.plain_method(definition) is None, name


def test_what_a_direct_resolver_reads_is_where_strawberry_keeps_it() -> None:
    converter = schema.schema_converter
    assert callable(getattr(converter, "_get_field_exception_handlers", None)), (
        "GraphQLCoreConverter._get_field_exception_handlers moved: direct resolvers "
        "cannot tell a field whose exceptions Strawberry turns into results"
    )
    for scalar in (str, strawberry.ID):
        assert scalar in converter.scalar_registry, (
            "GraphQLCoreConverter.scalar_registry changed: direct resolvers cannot tell "
            "scalar arguments (left as they are) from others (converted)"
        )
    definition = internals.strawberry_field(field("Query", "contact"))
    assert definition is not None
    assert definition.base_resolver is not None
    assert definition.base_resolver.info_parameter is not None
    assert schema.config.info_class is Info
    names = {schema.config.name_converter.from_argument(a) for a in definition.arguments}
    assert names == {"id", "email"}


def test_an_enums_output_is_the_name_strawberrys_scan_finds() -> None:
    gql_type = internals.graphql_schema(schema).type_map["Provider"]
    assert isinstance(gql_type, GraphQLEnumType)
    output = internals.enum_output(gql_type)
    assert output is not gql_type.coerce_output_value, (
        "Strawberry's enum type no longer keeps the Python enum as `wrapped_cls`"
    )
    for provider in Provider:
        assert output(provider) == gql_type.coerce_output_value(provider) == provider.name
    assert output("adaptix") == gql_type.coerce_output_value("adaptix")


async def test_the_documents_fragments_are_reachable_from_info() -> None:
    seen: dict[str, Any] = {}

    @strawberry.type
    class Query:
        @strawberry.field
        def probe(self, info: Info[Any, Any]) -> int:
            seen.update(internals.document_fragments(info))
            return 1

    probe = strawberry.Schema(query=Query)
    result = await probe.execute("query { ...F } fragment F on Query { probe }")
    assert result.errors is None, (
        "Strawberry's Info no longer keeps graphql-core's info as `_raw_info`: "
        "brief listings (resolvers/services/listing.py) cannot see the fragments"
    )
    assert list(seen) == ["F"]


def test_a_domain_enums_values_are_described_and_keep_their_python_values() -> None:
    provider = internals.graphql_schema(schema).type_map["Provider"]
    assert isinstance(provider, GraphQLEnumType)
    assert all(value.description for value in provider.values.values()), (
        "Strawberry no longer builds an enum's values from `__strawberry_definition__.values`: "
        "describe_enum_values (resolvers/runtime/internals.py) describes nothing"
    )
    assert {name: value.value for name, value in provider.values.items()} == {
        member.name: member.value for member in Provider
    }
    assert Provider("adaptix") is Provider.ADAPTIX


def test_every_value_of_a_domain_enum_needs_a_description() -> None:
    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(TypeError, match="not a Strawberry enum"):
        internals.describe_enum_values(Colour, {Colour.RED: "Red.", Colour.BLUE: "Blue."})
    strawberry.enum(Colour)
    with pytest.raises(ValueError, match="no description for BLUE"):
        internals.describe_enum_values(Colour, {Colour.RED: "Red."})


async def test_a_batch_loader_closes_its_batch_when_aiodataloader_does() -> None:
    # BatchLoader replaces aiodataloader's two-task dispatch with its own scheduling:
    # keys asked for over the next turns of the event loop must fall into the same
    # batches as with the library's own DataLoader.
    from aiodataloader import DataLoader

    async def batches_of(loader_class: type[DataLoader[int, int]]) -> list[list[int]]:
        seen: list[list[int]] = []

        async def load(keys: list[int]) -> list[int]:
            seen.append(list(keys))
            return keys

        loader = loader_class(load)

        async def ask(key: int, turns: int) -> int:
            for _ in range(turns):
                await asyncio.sleep(0)
            return await loader.load(key)

        answers = await asyncio.gather(*(ask(key, turns) for key, turns in enumerate(range(6))))
        assert answers == list(range(6))
        return seen

    assert await batches_of(internals.BatchLoader) == await batches_of(DataLoader), (
        "aiodataloader changed when a batch is dispatched: BatchLoader "
        "(resolvers/runtime/internals.py) must schedule its batches the same way"
    )
