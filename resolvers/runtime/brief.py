"""Whether an operation can do with brief provider records.

Adaptix answers a listing or a lookup with its whole record, or, asked for
`minimal`, without tags, do-not-contact entries, UTM tags and its grouped fields
(every core field is still there): about a quarter of the bytes. An operation
may read brief records when nothing it selects, anywhere in the document, is
one of what they leave out (`FULL_RECORD_FIELDS`): the records one field reads
answer the other fields' lookups of the same person. Lookups ask more: a query
(a write plans against what the providers hold), no `filter` argument (a filter
may match on a tag), and no `previewUpsert` (its plan compares the input with
what each provider holds). Both are decided per operation of a kept document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

# Fields whose values a brief provider record leaves out (see `Lister.list_contacts`).
FULL_RECORD_FIELDS = frozenset({"tags", "doNotContact", "doNotContactEntries", "utmTags", "raw"})
# Fields that read provider records for more than they show.
NEEDS_FULL_RECORDS = frozenset({"previewUpsert"})


def selected(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """Every field the operation selects, at any depth, fragments spread in (each once)."""
    seen: set[str] = set()
    stack: list[SelectionSetNode] = [operation.selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
                if selection.selection_set is not None:
                    stack.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)


def records_suffice(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> bool:
    """Whether the operation selects nothing a brief record leaves out (listings)."""
    return _decided(operation, fragments)[0]


def lookups_suffice(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> bool:
    """Whether the operation's lookups by email may read brief records."""
    return _decided(operation, fragments)[1]


# Per operation node of a kept document (`documents`), with the node kept so that its
# id is not reused meanwhile.
_DECIDED: dict[int, tuple[OperationDefinitionNode, tuple[bool, bool]]] = {}
MAX_DECIDED = 2048


def _decided(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[bool, bool]:
    known = _DECIDED.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    records = lookups = True
    for field in selected(operation, fragments):
        name = field.name.value
        if name in FULL_RECORD_FIELDS:
            records = lookups = False
            break
        if name in NEEDS_FULL_RECORDS or any(
            a.name.value == "filter" for a in field.arguments or ()
        ):
            lookups = False
    decided = (records, lookups and operation.operation is OperationType.QUERY)
    if len(_DECIDED) >= MAX_DECIDED:
        _DECIDED.clear()
    _DECIDED[id(operation)] = (operation, decided)
    return decided
