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


def _planned(parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step] | None:
    """Each field's step: read directly, or the stock path; None when none is direct."""
    steps: list[_Step] = []
    fields = parent_type.fields
    for response_name, details in grouped_field_set.items():
        field_def = fields.get(details[0].node.name.value)
        plain = _plain_attribute(field_def, details) if field_def is not None else None
        if plain is None:
            steps.append((response_name, details, None, None, False))
        else:
            steps.append((response_name, details, *plain))
    return steps if any(step[2] is not None for step in steps) else None


# Plans outlive the execution that made them: documents are cached (`documents`), so
# the same selection of the same field nodes comes back with every request sending the
# document. Keyed by the parent type's name and the fields' response names and node ids;
# the nodes themselves are kept with the plan, so an id is never reused while its plan is.
_PLANS: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[_Step] | None]] = {}
MAX_PLANS = 2048


class PlainFieldExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with plain leaf fields read directly."""

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step] | None:
        # Strawberry passes a manager even when no extension wraps resolvers.
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        nodes = tuple(details[0].node for details in grouped_field_set.values())
        key = (parent_type.name, *grouped_field_set, *map(id, nodes))
        cached = _PLANS.get(key)
        if cached is not None and all(a is b for a, b in zip(cached[0], nodes, strict=True)):
            plan = cached[1]
        else:
            plan = _planned(parent_type, grouped_field_set)
            if len(_PLANS) >= MAX_PLANS:
                _PLANS.clear()
            _PLANS[key] = (nodes, plan)
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
        # A step's field details are the first request's; this request's are its own.
        for response_name, _, attribute, leaf, non_null in steps:
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
            slow[response_name] = grouped_field_set[response_name]
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
