"""Every use of Strawberry's, graphql-core's and aiodataloader's non-public API, in one
place.

The gateway reads a few internals for speed (`resolvers.runtime.execution`)
and for one question Strawberry's `Info` cannot answer (which fragments the
document defines). Each is named here once; `tests/resolvers/test_internals.py`
fails with a clear message when an upgrade moves one. The dependency ranges in
`pyproject.toml` are the versions this module was tested with.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum, EnumMeta
from typing import Any, TypeGuard, TypeVar, cast

from aiodataloader import DataLoader, dispatch_queue
from aiodataloader import Loader as _Queued
from graphql import (
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLSchema,
)
from strawberry import Schema
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.relay.types import GlobalID
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

__all__ = [
    "BatchLoader",
    "StrawberryGraphQLCoreExecutionContext",
    "describe_enum_values",
    "direct_resolver",
    "document_fragments",
    "enum_output",
    "graphql_schema",
    "is_awaitable",
    "is_default_resolver",
    "plain_method",
    "strawberry_field",
    "use_direct_resolvers",
]


K = TypeVar("K")
V = TypeVar("V")


class BatchLoader(DataLoader[K, V]):
    """aiodataloader's `DataLoader`, its batch dispatched with one task instead of two.

    On a batch's first key, aiodataloader schedules a task whose only work is to start
    another task for the batch (the private `enqueue_post_future_job`). Here two turns
    of the event loop pass first, exactly as there (so a batch closes at the same
    moment and takes the same keys), then the library's own `dispatch_queue` starts
    the batch's one task.
    """

    def do_resolve_reject(self, key: K, future: Any) -> None:
        self._queue.append(_Queued(key=key, future=future))
        if len(self._queue) == 1:
            if self.batch:
                self.loop.call_soon(self.loop.call_soon, dispatch_queue, self)
            else:
                dispatch_queue(self)


# Strawberry's test for awaitable results, faster than graphql-core's default (what its
# `Schema.execute` hands graphql-core; `resolvers.runtime.pipeline` does the same).
is_awaitable = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)


def document_fragments(info: Info[Any, Any]) -> dict[str, FragmentDefinitionNode]:
    """The fragments the operation's document defines (graphql-core's `info.fragments`,
    which Strawberry's `Info` keeps as the private `_raw_info`)."""
    fragments: dict[str, FragmentDefinitionNode] = info._raw_info.fragments
    return fragments


def is_default_resolver(field: GraphQLField) -> bool:
    """Whether graphql-core calls Strawberry's default attribute resolver for `field`
    (Strawberry marks it with the private `_is_default`)."""
    return field.resolve is not None and bool(getattr(field.resolve, "_is_default", False))


def strawberry_field(field: GraphQLField) -> StrawberryField | None:
    """The Strawberry field a graphql-core field was converted from."""
    found = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return found if isinstance(found, StrawberryField) else None


def plain_method(definition: StrawberryField) -> Callable[[Any], Any] | None:
    """The function behind a field whose resolver is a plain method, called with the
    object alone (`def sources(self) -> list[Source]`), as Strawberry calls it: no
    arguments, no `info` or `root`, not async, no field extensions. None otherwise."""
    resolver = definition.base_resolver
    if resolver is None or definition.extensions or resolver.is_async:
        return None
    if resolver.arguments or resolver.self_parameter is None:
        return None
    if resolver.info_parameter or resolver.root_parameter or resolver.parent_parameter:
        return None
    function = resolver.wrapped_func
    if isinstance(function, staticmethod | classmethod) or not inspect.isfunction(function):
        return None
    return cast("Callable[[Any], Any]", function)


def direct_resolver(schema: Schema, field: GraphQLField) -> Callable[..., Any] | None:
    """A resolver for `field` that calls its function as Strawberry's would, without
    Strawberry's wrappers, when nothing they do applies; None otherwise.

    Strawberry's resolver builds the `Info`, converts every argument (walking its
    type: optional, list, enum, input object, scalar), runs the field extensions and
    exception handlers through a chain of closures and awaits the result again:
    about 25 us per call of a root field such as `contact(email:)`. For a field with a
    resolver function (Strawberry's own `StrawberryField` and `StrawberryResolver`),
    without extensions, permission classes or exception handlers, whose arguments are
    all scalars (optional or not; not `GlobalID`, which Strawberry decodes), that
    conversion leaves each value as it is: here the arguments are renamed to the
    function's parameters, `self`, `root`/`parent` and `info` are passed as Strawberry
    passes them, and the function's result (awaitable or not) goes to graphql-core.
    """
    definition = strawberry_field(field)
    if definition is None or definition.is_subscription or definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None or getattr(definition, "permission_classes", None):
        return None
    if type(definition).get_result is not StrawberryField.get_result:
        return None
    if type(resolver).__call__ is not StrawberryResolver.__call__:
        return None
    converter = schema.schema_converter
    if converter._get_field_exception_handlers(definition):
        return None
    function = resolver.wrapped_func
    if isinstance(function, staticmethod | classmethod) or not callable(function):
        return None
    names: dict[str, str] = {}  # GraphQL name -> parameter name
    for argument in definition.arguments:
        kind = argument.type
        if isinstance(kind, StrawberryMaybe):
            return None
        if isinstance(kind, StrawberryOptional):
            kind = kind.of_type
        try:
            scalar = kind in converter.scalar_registry
        except TypeError:  # an unhashable type annotation: not a scalar
            scalar = False
        if not scalar or kind is GlobalID or not argument.python_name:
            return None
        names[schema.config.name_converter.from_argument(argument)] = argument.python_name
    info_class = schema.config.info_class
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    sources = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p]
    with_self = resolver.self_parameter is not None

    def resolve(source: Any, info: Any, **values: Any) -> Any:
        arguments = {python: values[name] for name, python in names.items() if name in values}
        for name in sources:
            arguments[name] = source
        if info_name is not None:
            arguments[info_name] = info_class(_raw_info=info, _field=definition)
        return function(source, **arguments) if with_self else function(**arguments)

    return resolve


def use_direct_resolvers(schema: Schema) -> list[str]:
    """Give every field `direct_resolver` accepts that resolver; their coordinates."""
    changed = []
    for named in graphql_schema(schema).type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for name, field in named.fields.items():
                direct = direct_resolver(schema, field)
                if direct is not None:
                    field.resolve = direct
                    changed.append(f"{named.name}.{name}")
    return changed


def enum_output(leaf: GraphQLLeafType) -> Callable[[Any], Any]:
    """`leaf.coerce_output_value`, with a Strawberry enum's members looked up in a dict.

    Strawberry's enum type (`CustomGraphQLEnumType`, which keeps the Python enum as
    `wrapped_cls`) finds a member's name by comparing its value with every value of
    the type, reading the member's `.value` each time; the names here are the ones
    that scan finds, and anything not a member goes to the type as before.
    """
    coerce = leaf.coerce_output_value
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return coerce
    names: dict[Any, str] = {}
    member: Enum
    for member in wrapped:
        for name, value in leaf.values.items():
            if member.value == value.value:
                names[member] = name
                break

    def output(value: Any) -> Any:
        if isinstance(value, wrapped) and (name := names.get(value)) is not None:
            return name
        return coerce(value)

    return output


def graphql_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (kept as the private `_schema`)."""
    built: GraphQLSchema = schema._schema
    return built


def describe_enum_values(enum: type[Enum], descriptions: Mapping[Any, str]) -> None:
    """Give each value of an enum made with `strawberry.enum(cls)` its description.

    `strawberry.enum_value(...)` describes a value only where the enum is declared, and
    the domain's enums (`Provider`, `Capability`) know nothing of GraphQL; it also makes
    a member's `.value` an `EnumValueDefinition` to the type checker, where code reads
    it as text. The members' Python values stay as they are: this replaces the
    descriptions in the definition Strawberry keeps as `__strawberry_definition__` (its
    `values`).

    Raises:
        TypeError: `enum` was not made a GraphQL enum.
        ValueError: a member has no description.
    """
    definition = getattr(enum, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryEnumDefinition):
        raise TypeError(f"{enum.__name__} is not a Strawberry enum")
    missing = [m.name for m in enum if not descriptions.get(m)]
    if missing:
        raise ValueError(f"{enum.__name__}: no description for {', '.join(missing)}")
    definition.values = [
        dataclasses.replace(value, description=descriptions[enum(value.value)])
        for value in definition.values
    ]
