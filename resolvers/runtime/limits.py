"""What one operation may cost, checked before it runs.

`check` walks the operation once, after validation and before execution, and
refuses it with `OPERATION_LIMIT_EXCEEDED` (`extensions.limit` names the limit)
when it is nested too deep, has too many aliases or root fields, carries a
string argument or variable longer than allowed, or would make more provider
calls than allowed. The estimate follows what the services do: one lookup per
person in every readable provider (batched where the provider reads many keys
a call), a listing's pages, two Adaptix calls per contact's activity (one per
kind asked for, and one more for notes read past `until`), two pages of the
global activity feed and a lookup of each item's contact, one call for a
provider's field list, one Adaptix call per contact's segments and one per
contact's companies, one write per provider and input. It is an estimate: during
execution the connectors count every call against the same budget
(`connectors.budget`) and stop at it.

Introspection fields are exempt from the depth limit while introspection is on;
with it off, an operation that asks for `__schema` or `__type` is refused.

What does not depend on the variables (the shape, the string literals, and the
estimate when no argument it reads is a variable) is worked out once per
operation of a kept document and runtime, not on every request sending it.
"""

from __future__ import annotations

import math
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

from connectors.protocol import BatchReader, BatchWriter, Lister
from gateway.domain.records import ActivityKind, Provider
from resolvers.runtime.cursors import (
    DEFAULT_ACTIVITY_PAGE,
    DEFAULT_PAGE,
    MAX_ACTIVITY_PAGE,
    MAX_PAGE,
    MAX_SORTED_LISTING,
)
from resolvers.runtime.documents import PerNode, fields_of
from resolvers.runtime.errors import BadUserInput, GatewayError

if TYPE_CHECKING:
    from resolvers.runtime.context import Runtime

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
# Contacts a Trustmary page holds (docs/providers/trustmary.md).
LIST_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Limits:
    """`[limits]`: what one request may cost. The defaults let every README example
    and a frontend's `contacts(first: 100)` with sources, tags and account through.

    Args:
        max_body_bytes: the largest request body (HTTP 413 past it).
        max_tokens: lexical tokens in one document.
        max_depth: nested selections (introspection is exempt while it is on).
        max_aliases: aliased fields in one operation.
        max_root_fields: fields at the operation's top level.
        max_provider_calls: provider calls one operation may make, estimated before
            execution and counted during it.
        max_argument_length: characters in one string argument or variable value.
        timeout: seconds one operation may take; then outstanding provider calls
            are cancelled and the answer is partial.
    """

    max_body_bytes: int = 1_000_000
    max_tokens: int = 5_000
    max_depth: int = 15
    max_aliases: int = 30
    max_root_fields: int = 20
    max_provider_calls: int = 1_000
    max_argument_length: int = 2_000
    timeout: float = 30.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


class IntrospectionDisabled(GatewayError):
    """`[server] introspection = false` and the operation asks for the schema."""

    code = "GRAPHQL_VALIDATION_FAILED"


class LimitExceeded(GatewayError):
    """The operation asks for more than `[limits]` allows; nothing was run."""

    code = "OPERATION_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, limit: str, **extensions: Any) -> None:
        super().__init__(message, limit=limit, **extensions)


def check(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    runtime: Runtime,
    *,
    limits: Limits,
    introspection: bool,
) -> GatewayError | None:
    """The first limit `operation` exceeds, or None when it may run."""
    variables = variables or {}
    known = _known(document, operation, runtime)
    if known.introspection and not introspection:
        return IntrospectionDisabled("introspection is switched off on this gateway")
    if known.roots > limits.max_root_fields:
        return LimitExceeded(
            f"the operation has {known.roots} root fields; at most {limits.max_root_fields}",
            limit="max_root_fields",
        )
    if known.aliases > limits.max_aliases:
        return LimitExceeded(
            f"the operation has {known.aliases} aliases; at most {limits.max_aliases}",
            limit="max_aliases",
        )
    if known.depth > limits.max_depth:
        return LimitExceeded(
            f"the operation nests {known.depth} levels deep; at most {limits.max_depth}",
            limit="max_depth",
        )
    longest = max(known.longest_literal, max(_variable_lengths(variables), default=0))
    if longest > limits.max_argument_length:
        # Bad input rather than a costly request: no provider takes such a value.
        return BadUserInput(
            f"an argument is {longest} characters long; at most {limits.max_argument_length}",
            limit="max_argument_length",
        )
    calls = known.calls
    if calls is None:
        calls = estimate(operation, known.fragments, variables, runtime)
    total = sum(calls.values())
    if total > limits.max_provider_calls:
        return LimitExceeded(
            f"the operation would make about {total} provider calls; "
            f"at most {limits.max_provider_calls}",
            limit="max_provider_calls",
            estimatedProviderCalls={p.name: n for p, n in sorted(calls.items()) if n},
        )
    return None


@dataclass(frozen=True, slots=True)
class _Known:
    """What `check` reads of one operation of a document whatever its variables are:
    its shape, its longest string literal, and its estimate when that reads no
    variable (a page size given as a variable is read anew each time)."""

    fragments: Mapping[str, FragmentDefinitionNode]
    roots: int
    aliases: int
    depth: int
    introspection: bool
    longest_literal: int
    calls: Counter[Provider] | None


# Per runtime (its providers make the estimate), per operation node: documents are
# cached (`documents`), so the same operation comes back with every request sending it.
_KNOWN: weakref.WeakKeyDictionary[Runtime, PerNode[OperationDefinitionNode, _Known]]
_KNOWN = weakref.WeakKeyDictionary()


def _known(document: DocumentNode, operation: OperationDefinitionNode, runtime: Runtime) -> _Known:
    per_runtime = _KNOWN.get(runtime)
    if per_runtime is None:
        per_runtime = _KNOWN[runtime] = PerNode()
    found = per_runtime.get(operation)
    if found is not None:
        return found
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(fragments)
    walk.shape(operation.selection_set)
    cost = _Cost(fragments, {}, runtime)
    cost.selections(operation.selection_set, 1, root=operation.operation)
    return per_runtime.keep(
        operation,
        _Known(
            fragments=fragments,
            roots=walk.roots,
            aliases=walk.aliases,
            depth=walk.depth,
            introspection=walk.asks_introspection,
            longest_literal=max(_literal_lengths(operation), default=0),
            calls=None if cost.read_variables else cost.calls,
        ),
    )


# -- shape: depth, aliases, root fields -----------------------------------------------


class _Walk:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.depth = 0
        self.aliases = 0
        self.roots = 0
        self.asks_introspection = False

    def fields(self, selections: SelectionSetNode, seen: frozenset[str]) -> Iterator[FieldNode]:
        return fields_of(selections, self.fragments, seen)

    def shape(self, root: SelectionSetNode) -> None:
        stack: list[tuple[SelectionSetNode, int, frozenset[str]]] = [(root, 1, frozenset())]
        while stack:
            selections, level, seen = stack.pop()
            for node in self.fields(selections, seen):
                name = node.name.value
                if level == 1:
                    self.roots += 1
                if node.alias is not None:
                    self.aliases += 1
                if name in INTROSPECTION_ROOTS:
                    # Refused by `check` while introspection is off; exempt from the
                    # depth limit while it is on.
                    self.asks_introspection = True
                    continue
                self.depth = max(self.depth, level)
                if node.selection_set is not None:
                    stack.append((node.selection_set, level + 1, seen))


def _variable_lengths(variables: Mapping[str, Any]) -> Iterator[int]:
    """The length of every string in the variables, keys of objects included."""
    pending: list[Any] = [dict(variables)]  # a loop: JSON variables nest up to 1024 deep
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield len(item)
        elif isinstance(item, Mapping):
            yield from (len(str(key)) for key in item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


def _literal_lengths(operation: OperationDefinitionNode) -> Iterator[int]:
    """The length of every string literal in the operation's arguments."""

    def literals(node: ValueNode) -> Iterator[int]:
        pending = [node]
        while pending:
            item = pending.pop()
            if isinstance(item, StringValueNode):
                yield len(item.value)
            elif isinstance(item, ListValueNode):
                pending.extend(item.values)
            elif isinstance(item, ObjectValueNode):
                pending.extend(field.value for field in item.fields)

    stack: list[SelectionSetNode] = [operation.selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    yield from literals(argument.value)
            nested = getattr(selection, "selection_set", None)
            if isinstance(nested, SelectionSetNode):
                stack.append(nested)


# -- cost: provider calls --------------------------------------------------------------


def estimate(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    runtime: Runtime,
) -> Counter[Provider]:
    """Provider calls the operation can make, per provider (an estimate, not a bound)."""
    cost = _Cost(fragments, variables, runtime)
    cost.selections(operation.selection_set, 1, root=operation.operation)
    return cost.calls


_READING: weakref.WeakKeyDictionary[Runtime, dict[Provider, tuple[int, bool]]]
_READING = weakref.WeakKeyDictionary()


def _reading(runtime: Runtime) -> dict[Provider, tuple[int, bool]]:
    """How each email reader reads many people: its batch size (0: one a call) and
    whether it can list; worked out once per runtime (a protocol check costs ~5 us)."""
    found = _READING.get(runtime)
    if found is None:
        found = {
            provider: (
                max(1, reader.read_batch_limit) if isinstance(reader, BatchReader) else 0,
                isinstance(reader, Lister),
            )
            for provider, reader in runtime.email_readers.items()
        }
        _READING[runtime] = found
    return found


class _Cost:
    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        runtime: Runtime,
    ) -> None:
        self.walk = _Walk(fragments)
        self.variables = variables
        self.runtime = runtime
        self.calls: Counter[Provider] = Counter()
        # Inside a contact's activity: an item's `contact` is that contact, no lookup.
        self.contact_known = False
        # Whether an argument read was (or held) a variable: then the estimate holds
        # for these variables only.
        self.read_variables = False

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                if _has_variable(argument.value):
                    self.read_variables = True
                return _value(argument.value, self.variables)
        return None

    def size(self, node: FieldNode, default: int, maximum: int) -> int:
        """The page size asked for; one past the maximum is refused by the field itself."""
        value = self.argument(node, "first")
        if value is None:
            value = self.argument(node, "last")
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= maximum:
            return value
        return default if value is None else 0

    def kinds(self, node: FieldNode) -> set[ActivityKind]:
        """The activity kinds a field asks for (every kind when `kinds` is not given)."""
        asked = self.argument(node, "kinds")
        if not isinstance(asked, list):
            return set(ActivityKind)
        return {k for k in ActivityKind if k.name in asked}

    def people(self, count: int) -> None:
        """Looking up `count` people at once (the loaders batch a field's lookups over
        every item of the lists around it) in every readable provider."""
        if count <= 0:
            return
        for provider, (batch, lists) in _reading(self.runtime).items():
            if batch:
                per = math.ceil(count / batch)
            elif lists:
                per = min(count, math.ceil(count / LIST_PAGE))
            else:
                per = count
            self.calls[provider] += per

    def searched(self, times: int) -> None:
        """A filter asked of every provider: one search, or a listing's (first) page."""
        runtime = self.runtime
        self.each(runtime.searchers, times)
        self.each({p: c for p, c in runtime.listers.items() if p not in runtime.searchers}, times)

    def each(self, providers: Mapping[Provider, object], times: int, per: int = 1) -> None:
        for provider in providers:
            self.calls[provider] += per * times

    def selections(
        self, selections: SelectionSetNode, times: int, *, root: OperationType | None = None
    ) -> None:
        for node in self.walk.fields(selections, frozenset()):
            self.field(node, times, root)

    def field(self, node: FieldNode, times: int, root: OperationType | None) -> None:
        name = node.name.value
        runtime = self.runtime
        inner = times
        if name in INTROSPECTION_ROOTS or name == "__typename":
            return
        if name == "contact":
            if not self.contact_known:
                self.people(times)
        elif name == "contacts":
            first = self.size(node, DEFAULT_PAGE, MAX_PAGE)
            self.people(first * times)
            filtered = self.argument(node, "filter")
            if filtered:
                self.each(runtime.searchers, times)
                self.each(
                    {p: c for p, c in runtime.listers.items() if p not in runtime.searchers}, times
                )
            elif self.argument(node, "orderBy") or self.argument(node, "last"):
                # Sorted by a field, or read from its end: every page of each listing.
                self.each(runtime.listers, times, per=MAX_SORTED_LISTING // LIST_PAGE)
            else:
                self.each(runtime.listers, times, per=max(1, math.ceil(first / LIST_PAGE)))
            inner = times * first
        elif name == "contactChanges":
            first = self.size(node, DEFAULT_PAGE, MAX_PAGE)
            self.people(first * times)
            self.searched(times)
            inner = times * first
        elif name in ("node", "account") and root is OperationType.QUERY:
            # An account (the costlier kind of node): found by company name.
            self.each(runtime.searchers, times)
            self.each(
                {p: c for p, c in runtime.listers.items() if p not in runtime.searchers}, times
            )
        elif name == "activity" and root is OperationType.QUERY:
            # The global feed: at most two of its pages hold a page of the connection,
            # then each item's contact is looked up (below, as `contact`).
            first = self.size(node, DEFAULT_ACTIVITY_PAGE, MAX_ACTIVITY_PAGE)
            if self.kinds(node) != {ActivityKind.NOTE}:
                # `last` without `before` first asks for the feed's total: one more call.
                from_end = self.argument(node, "last") and not self.argument(node, "before")
                self.each(runtime.activity_feeds, times, per=3 if from_end else 2)
            inner = times * first
        elif name == "activity":
            first = self.size(node, DEFAULT_ACTIVITY_PAGE, MAX_ACTIVITY_PAGE)
            kinds = self.kinds(node)
            per = len(kinds) + (ActivityKind.NOTE in kinds and bool(self.argument(node, "until")))
            self.each(runtime.activity_sources, times, per=per)
            if node.selection_set is not None:
                known, self.contact_known = self.contact_known, True
                try:
                    self.selections(node.selection_set, times * first)
                finally:
                    self.contact_known = known
            return
        elif name == "providerFields" and root is OperationType.QUERY:
            asked = self.argument(node, "provider")
            self.each({p: c for p, c in runtime.field_listers.items() if p.name == asked}, times)
        elif name == "tags" and root is OperationType.QUERY:
            self.each(runtime.tag_listers, times, per=25)
        elif name == "tags" and root is None:
            # A contact's tags: segments are one call per contact, the rest are free.
            kinds = self.argument(node, "kinds")
            if kinds == "SEGMENT" or (isinstance(kinds, list) and "SEGMENT" in kinds):
                self.each(runtime.segment_readers, times)
        elif name == "companies" and root is None:
            self.each(runtime.company_readers, times)
        elif name == "health":
            self.each(runtime.health_checkers, times)
        elif name == "previewUpsert" and root is OperationType.QUERY:
            # What each provider holds, read as a lookup would; a plan may read the
            # provider's field or list names once.
            self.people(times)
            self.each(runtime.writers, times)
        elif root is OperationType.MUTATION:
            inner = self.mutation(node, times)
        if node.selection_set is not None:
            self.selections(node.selection_set, inner)

    def mutation(self, node: FieldNode, times: int) -> int:
        """A root mutation's writes; returns how many results its payload lists."""
        name = node.name.value
        runtime = self.runtime
        named = self.argument(node, "providers")
        writers = {
            p: w
            for p, w in runtime.writers.items()
            if not isinstance(named, list) or p.name in named
        }
        if name == "upsertContact":
            for provider, writer in writers.items():
                self.calls[provider] += getattr(writer, "calls_per_write", 1) * times
            return times
        if name == "upsertContacts":
            inputs = self.argument(node, "inputs")
            count = len(inputs) if isinstance(inputs, list) else 1
            for provider, writer in writers.items():
                if isinstance(writer, BatchWriter):
                    per = math.ceil(count / max(1, writer.write_batch_limit))
                else:
                    per = count * getattr(writer, "calls_per_write", 1)
                self.calls[provider] += per * times
            return times * count
        # A change to a known person: found first, then one call where they are held.
        self.people(times)
        changed = runtime.changers.get(name, {})
        self.each(changed, times)
        return times


def _has_variable(node: ValueNode) -> bool:
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, VariableNode):
            return True
        if isinstance(item, ListValueNode):
            pending.extend(item.values)
        elif isinstance(item, ObjectValueNode):
            pending.extend(field.value for field in item.fields)
    return False


def _value(node: ValueNode, variables: Mapping[str, Any], depth: int = 0) -> Any:
    """An argument's value as Python; nothing past a few levels (costs read only `first`,
    `inputs` and `filter`)."""
    if depth > 8:
        return None
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        try:
            return int(node.value)
        except ValueError:  # past Python's digit limit: no page is that large
            return None
    if isinstance(node, StringValueNode | BooleanValueNode | EnumValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [_value(item, variables, depth + 1) for item in node.values]
    if isinstance(node, ObjectValueNode):
        return {item.name.value: _value(item.value, variables, depth + 1) for item in node.fields}
    return None
