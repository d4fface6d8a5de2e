"""The Strawberry and graphql-core internals `resolvers/runtime/internals.py` reads.

Each test names the internal and what breaks without it, so an upgrade that moves
one fails here, with that message, before it fails anywhere else.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLObjectType
from strawberry.types import Info

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
