"""`operation_scope` and `settle`: what each operation runs in, and the one place where
its errors meet the GraphQL response (`resolvers.runtime.pipeline` calls both).

- Provider failures recorded during execution become entries in `errors`
  with the field's `path` and `extensions {code, provider}`; the data that
  other providers gave is still returned.
- Errors the gateway raised on purpose (`GatewayError`) keep their message
  and `extensions.code`; `BadUserInputs` becomes one error per problem, all
  with the field's `path`; request errors (syntax, validation, variables) get a
  code too; anything else is masked as INTERNAL_SERVER_ERROR and logged.
- One log line per operation: name, duration, provider calls, error codes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError
from opentelemetry.trace import Tracer
from strawberry.types import ExecutionContext

from connectors import budget
from connectors.errors import CallBudgetExceeded, OperationTimeout
from gateway.telemetry import metrics
from gateway.telemetry.requests import answering
from resolvers.runtime import documents, memory
from resolvers.runtime.context import Context, Failure
from resolvers.runtime.errors import BadUserInputs, GatewayError

logger = logging.getLogger("contact_gateway.operation")
internal_logger = logging.getLogger("contact_gateway.errors")

# Codes that mean the request was at fault, not the gateway or a provider.
CLIENT_ERRORS = frozenset(
    {
        "BAD_USER_INPUT",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "FORBIDDEN",
        "NOT_FOUND",
        "OPERATION_LIMIT_EXCEEDED",
    }
)
# A document this long, or one refused for a limit, leaves enough garbage behind that
# it is collected at once and the freed memory handed back (resolvers/runtime/memory.py).
LARGE_DOCUMENT = 50_000
LIMIT_CODE = "OPERATION_LIMIT_EXCEEDED"
_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_INPUT_MARKERS = ("Variable '$", "Expected value of type", "does not exist in", "Expected type")
_TOO_MANY_TOKENS = "tokens. Parsing aborted."


def _request_error_extensions(error: GraphQLError) -> dict[str, Any]:
    """The code of an error graphql-core raised before execution: the document or
    its variables are at fault, never the server."""
    message = error.message
    if message.endswith(_TOO_MANY_TOKENS):
        return {"code": "OPERATION_LIMIT_EXCEEDED", "limit": "max_tokens"}
    if message.startswith("Syntax Error"):
        return {"code": "GRAPHQL_PARSE_FAILED"}
    if any(marker in message for marker in _INPUT_MARKERS):
        return {"code": "BAD_USER_INPUT"}
    return {"code": "GRAPHQL_VALIDATION_FAILED"}


def _provider_extensions(error: Failure) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code}
    if error.provider is not None:
        extensions["provider"] = error.provider.name
    if isinstance(error, CallBudgetExceeded):
        extensions["limit"] = "max_provider_calls"
    elif isinstance(error, OperationTimeout):
        extensions["limit"] = "timeout"
    return extensions


@contextlib.contextmanager
def _operation_span(tracer: Tracer | None, ec: Any) -> Iterator[None]:
    """One span for the operation (with traces on), its provider calls' spans inside."""
    if tracer is None:
        yield
        return
    with tracer.start_as_current_span("graphql.operation") as span:
        yield
        try:
            kind = ec.operation_type.value
        except RuntimeError:
            kind = "unknown"
        name = _NAME.sub("_", ec.operation_name or "")[:64]
        span.update_name(f"graphql {kind} {name}".rstrip())
        span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name)


@contextlib.contextmanager
def operation_scope(ec: ExecutionContext) -> Iterator[budget.OperationBudget]:
    """What one operation runs inside: its span (with traces on) and its budget of
    provider calls and time, counted by the connectors (the estimate of
    `resolvers.runtime.limits` can be low; this cannot be overrun)."""
    context = ec.context
    max_calls = deadline = None
    tracer = None
    if isinstance(context, Context):
        limits = context.runtime.limits
        max_calls = limits.max_provider_calls
        deadline = time.monotonic() + limits.timeout
        tracer = context.runtime.tracer
    with (
        _operation_span(tracer, ec),
        budget.operation(max_calls=max_calls, deadline=deadline) as spent,
    ):
        yield spent


def settle(ec: ExecutionContext, result: Any, started: float, calls: Mapping[Any, int]) -> None:
    """After an operation: its errors coded (provider failures added, anything
    unexpected masked and logged), its loaders released, its log line written (or left
    for the access line of the request that ran it, `gateway.telemetry.requests`)."""
    context = ec.context
    errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
    errors = [processed for e in errors for processed in _process(e)]
    if isinstance(context, Context):
        errors.extend(
            GraphQLError(
                str(failure.error),
                path=list(failure.path),
                extensions=_provider_extensions(failure.error),
            )
            for failure in context.failures
        )
    if result is not None:
        result.errors = errors or None
    elif errors:
        ec.pre_execution_errors = errors
    if isinstance(context, Context):
        context.loaders.release()
    _log(ec, started, dict(calls), errors)
    codes = {(e.extensions or {}).get("code") for e in errors}
    if len(ec.query or "") > LARGE_DOCUMENT or LIMIT_CODE in codes:
        memory.relieve()


def _process(error: GraphQLError) -> list[GraphQLError]:
    original = error.original_error
    if isinstance(original, BadUserInputs):
        return [
            GraphQLError(
                problem.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=problem,
                extensions=problem.extensions,
            )
            for problem in original.errors()
        ]
    return [_one(error)]


def _one(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    # A value the schema cannot coerce (a variable of the wrong type, an Int literal
    # past Python's digit limit) carries the coercion's exception, but it is the
    # request's fault, not the server's: such errors come before execution (no path).
    coercion = isinstance(original, ValueError | TypeError | OverflowError | GraphQLError)
    if original is None or (error.path is None and coercion):
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), **_request_error_extensions(error)}
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


def _document_hash(text: str) -> str:
    """How the log names a document: its SHA-256, 12 hex digits; kept for the documents
    the document cache would keep (the same few come again and again)."""
    if len(text) > documents.MAX_TEXT:
        return _sha256(text)
    return _kept_sha256(text)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


_kept_sha256 = functools.lru_cache(maxsize=documents.MAXSIZE)(_sha256)


_LINE = (
    "operation=%s document=%s caller=%s duration_ms=%.1f provider_calls=%s write_legs=%s errors=%s"
)


def _log(
    ec: ExecutionContext, started: float, calls: dict[Any, int], errors: list[GraphQLError]
) -> None:
    try:
        kind = ec.operation_type.value
    except RuntimeError:  # the document did not parse
        kind = "unknown"
    operation = ec.operation_name or (kind if kind != "unknown" else "?")
    context = ec.context
    principal = context.principal if isinstance(context, Context) else None
    codes = sorted({str((e.extensions or {}).get("code")) for e in errors})
    legs = context.write_legs if isinstance(context, Context) else {}
    # A write leg that failed or waits for another try is an error of the operation,
    # though the response has no `errors` for it (its payload says what happened).
    codes += [f"WRITE_{status.upper()}" for status in ("failed", "queued") if legs.get(status)]
    # A client's mistake is worth a warning, never the document or the variables
    # (they may be megabytes, and hold emails): the document is named by its hash.
    refused = set(codes) & CLIENT_ERRORS
    level = logging.WARNING if refused else logging.INFO
    seconds = time.perf_counter() - started
    outcome = "refused" if refused else "failed" if codes else "ok"
    metrics.operation(ec.operation_name, kind, outcome, seconds)
    for error in errors:
        extensions = error.extensions or {}
        if extensions.get("code") == LIMIT_CODE and extensions.get("limit"):
            metrics.LIMIT_REJECTIONS.labels(str(extensions["limit"])).inc()
    args = (
        _NAME.sub("_", operation)[:64] or "?",
        _document_hash(ec.query or ""),
        _NAME.sub("_", principal.name)[:64] if principal else "-",
        seconds * 1000,
        ",".join(f"{p.value}:{n}" for p, n in sorted(calls.items())) or "none",
        ",".join(f"{status}:{n}" for status, n in sorted(legs.items())) or "none",
        ",".join(codes) or "none",
    )
    request = answering()
    if request is not None and request.operation is None and not request.logged:
        # The request's access line carries it: one line a request (`gateway.logs`).
        request.operation = (level, _LINE, args)
    else:
        logger.log(level, _LINE, *args)
