"""The schema: `Query`, `Mutation` and the error extension, assembled once."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig

from resolvers.mutation import Mutation
from resolvers.query import Query
from resolvers.runtime.documents import DocumentCache
from resolvers.runtime.execution import PlainFieldExecution
from resolvers.runtime.extensions import GatewayErrors
from resolvers.runtime.guard import OperationGuard
from resolvers.types.account import AccountNode
from resolvers.types.contact import ContactNode


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, minus its error log: `GatewayErrors` logs each operation
    once, client mistakes without the document's text and server faults with the
    traceback (Strawberry logs every error, a 5 MB document included, at `error`)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


schema = GatewaySchema(
    query=Query,
    mutation=Mutation,
    types=[ContactNode, AccountNode],
    # Frontends send the same few documents again and again: parse and validate them once.
    extensions=[GatewayErrors, DocumentCache, OperationGuard],
    config=StrawberryConfig(auto_camel_case=True),
    # Large answers are mostly plain leaf fields: read them without a resolver call each.
    execution_context_class=PlainFieldExecution,
)
