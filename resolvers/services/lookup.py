"""Finding people by key: every readable provider asked at once, through the loaders."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.federation import Person
from gateway.domain.keys import PersonKey
from resolvers.runtime.context import Context, Info


async def find_person(ctx: Context, info: Info, key: PersonKey) -> Person | None:
    """The person behind `key`, None when no provider has them; provider failures are
    reported against the field being resolved."""
    lookup = await ctx.loaders.people.load(key)
    ctx.report(info, *lookup.failures)
    return lookup.person


async def complete(ctx: Context, info: Info, keys: Sequence[PersonKey]) -> list[Person | None]:
    """The person behind each key (None if no provider has them), with every readable record."""
    lookups = await ctx.loaders.people.load_many(list(keys))
    for lookup in lookups:
        ctx.report(info, *lookup.failures)
    return [lookup.person for lookup in lookups]
