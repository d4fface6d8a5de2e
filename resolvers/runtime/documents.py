"""`DocumentCache`: parse and validate each distinct document once per process.

Frontends send the same few documents again and again. The first time a
document parses and validates, its parsed tree is kept (bounded, least recently
used first out) under its text; later requests with the same text skip both
steps. A document that does not parse or does not validate is never marked
good: Strawberry parses and validates it again, so its errors are reported,
coded, exactly as without the cache (Strawberry's own ParserCache raises a
syntax error past the extensions that code it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, validate
from strawberry.extensions import SchemaExtension

from resolvers.runtime.context import Context
from resolvers.runtime.internals import graphql_schema

# Documents kept per process, and the longest text kept: a flood of distinct or
# huge documents cannot grow the cache past MAXSIZE documents of MAX_TEXT characters.
MAXSIZE = 256
MAX_TEXT = 20_000


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    valid: bool = False


_ENTRIES: OrderedDict[str, _Entry] = OrderedDict()


def _entry(text: str | None) -> _Entry | None:
    entry = _ENTRIES.get(text) if text else None
    if entry is not None:
        _ENTRIES.move_to_end(text)  # type: ignore[arg-type]
    return entry


class DocumentCache(SchemaExtension):
    """Skip parsing and validating a document this process has seen pass both."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        usable = bool(text) and context.graphql_document is None
        entry = _entry(text) if usable else None
        if entry is not None:
            context.graphql_document = entry.document
        elif usable and isinstance(context.context, Context):
            # A document longer than the limit is refused while it is read, not after.
            max_tokens = context.context.runtime.limits.max_tokens
            context.parse_options = {**context.parse_options, "max_tokens": max_tokens}
        yield
        if usable and entry is None and context.graphql_document is not None:
            assert text is not None
            if len(text) <= MAX_TEXT:
                _ENTRIES[text] = _Entry(context.graphql_document)
                while len(_ENTRIES) > MAXSIZE:
                    _ENTRIES.popitem(last=False)

    def on_validate(self) -> Iterator[None]:
        # Validation is done here, before the other extensions' validation hooks, so
        # that `OperationGuard` checks a valid document and may still refuse it:
        # Strawberry looks at the errors before any hook's code after its `yield` runs.
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            entry = _ENTRIES.get(context.query) if context.query else None
            if entry is not None and entry.document is not document:
                entry = None
            if entry is not None and entry.valid:
                context.pre_execution_errors = []
            else:
                schema = graphql_schema(context.schema)
                errors = validate(schema, document, context.validation_rules)
                context.pre_execution_errors = errors
                if entry is not None and not errors:
                    entry.valid = True
        yield


def clear() -> None:
    """Forget every document (tests)."""
    _ENTRIES.clear()
