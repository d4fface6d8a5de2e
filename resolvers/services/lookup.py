"""Finding people by key: every readable provider asked at once, through the loaders."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from gateway.domain.federation import Person
from gateway.domain.keys import AccountKey, PersonKey
from gateway.store import StoreUnavailable
from resolvers.runtime.context import Context, Info, StoreFailure
from resolvers.runtime.internals import document_fragments

# Fields whose values a brief provider record leaves out (see `Lister.list_contacts`).
FULL_RECORD_FIELDS = frozenset({"tags", "doNotContact", "doNotContactEntries", "utmTags", "raw"})


async def find_person(ctx: Context, info: Info, key: PersonKey) -> Person | None:
    """The person behind `key`, None when no provider has them; provider failures are
    reported against the field being resolved."""
    lookup = await ctx.loaders.people.load(key)
    ctx.report(info, *lookup.failures)
    return lookup.person


async def find_at_root(ctx: Context, info: Info, key: PersonKey) -> Person | None:
    """`find_person` for a root field (`contact`): looked up at once, not through the
    people loader. A root field asks for one person, so the loader's batch holds one key
    and costs two tasks; the providers' loaders below still batch what several root
    fields of one document ask for in the same tick. The document's only root field
    has nothing to batch with: its providers are asked at once (`Loaders.find`), for
    brief records where the operation needs no more (`brief_lookup_suffices`) and no
    record cache keeps what is read."""
    roots = info.operation.selection_set.selections
    alone = len(roots) == 1 and isinstance(roots[0], FieldNode)
    brief = alone and ctx.runtime.cache is None and brief_lookup_suffices(info)
    lookup = await ctx.loaders.find(key, alone=alone, brief=brief)
    ctx.report(info, *lookup.failures)
    return lookup.person


def _selected(info: Info) -> Iterator[FieldNode]:
    """Every field the operation selects, at any depth, fragments spread in (each once)."""
    fragments = document_fragments(info)
    seen: set[str] = set()
    stack: list[SelectionSetNode] = [info.operation.selection_set]
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


def brief_records_suffice(info: Info) -> bool:
    """Whether the operation asks for nothing a brief provider record leaves out.

    Decided for the whole document, not one field: the records a listing reads
    answer later lookups in the same operation too.
    """
    return not any(field.name.value in FULL_RECORD_FIELDS for field in _selected(info))


# Per operation node of a kept document (`documents`), with the node kept so that its
# id is not reused meanwhile.
_BRIEF: dict[int, tuple[OperationDefinitionNode, bool]] = {}
MAX_BRIEF = 2048


def brief_lookup_suffices(info: Info) -> bool:
    """`brief_records_suffice` for a query whose fields filter nothing (a filter may
    match on what a brief record leaves out, such as a tag); worked out once per
    operation of a kept document."""
    operation = info.operation
    known = _BRIEF.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    brief = operation.operation is OperationType.QUERY and not any(
        field.name.value in FULL_RECORD_FIELDS
        or any(argument.name.value == "filter" for argument in field.arguments or ())
        for field in _selected(info)
    )
    if len(_BRIEF) >= MAX_BRIEF:
        _BRIEF.clear()
    _BRIEF[id(operation)] = (operation, brief)
    return brief


async def complete(ctx: Context, info: Info, keys: Sequence[PersonKey]) -> list[Person | None]:
    """The person behind each key (None if no provider has them), with every readable record."""
    lookups = await ctx.loaders.people.load_many(list(keys))
    for lookup in lookups:
        ctx.report(info, *lookup.failures)
    return [lookup.person for lookup in lookups]


def _token_id(type_name: str, token: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{token}".encode()).decode().rstrip("=")


async def account_id(info: Info, key: AccountKey) -> str:
    """An account's global id: the store's opaque id; without a store (or while it does
    not answer, which is reported) the key's own."""
    identities = info.context.runtime.identities
    if identities is not None:
        try:
            return _token_id("Account", "a:" + await identities.account_id(key))
        except StoreUnavailable as exc:
            info.context.report(info, StoreFailure(f"the identity store did not answer: {exc}"))
    return _token_id("Account", key.token)


async def account_key(ctx: Context, token: str) -> AccountKey | None:
    """The account a global id's token names: a store id (`a:<id>`) or a key's own."""
    if token.startswith("a:"):
        identities = ctx.runtime.identities
        return await identities.account_key(token[2:]) if identities is not None else None
    return AccountKey.parse(token)
