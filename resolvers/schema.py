"""The schema: `Query`, `Mutation` and the error extension, assembled once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from resolvers.mutation import Mutation
from resolvers.query import Query
from resolvers.runtime import pipeline
from resolvers.runtime.context import Context
from resolvers.runtime.execution import PlainFieldExecution
from resolvers.runtime.internals import use_direct_resolvers
from resolvers.types.account import AccountNode
from resolvers.types.contact import ContactNode


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, its operations run by `resolvers.runtime.pipeline`.

    Strawberry's error log is left out: the pipeline logs each operation once, client
    mistakes without the document's text and server faults with the traceback
    (Strawberry logs every error, a 5 MB document included, at `error`).
    """

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if not isinstance(context_value, Context):  # not a request of the gateway's
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        return await pipeline.run(
            self,
            query,
            context_value,
            variables=variable_values,
            root_value=root_value,
            operation_name=operation_name,
            allowed=allowed_operation_types,
            operation_extensions=operation_extensions,
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


schema = GatewaySchema(
    query=Query,
    mutation=Mutation,
    types=[ContactNode, AccountNode],
    config=StrawberryConfig(auto_camel_case=True),
    # Large answers are mostly plain leaf fields: read them without a resolver call each.
    execution_context_class=PlainFieldExecution,
)
# Resolver functions with scalar arguments (`contact(email:)`), called without Strawberry's
# argument conversion and wrappers where those would change nothing.
use_direct_resolvers(schema)
