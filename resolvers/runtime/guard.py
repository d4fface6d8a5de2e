"""Who may run an operation, and whether it may run at all (`refusal`).

After the document has validated and before anything executes: a caller
without the `write` scope may not run a mutation, nor one without `read` a
query (`FORBIDDEN`); an operation over a limit of `[limits]` is refused
(`OPERATION_LIMIT_EXCEEDED`, see `resolvers.runtime.limits`). A refused
operation makes no provider call.
"""

from __future__ import annotations

from graphql import OperationDefinitionNode, OperationType
from strawberry.types import ExecutionContext

from resolvers.runtime import limits
from resolvers.runtime.context import Context
from resolvers.runtime.errors import GatewayError


class Forbidden(GatewayError):
    code = "FORBIDDEN"


# The scope each operation type needs.
SCOPE = {OperationType.QUERY: "read", OperationType.MUTATION: "write"}


def refusal(
    execution: ExecutionContext, ctx: Context, operation: OperationDefinitionNode
) -> GatewayError | None:
    """Why the caller may not run `operation`, the validated operation of `execution`,
    or None."""
    document = execution.graphql_document
    if document is None:
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
        execution.variables,
        runtime,
        limits=runtime.limits,
        introspection=runtime.introspection,
    )
