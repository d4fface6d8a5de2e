"""`PlainFieldExecution`: graphql-core's executor, minus its per-field cost on plain leaves.

Most of a large answer is leaf fields read straight off an object: `email`,
`firstName`, `createdAt` on each of a thousand contacts. For each of them the
stock executor builds a `GraphQLResolveInfo`, calls Strawberry's default
resolver through two wrappers, checks twice whether the result is awaitable and
walks `complete_value`: about 4 µs a field, most of a 13,000-field answer.

Here a selection set is planned once per execution: a field that is a plain
Strawberry attribute (no resolver, no arguments, no field extensions, no
middleware) with a scalar or enum type is read with `getattr` and coerced with
its type's own `coerce_output_value`. Anything else (resolvers, objects, lists,
arguments) and any value that would need an error (null in a non-null field,
a value the scalar refuses, an exception) goes to the stock `execute_field`,
so results and errors are exactly the stock executor's.
"""

from __future__ import annotations

from typing import Any, cast

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from graphql.pyutils import Path

from resolvers.runtime.internals import (
    StrawberryGraphQLCoreExecutionContext,
    is_default_resolver,
    strawberry_field,
)

# (response name, field details, attribute name or None for the stock path,
#  leaf type, non-null)
_Step = tuple[str, Any, str | None, GraphQLLeafType | None, bool]


def _plain_attribute(field_def: GraphQLField, field_details: Any) -> tuple[str, Any, bool] | None:
    """(attribute, leaf type, non-null) when the field can be read directly, else None."""
    if not is_default_resolver(field_def):
        return None
    if field_def.args or field_details[0].node.arguments:
        return None
    definition = strawberry_field(field_def)
    if definition is None or not definition.is_basic_field:
        return None
    if definition.default_resolver is not getattr or not definition.python_name:
        return None
    field_type = field_def.type
    non_null = isinstance(field_type, GraphQLNonNull)
    leaf = get_nullable_type(field_type)
    if not is_leaf_type(leaf):
        return None
    return definition.python_name, leaf, non_null


class PlainFieldExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with plain leaf fields read directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(grouped field set) -> (the set, kept alive so its id stays unique; the plan)
        self._plans: dict[int, tuple[Any, list[_Step] | None]] = {}

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step] | None:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        steps: list[_Step] = []
        # Strawberry passes a manager even when no extension wraps resolvers.
        manager = self.middleware_manager
        if manager is None or not manager.middlewares:
            fields = parent_type.fields
            for response_name, details in grouped_field_set.items():
                field_def = fields.get(details[0].node.name.value)
                plain = _plain_attribute(field_def, details) if field_def is not None else None
                if plain is None:
                    steps.append((response_name, details, None, None, False))
                else:
                    steps.append((response_name, details, *plain))
        plan = steps if any(step[2] is not None for step in steps) else None
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        steps = self._plan(parent_type, grouped_field_set)
        if steps is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        slow: dict[str, Any] = {}
        for response_name, details, attribute, leaf, non_null in steps:
            if attribute is not None and leaf is not None:
                try:
                    value = getattr(source_value, attribute)
                    if value is None:
                        if not non_null:
                            results[response_name] = None
                            continue
                    else:
                        coerced = leaf.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            results[response_name] = coerced
                            continue
                except Exception:  # the stock path below reports it
                    pass
            # Keep the response's key order: a placeholder now, the stock result below.
            results[response_name] = None
            slow[response_name] = details
        if not slow:
            return results
        # The stock executor for the rest, one object's worth at a time.
        rest = super().execute_fields(parent_type, source_value, path, slow, position_context)
        if self.is_awaitable(rest):

            async def merged() -> dict[str, Any]:
                return _merge(results, slow, await rest)

            return merged()
        return _merge(results, slow, cast("dict[str, Any]", rest))


def _merge(results: dict[str, Any], slow: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """Fill the placeholders with the stock results; drop those it left out (skipped)."""
    for response_name in slow:
        if response_name in rest:
            results[response_name] = rest[response_name]
        else:
            del results[response_name]
    return results
