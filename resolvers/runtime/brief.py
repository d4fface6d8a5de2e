"""Whether an operation can do with brief provider records.

Adaptix answers a listing or a lookup with its whole record, or, asked for
`minimal`, without tags, do-not-contact entries, UTM tags and its grouped fields
(every core field is still there): about a quarter of the bytes. An operation
may read brief records when nothing it selects, anywhere in the document, is
one of what they leave out (`FULL_RECORD_FIELDS`): the records one field reads
answer the other fields' lookups of the same person. Lookups ask more: a query
(a write plans against what the providers hold), no `filter` argument (a filter
may match on a tag), and no `previewUpsert` (its plan compares the input with
what each provider holds). The pipeline decides both once per operation of a
kept document (`decided`) and gives them to the request's loaders.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from resolvers.runtime.documents import PerNode, fields_of

# Fields whose values a brief provider record leaves out (see `Lister.list_contacts`).
FULL_RECORD_FIELDS = frozenset({"tags", "doNotContact", "doNotContactEntries", "utmTags", "raw"})
# Fields that read provider records for more than they show.
NEEDS_FULL_RECORDS = frozenset({"previewUpsert"})


def _selected(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """Every field the operation selects, at any depth, fragments spread in."""
    stack: list[SelectionSetNode] = [operation.selection_set]
    while stack:
        for field in fields_of(stack.pop(), fragments):
            yield field
            if field.selection_set is not None:
                stack.append(field.selection_set)


@dataclass(frozen=True, slots=True)
class Brief:
    """What may read brief records in one operation.

    Attributes:
        listings: listing pages (nothing selected is one of `FULL_RECORD_FIELDS`).
        lookups: lookups by email (also a query, filtering nothing, previewing no write).
    """

    listings: bool = False
    lookups: bool = False


NONE = Brief()
_DECIDED: PerNode[OperationDefinitionNode, Brief] = PerNode()


def decided(document: DocumentNode, operation: OperationDefinitionNode) -> Brief:
    """`Brief` for `operation` of `document`, worked out once per operation."""
    known = _DECIDED.get(operation)
    if known is not None:
        return known
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    listings = lookups = True
    for field in _selected(operation, fragments):
        name = field.name.value
        if name in FULL_RECORD_FIELDS:
            listings = lookups = False
            break
        if name in NEEDS_FULL_RECORDS or any(
            a.name.value == "filter" for a in field.arguments or ()
        ):
            lookups = False
    lookups = lookups and operation.operation is OperationType.QUERY
    return _DECIDED.keep(operation, Brief(listings, lookups))
