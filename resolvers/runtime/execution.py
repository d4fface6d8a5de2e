"""`PlainFieldExecution`: graphql-core's executor, minus its per-field cost on plain fields.

Most of an answer is fields read straight off an object: `email`, `firstName`,
`phones` on each of a thousand contacts, each contact's `sources`. For each of
them the stock executor builds a `GraphQLResolveInfo`, calls Strawberry's
resolver through two wrappers, checks twice whether the result is awaitable and
walks `complete_value` (and for a list, `complete_list_value` and a
`complete_value` per item): about 4 us a field, most of a 13,000-field answer.

Here a selection set is planned once: a field is plain when it is a Strawberry
attribute or a plain method of the object (`def sources(self)`: no arguments,
no `info`, not async, no field extensions), without arguments or middleware,
and its type is a scalar or enum, a list of them, or an object type (without
`is_type_of`) or a list of one whose own selection is all plain fields. Such a
field is read and completed directly, leaves coerced as their type coerces them
(`internals.enum_output`). Anything else (resolvers with arguments, abstract
types, deferred fragments) goes to the stock `execute_field`, and so does a
plain field as soon as its value would need an error (null in a non-null
place, a value the scalar refuses, an exception, something not a list where a
list is due): its partial result is thrown away and the stock executor reads it
again from the start, so results and errors are exactly the stock executor's.

What an object's selection collects to (graphql-core's `collect_subfields`: the
fields by response name, fragments spread) is kept across requests, with its plan,
when no selection of the operation carries a directive: it then depends on the
document alone, and documents are cached (`documents`). With a directive (@skip,
@include, @defer) it is collected per request, as the stock executor does.

The helpers graphql-core hands resolvers (`info.async_helpers`) are bound to the
executor weakly (`_weakly_bound`): bound strongly, they made every request's objects
a reference cycle, left for the cycle collector.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields
from graphql.pyutils import Path

from resolvers.runtime.internals import (
    StrawberryGraphQLCoreExecutionContext,
    enum_output,
    is_default_resolver,
    plain_method,
    strawberry_field,
)

# How a planned field is completed; STOCK: by graphql-core's own `execute_field`.
STOCK, LEAF, LEAF_LIST, OBJECT, OBJECT_LIST = 0, 1, 2, 3, 4

# (response name, kind, read (the value off the object), the leaves' output coercion or
#  the objects' type, non-null, items non-null)
_Step = tuple[str, int, Callable[[Any], Any] | None, Any, bool, bool]

# A value completed here would need an error: the stock executor completes it instead.
_REFUSED: Any = object()


def _reader(field_def: GraphQLField, field_details: Any) -> Callable[[Any], Any] | None:
    """How to read the field's value off an object, when it is plain."""
    if field_def.args or field_details[0].node.arguments:
        return None
    definition = strawberry_field(field_def)
    if definition is None:
        return None
    if is_default_resolver(field_def):
        if not definition.is_basic_field or not definition.python_name:
            return None
        if definition.default_resolver is not getattr:
            return None
        # A type may say how its fields are read faster than by attribute (`ContactNode`).
        readers = getattr(definition.origin, "plain_readers", None)
        if readers is not None and definition.python_name in readers:
            return cast("Callable[[Any], Any]", readers[definition.python_name])
        return operator.attrgetter(definition.python_name)
    return plain_method(definition)


def _step(response_name: str, field_def: GraphQLField | None, details: Any) -> _Step:
    stock: _Step = (response_name, STOCK, None, None, False, False)
    read = _reader(field_def, details) if field_def is not None else None
    if field_def is None or read is None:
        return stock
    field_type = field_def.type
    non_null = isinstance(field_type, GraphQLNonNull)
    nullable = get_nullable_type(field_type)
    if is_leaf_type(nullable):
        return (response_name, LEAF, read, enum_output(nullable), non_null, False)
    if isinstance(nullable, GraphQLObjectType) and nullable.is_type_of is None:
        return (response_name, OBJECT, read, nullable, non_null, False)
    if isinstance(nullable, GraphQLList):
        item_type = nullable.of_type
        items_non_null = isinstance(item_type, GraphQLNonNull)
        item = get_nullable_type(item_type)
        if is_leaf_type(item):
            return (response_name, LEAF_LIST, read, enum_output(item), non_null, items_non_null)
        if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
            return (response_name, OBJECT_LIST, read, item, non_null, items_non_null)
    return stock


def _planned(parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step] | None:
    """Each field's step; None when every field takes the stock path."""
    fields = parent_type.fields
    steps = [
        _step(name, fields.get(details[0].node.name.value), details)
        for name, details in grouped_field_set.items()
    ]
    return steps if any(step[1] != STOCK for step in steps) else None


def _leaf(coerce: Callable[[Any], Any], value: Any) -> Any:
    """`value` as the leaf type shows it (`coerce`: its output coercion), or `_REFUSED`."""
    try:
        coerced = coerce(value)
    except Exception:  # the stock path reports it
        return _REFUSED
    return _REFUSED if coerced is None or coerced is Undefined else coerced


# Plans outlive the execution that made them: documents are cached (`documents`), so
# the same selection of the same field nodes comes back with every request sending the
# document. Keyed by the parent type's name and the fields' response names and node ids.
# Every cache here keeps the objects whose ids make its keys: while an entry lives, no
# other object can have those ids, so a hit needs no second comparison.
_PLANS: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[_Step] | None]] = {}
MAX_PLANS = 2048


# What an object's selection collects to, for operations whose selections carry no
# directive: then it depends on the document alone (no @skip/@include/@defer to read
# variables for), so it is collected once, not once per request. Keyed by the type, the
# operation node and the field nodes' ids, which are kept with it (see `_PLANS`).
_COLLECTED: dict[tuple[Any, ...], tuple[tuple[Any, ...], CollectedFields]] = {}
# The plans of those collected selections, by the id of their (kept) grouped field set.
_GROUP_PLANS: dict[int, tuple[Any, list[_Step] | None]] = {}
_UNPLANNED: Any = object()
# Operation nodes (kept, by id) whose selections, fragments included, carry no directive.
_UNDIRECTED: dict[int, tuple[OperationDefinitionNode, bool]] = {}


def _undirected(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> bool:
    """Whether no selection of `operation`, nor of a fragment it may spread, has a
    directive or fragment variables."""
    definitions = [details.definition for details in fragments.values()]
    if any(details.variable_signatures for details in fragments.values()) or any(
        definition.directives for definition in definitions
    ):
        return False
    pending: list[SelectionSetNode] = [operation.selection_set]
    pending += [definition.selection_set for definition in definitions]
    while pending:
        for selection in pending.pop().selections:
            if selection.directives:
                return False
            if isinstance(selection, FieldNode | InlineFragmentNode):
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif not isinstance(selection, FragmentSpreadNode):
                return False
    return True


class PlainFieldExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with plain fields read and completed directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _weakly_bound(self)

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any:
        # The execution's own memo first: a list of a thousand objects asks a thousand times.
        memo = self._relevant_sub_fields.get((return_type, id(field_details_list)))
        if memo is not None:
            return memo[1]
        operation = self.operation
        known = _UNDIRECTED.get(id(operation))
        if known is None:
            if len(_UNDIRECTED) >= MAX_PLANS:
                _UNDIRECTED.clear()
            known = _UNDIRECTED[id(operation)] = (operation, _undirected(operation, self.fragments))
        if not known[1]:
            return super().collect_subfields(return_type, field_details_list)
        nodes = [details.node for details in field_details_list]
        key = (id(operation), id(return_type), *map(id, nodes))
        cached = _COLLECTED.get(key)
        if cached is not None:
            collected = cached[1]
        else:
            collected = super().collect_subfields(return_type, field_details_list)
            if len(_COLLECTED) >= MAX_PLANS:
                _COLLECTED.clear()
                _GROUP_PLANS.clear()
            _COLLECTED[key] = ((operation, return_type, nodes), collected)
            grouped = collected.grouped_field_set
            _GROUP_PLANS[id(grouped)] = (grouped, _UNPLANNED)
        self._relevant_sub_fields[(return_type, id(field_details_list))] = (
            field_details_list,
            collected,
        )
        return collected

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step] | None:
        # Strawberry passes a manager even when no extension wraps resolvers.
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        lasting = _GROUP_PLANS.get(id(grouped_field_set))
        if lasting is None:
            return self._plan_by_nodes(parent_type, grouped_field_set)
        plan = lasting[1]
        if plan is _UNPLANNED:
            plan = self._plan_by_nodes(parent_type, grouped_field_set)
            _GROUP_PLANS[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _plan_by_nodes(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any
    ) -> list[_Step] | None:
        nodes = tuple(details[0].node for details in grouped_field_set.values())
        key = (parent_type.name, *grouped_field_set, *map(id, nodes))
        cached = _PLANS.get(key)
        if cached is not None:
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
        for step in steps:
            response_name = step[0]
            if step[1] != STOCK:
                value = self._completed(step, source_value, grouped_field_set, position_context)
                if value is not _REFUSED:
                    results[response_name] = value
                    continue
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

    def _completed(
        self, step: _Step, source: Any, grouped_field_set: Any, position_context: Any
    ) -> Any:
        """A plain field's completed value, or `_REFUSED` for the stock path to give it."""
        response_name, kind, read, of_type, non_null, items_non_null = step
        assert read is not None
        try:
            value = read(source)
        except Exception:  # the stock path reports it
            return _REFUSED
        if value is None:
            return _REFUSED if non_null else None
        if kind == LEAF:
            return _leaf(of_type, value)
        if kind != OBJECT and not isinstance(value, list | tuple):
            return _REFUSED  # another iterable, or none: the stock path decides
        if kind == LEAF_LIST:
            return _each(value, items_non_null, lambda item: _leaf(of_type, item))
        # An object, or a list of them: each one's selection must be all plain fields.
        if position_context is not None:
            return _REFUSED  # deferred fragments are delivered by the stock path
        details = grouped_field_set[response_name]
        sub_fields, new_defer_usages, _ = self.collect_subfields(of_type, details)
        if new_defer_usages:
            return _REFUSED
        sub_steps = self._plan(of_type, sub_fields)
        if sub_steps is None or any(sub[1] == STOCK for sub in sub_steps):
            return _REFUSED
        if kind == OBJECT:
            return self._object(value, sub_steps, sub_fields)
        return _each(value, items_non_null, lambda item: self._object(item, sub_steps, sub_fields))

    def _object(self, source: Any, steps: list[_Step], grouped_field_set: Any) -> Any:
        """An object whose selection is all plain fields, or `_REFUSED`."""
        completed: dict[str, Any] = {}
        for step in steps:
            value = self._completed(step, source, grouped_field_set, None)
            if value is _REFUSED:
                return _REFUSED
            completed[step[0]] = value
        return completed


def _weakly_bound(executor: PlainFieldExecution) -> GraphQLResolveInfoHelpers:
    """The helpers graphql-core gives resolvers (`info.async_helpers`), bound to the
    executor weakly.

    graphql-core binds them as the executor's own methods, so every executor, and all
    it reaches (the request's context, loaders, records, the HTTP request), is a
    reference cycle that only the cycle collector frees: under load one collection
    of ~4 ms every ~150 requests, 3-4% of the CPU, and each request's objects kept
    until then. Only the execution calls them, while the executor is alive.
    """
    ref = weakref.ref(executor)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return _alive(ref).gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        _alive(ref).track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


def _alive(ref: weakref.ref[PlainFieldExecution]) -> PlainFieldExecution:
    executor = ref()
    if executor is None:
        raise RuntimeError("the operation's execution has finished")
    return executor


def _each(items: Any, non_null: bool, completed: Callable[[Any], Any]) -> Any:
    """A list's items completed, or `_REFUSED` as soon as one would need an error."""
    done: list[Any] = []
    for item in items:
        if item is None:
            if non_null:
                return _REFUSED
            done.append(None)
            continue
        value = completed(item)
        if value is _REFUSED:
            return _REFUSED
        done.append(value)
    return done


def _merge(results: dict[str, Any], slow: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """Fill the placeholders with the stock results; drop those it left out (skipped)."""
    for response_name in slow:
        if response_name in rest:
            results[response_name] = rest[response_name]
        else:
            del results[response_name]
    return results
