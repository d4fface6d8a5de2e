"""Finding people by key: every readable provider asked at once, through the loaders."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from graphql import FieldNode

from gateway.domain.federation import Person
from gateway.domain.keys import AccountKey, PersonKey
from gateway.store import StoreUnavailable
from resolvers.runtime.context import Context, Info, StoreFailure


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
    has nothing to batch with: its providers are asked at once (`Loaders.find`)."""
    roots = info.operation.selection_set.selections
    alone = len(roots) == 1 and isinstance(roots[0], FieldNode)
    lookup = await ctx.loaders.find(key, alone=alone)
    ctx.report(info, *lookup.failures)
    return lookup.person


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
