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

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

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
        usable = bool(text) and not context.parse_options and context.graphql_document is None
        entry = _entry(text) if usable else None
        if entry is not None:
            context.graphql_document = entry.document
        yield
        if usable and entry is None and context.graphql_document is not None:
            assert text is not None
            if len(text) <= MAX_TEXT:
                _ENTRIES[text] = _Entry(context.graphql_document)
                while len(_ENTRIES) > MAXSIZE:
                    _ENTRIES.popitem(last=False)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = _ENTRIES.get(context.query) if context.query else None
        if entry is not None and entry.document is not context.graphql_document:
            entry = None
        if entry is not None and entry.valid and context.pre_execution_errors is None:
            context.pre_execution_errors = []  # Strawberry validates only when this is None
        yield
        if entry is not None and context.pre_execution_errors == []:
            entry.valid = True


def clear() -> None:
    """Forget every document (tests)."""
    _ENTRIES.clear()
