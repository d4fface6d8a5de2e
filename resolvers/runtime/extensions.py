"""`GatewayErrors`: the one place where errors meet the GraphQL response.

- Provider failures recorded during execution become entries in `errors`
  with the field's `path` and `extensions {code, provider}`; the data that
  other providers gave is still returned.
- Errors the gateway raised on purpose (`GatewayError`) keep their message
  and `extensions.code`; request errors (syntax, validation, variables) get a
  code too; anything else is masked as INTERNAL_SERVER_ERROR and logged.
- One log line per operation: name, duration, provider calls, error codes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from connectors import metrics
from resolvers.runtime.context import Context
from resolvers.runtime.errors import GatewayError

logger = logging.getLogger("contact_gateway.operation")
internal_logger = logging.getLogger("contact_gateway.errors")

_INPUT_MARKERS = ("Variable '$", "Expected value of type", "does not exist in", "Expected type")


def _request_error_code(error: GraphQLError) -> str:
    message = error.message
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if any(marker in message for marker in _INPUT_MARKERS):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


class GatewayErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        with metrics.counting() as calls:
            yield
        context = self.execution_context.context
        result = self.execution_context.result
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
        errors = [self._process(e) for e in errors]
        if isinstance(context, Context):
            errors.extend(
                GraphQLError(
                    str(failure.error),
                    path=list(failure.path),
                    extensions={
                        "code": failure.error.code,
                        "provider": failure.error.provider.name,
                    },
                )
                for failure in context.failures
            )
        if result is not None:
            result.errors = errors or None
        elif errors:
            self.execution_context.pre_execution_errors = errors
        if isinstance(context, Context):
            context.loaders.release()
        self._log(started, dict(calls), errors)

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": _request_error_code(error)}
            return error
        if isinstance(original, GatewayError):
            return error
        internal_logger.error(
            "unexpected error in %s", ".".join(map(str, error.path or [])), exc_info=original
        )
        return GraphQLError(
            "Unexpected error.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )

    def _log(self, started: float, calls: dict[Any, int], errors: list[GraphQLError]) -> None:
        ec = self.execution_context
        try:
            operation = ec.operation_name or ec.operation_type.value
        except RuntimeError:  # the document did not parse
            operation = "?"

        logger.info(
            "operation=%s duration_ms=%.1f provider_calls=%s errors=%s",
            operation,
            (time.perf_counter() - started) * 1000,
            ",".join(f"{p.value}:{n}" for p, n in sorted(calls.items())) or "none",
            ",".join(sorted({str((e.extensions or {}).get("code")) for e in errors})) or "none",
        )
