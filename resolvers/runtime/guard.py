"""`OperationGuard`: who may run an operation, and whether it may run at all.

After the document has validated and before anything executes: a caller
without the `write` scope may not run a mutation, nor one without `read` a
query (`FORBIDDEN`); an operation over a limit of `[limits]` is refused
(`OPERATION_LIMIT_EXCEEDED`, see `resolvers.runtime.limits`). A refused
operation makes no provider call.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension

from resolvers.runtime import limits
from resolvers.runtime.context import Context
from resolvers.runtime.errors import GatewayError


class Forbidden(GatewayError):
    code = "FORBIDDEN"


# The scope each operation type needs.
SCOPE = {OperationType.QUERY: "read", OperationType.MUTATION: "write"}


class OperationGuard(SchemaExtension):
    """Refuses, after validation and before execution, what the caller may not run.

    Runs after `DocumentCache`, which validates the document in its own hook: a
    refusal must be in place before Strawberry decides whether to execute.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors == [] and isinstance(context.context, Context):
            refusal = self._refusal(context.context)
            if refusal is not None:
                context.pre_execution_errors = [
                    GraphQLError(refusal.message, extensions=refusal.extensions)
                ]
        yield

    def _refusal(self, ctx: Context) -> GatewayError | None:
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return None
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:
            return None
        principal = ctx.principal
        needed = SCOPE.get(operation.operation)
        if principal is not None and needed is not None and needed not in principal.scopes:
            kind = "mutations" if needed == "write" else "queries"
            return Forbidden(
                f"the key {principal.name!r} has no {needed!r} scope: it may not run {kind}"
            )
        runtime = ctx.runtime
        return limits.check(
            document,
            operation,
            context.variables,
            runtime,
            limits=runtime.limits,
            introspection=runtime.introspection,
        )
