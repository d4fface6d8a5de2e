"""Parse and validate each distinct document once per process.

Frontends send the same few documents again and again. The first time a
document parses and validates, its parsed tree is kept (bounded, least recently
used first out) under its text; later requests with the same text skip both
steps. A document that does not parse or does not validate is never marked
good: it is parsed and validated again, so its errors are reported, coded,
exactly as without the cache (Strawberry's own ParserCache raises a syntax
error past the code that codes it). `resolvers.runtime.pipeline` uses it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    validate,
)

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


def cached(text: str | None) -> DocumentNode | None:
    """The parsed tree kept for `text`, or None."""
    entry = _entry(text)
    return entry.document if entry is not None else None


def keep(text: str, document: DocumentNode) -> None:
    """Keep `document` as `text`'s parsed tree (not yet known to validate)."""
    if len(text) <= MAX_TEXT:
        _ENTRIES[text] = _Entry(document)
        while len(_ENTRIES) > MAXSIZE:
            _ENTRIES.popitem(last=False)


def validated(
    schema: GraphQLSchema, text: str | None, document: DocumentNode
) -> list[GraphQLError]:
    """`document`'s validation errors: none at once for a kept document that passed before;
    a document that validates is marked so."""
    entry = _ENTRIES.get(text) if text else None
    if entry is not None and entry.document is not document:
        entry = None
    if entry is not None and entry.valid:
        return []
    errors = validate(schema, document)
    if entry is not None and not errors:
        entry.valid = True
    return errors


def clear() -> None:
    """Forget every document (tests)."""
    _ENTRIES.clear()


N = TypeVar("N")
T = TypeVar("T")


class PerNode(Generic[N, T]):
    """What is worked out once from a node of a kept document (an operation), for as
    long as the node lives: kept by the node's id, with the node itself, so an id is
    never reused while its value is. At most `maxsize` nodes; then it starts again."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self._found: dict[int, tuple[N, T]] = {}

    def get(self, node: N) -> T | None:
        found = self._found.get(id(node))
        return found[1] if found is not None and found[0] is node else None

    def keep(self, node: N, value: T) -> T:
        if len(self._found) >= self.maxsize:
            self._found.clear()
        self._found[id(node)] = (node, value)
        return value


def fields_of(
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments spread in (each once per path)."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from fields_of(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from fields_of(fragment.selection_set, fragments, seen | {name})
