"""What every operation of the gateway's schema goes through, in one pass.

    parse (documents kept) -> operation type -> validate (documents kept)
      -> who may run it, and its limits (`guard`)
      -> what may read brief provider records (`brief`) -> execute
      -> errors coded, loaders released, one log line (`extensions.settle`)

Strawberry's `Schema.execute` runs the same steps through its extension hooks,
building a context manager per stage and per extension, and wrapping each hook
anew, on every request: a fifth of the CPU of an operation that reads nothing.
`GatewaySchema.execute` runs them here as plain calls, with Strawberry's own
results: the same `ExecutionResult`, the same exceptions for a request with no
document or the wrong kind of operation (the HTTP view answers those), and a
syntax, validation or limit error as a result with no data.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, get_operation_ast, parse
from graphql.execution import execute
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from resolvers.runtime import brief, documents, guard
from resolvers.runtime.context import Context
from resolvers.runtime.extensions import internal_logger, operation_scope, settle
from resolvers.runtime.internals import graphql_schema, is_awaitable

if TYPE_CHECKING:
    from strawberry import Schema

INTERNAL = "INTERNAL_SERVER_ERROR"
# The operations a request may run when its transport does not say (Strawberry's default).
ALL_OPERATIONS = frozenset(OperationType)


async def run(
    schema: Schema,
    query: str | None,
    context: Context,
    *,
    variables: dict[str, Any] | None = None,
    root_value: Any = None,
    operation_name: str | None = None,
    allowed: Iterable[OperationType] | None = None,
    operation_extensions: dict[str, Any] | None = None,
) -> ExecutionResult:
    """Run one operation (see the module's docstring).

    Raises:
        MissingQueryError: there is no document.
        CannotGetOperationTypeError: the document has no operation by that name.
        InvalidOperationTypeError: the operation's kind is not in `allowed`.
    """
    ec = ExecutionContext(
        query=query,
        schema=schema,
        allowed_operations=ALL_OPERATIONS if allowed is None else allowed,
        context=context,
        root_value=root_value,
        variables=variables,
        provided_operation_name=operation_name,
        operation_extensions=operation_extensions,
    )
    started = time.perf_counter()
    with operation_scope(ec) as spent:
        try:
            result = await _steps(schema, ec, context)
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError):
            context.loaders.release()
            raise
        except GraphQLError as error:
            result = _refused(ec, [error])
        except Exception as exc:
            # The gateway's fault, never the request's: a TypeError here must not be coded
            # as a bad document, as one raised while coercing a variable would be.
            internal_logger.error("unexpected error running an operation", exc_info=exc)
            unexpected = GraphQLError("Unexpected error.", extensions={"code": INTERNAL})
            result = _refused(ec, [unexpected])
    settle(ec, result, started, spent.calls)
    return result


async def _steps(schema: Schema, ec: ExecutionContext, context: Context) -> ExecutionResult:
    text = ec.query
    if not text:
        raise MissingQueryError
    document = documents.cached(text)
    if document is None:
        try:
            # A document longer than the limit is refused while it is read, not after.
            document = parse(text, max_tokens=context.runtime.limits.max_tokens)
        except GraphQLError as error:
            return _refused(ec, [error])
        documents.keep(text, document)
    ec.graphql_document = document
    try:
        operation_type = ec.operation_type
    except RuntimeError as error:
        raise CannotGetOperationTypeError(ec.operation_name) from error
    if operation_type not in ec.allowed_operations:
        raise InvalidOperationTypeError(operation_type)
    errors = documents.validated(graphql_schema(schema), text, document)
    if errors:
        return _refused(ec, errors)
    operation = get_operation_ast(document, ec.operation_name)
    if operation is not None:
        refusal = guard.refusal(ec, context, operation)
        if refusal is not None:
            return _refused(ec, [GraphQLError(refusal.message, extensions=refusal.extensions)])
        context.loaders.brief = brief.decided(document, operation)
    answer = await await_maybe(
        execute(
            graphql_schema(schema),
            document,
            root_value=ec.root_value,
            variable_values=ec.variables,
            operation_name=ec.operation_name,
            context_value=context,
            is_awaitable=is_awaitable,
            executor_class=schema.execution_context_class,
            operation_extensions=ec.operation_extensions,
        )
    )
    if answer.errors:
        ec.pre_execution_errors = answer.errors
    result = ExecutionResult(data=answer.data, errors=answer.errors)
    ec.result = result
    return result


def _refused(ec: ExecutionContext, errors: list[GraphQLError]) -> ExecutionResult:
    """The result of an operation that did not run: its errors, no data."""
    ec.pre_execution_errors = errors
    result = ExecutionResult(data=None, errors=errors)
    ec.result = result
    return result
