"""The gateway fuzzed over HTTP: whatever a client sends, it never answers 5xx and
never `INTERNAL_SERVER_ERROR`, and every GraphQL error it gives has a code.

Operations come from the schema (hypothesis-graphql). Most of their arguments are
then steered towards values the seed data knows (emails, ids, cursors, valid
input fields), so that they run the resolvers and connectors and not only the
argument checks. Each test starts one gateway under uvicorn, its providers in
the test's in-process sandbox (fresh per test, so the mutations' writes stay
there), and sends it every example. Examples are derandomized and bounded: the
same ones run everywhere, in a few seconds.

A failure a property finds is kept, minimised, as a plain case at the end of
this file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from resolvers.runtime.limits import Limits
from resolvers.schema import schema
from sandbox.app import Sandbox
from sandbox.seed import COMPANIES, TAGS, generate
from tests.gateway.conftest import serve_gateway

pytestmark = pytest.mark.e2e

GRAPHQL_SCHEMA = graphql.build_schema(schema.as_str())
BODY_LIMIT = Limits().max_body_bytes  # the gateways here run with the default [limits]


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Hypothesis settings for a property: `examples` derandomized examples, no deadline
    (each crosses a socket), nothing stored between runs."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            # One server per test, shared by its examples, is the point of the fixture.
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A client of one gateway (under uvicorn) over the test's own seeded sandbox."""
    with serve_gateway(sandbox) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def assert_answered(response: httpx.Response, *, sent: object) -> None:
    """No 5xx; a JSON answer's errors each have a code, never INTERNAL_SERVER_ERROR."""
    assert response.status_code < 500, (response.status_code, response.text[:500], sent)
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    body = response.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code")
        assert code is not None, (error, sent)
        assert code != "INTERNAL_SERVER_ERROR", (error, sent)


# -- JSON, written without recursion ---------------------------------------------------


@dataclass(frozen=True)
class Deep:
    """A JSON value nested `depth` levels deep."""

    depth: int
    kind: str
    leaf: Any

    def json(self) -> str:
        opening, closing = ("[", "]") if self.kind == "list" else ('{"k":', "}")
        return opening * self.depth + to_json(self.leaf) + closing * self.depth


class Huge(str):
    """A long string that shows itself short in a failing example."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{self[:1]!r} * {len(self)}"


def to_json(value: Any) -> str:
    """JSON text for `value`; `Deep` parts are written flat (json.dumps would recurse)."""
    if isinstance(value, Deep):
        return value.json()
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def post(http: httpx.Client, body: object) -> httpx.Response:
    content = to_json(body)
    return http.post("/graphql", content=content, headers={"Content-Type": "application/json"})


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
huge_strings = st.builds(
    lambda n, char: Huge(char * n),
    st.integers(min_value=2_000, max_value=300_000),
    st.sampled_from("x1é "),
)
deep_values = st.builds(
    Deep,
    depth=st.integers(min_value=2, max_value=1_100),
    kind=st.sampled_from(["list", "object"]),
    leaf=json_scalars,
)
# Anything a JSON body can hold, up to huge strings and nesting past orjson's 1024 levels.
junk = st.recursive(
    json_scalars | huge_strings | deep_values,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)


# -- values the seed data knows ---------------------------------------------------------


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _seed_emails() -> list[str]:
    """Two people of each shape: in one readable provider, in two, in all three."""
    by_shape: dict[frozenset[str], list[str]] = {}
    for person in generate(0).people:
        found = by_shape.setdefault(frozenset(person.records), [])
        if len(found) < 2:
            found.append(next(iter(person.records.values())).email)
    return sorted(email for emails in by_shape.values() for email in emails)


class EnumValue(str):
    """An enum value, written as a GraphQL enum literal."""

    __slots__ = ()


EMAILS = [
    *_seed_emails(),
    " ADA.Lovelace.0@Stark.TEST ",
    "nobody.here@example.test",
    "grace.hopper@navy.test",
]
COMPANY_NAMES = [name for name, _ in COMPANIES]
PROVIDERS = [EnumValue(p) for p in ("AKITA", "INTERAKT", "TRUSTMARY", "ADAPTIX", "LUNARSEND")]
PROVIDER_KEYS = [p.lower() for p in PROVIDERS]
CONTACT_IDS = [
    *(_b64(f"Contact:email:{email.strip().lower()}") for email in EMAILS),
    _b64("Contact:eid:u-1906"),
    _b64("Contact:adaptix:1"),
]
KNOWN_IDS = [
    *CONTACT_IDS,
    *(_b64(f"Account:company:{name.lower()}") for name in COMPANY_NAMES[:4]),
    _b64("Account:ext:acct-navy"),
]
# Ids of the gateway's shape with anything in them: a provider's remote id ends up
# in that provider's URL.
forged_ids = st.builds(
    lambda kind, key, value: _b64(f"{kind}:{key}:{value}"),
    st.sampled_from(["Contact", "Account", "Node"]),
    st.sampled_from([*PROVIDER_KEYS, "email", "eid", "ext", "company", "record"]),
    st.text(max_size=30) | st.sampled_from(["%zz", "1/../2", "1?x=y#z", " ", "-1", "9" * 30]),
)

# The states the gateway's cursors hold (a listing's provider, its page cursor and
# the records consumed; an offset), forged, and anything else as JSON.
cursors = st.one_of(
    st.fixed_dictionaries(
        {
            "p": st.sampled_from([*PROVIDER_KEYS, "elsewhere"]),
            "c": st.none() | st.text(max_size=20) | st.integers(),
            "s": st.integers(min_value=-2, max_value=2**63),
        }
    ),
    st.fixed_dictionaries({"o": st.integers(min_value=-2, max_value=2**64 - 1)}),
    json_values,
).map(lambda state: _b64(json.dumps(state)))

# Values for arguments and input fields by name, so that generated operations reach
# people, accounts and pages that exist and writes that providers take.
STEERED: dict[str, st.SearchStrategy[Any]] = {
    "email": st.sampled_from(EMAILS),
    "id": st.sampled_from(CONTACT_IDS) | st.sampled_from(KNOWN_IDS) | forged_ids,
    "first": st.integers(min_value=1, max_value=25) | st.sampled_from([0, 100, 1000, 1001]),
    "after": cursors,
    "company": st.sampled_from(COMPANY_NAMES),
    "tag": st.sampled_from(TAGS),
    "tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=3),
    "search": st.sampled_from(["ada", "Acme", "stark.test", "o"]),
    "externalId": st.sampled_from(["u-1906", "u-1", "eid-404"]),
    "accountExternalId": st.sampled_from(["acct-navy", "acct-1"]),
    "firstName": st.sampled_from(["Grace", "Ada", "Zoë"]),
    "lastName": st.sampled_from(["Hopper", "Lovelace", "O'Brien"]),
    "jobTitle": st.sampled_from(["CTO", "Rear Admiral"]),
    "phones": st.lists(st.sampled_from(["+358401234567", "+1 555 0100", "040 123"]), max_size=2),
    "channel": st.sampled_from(["email", "sms"]),
    "comments": st.text(max_size=20),
    "providers": st.lists(st.sampled_from(PROVIDERS), min_size=1, max_size=3, unique=True),
    "customFields": st.dictionaries(
        st.sampled_from(["plan", "score", "source"]), st.integers(0, 100) | st.text(max_size=10)
    ),
    "delta": st.integers(min_value=-100, max_value=100).filter(bool),
}


def literal(value: Any) -> graphql.ValueNode:
    """A Python value as a GraphQL literal."""
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, EnumValue):
        return nodes.Enum(str(value))
    if isinstance(value, list):
        return nodes.List([literal(item) for item in value])
    if isinstance(value, dict):
        return nodes.Object(
            [
                graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=literal(v))
                for k, v in value.items()
            ]
        )
    return nodes.String(value)


class _Steer(graphql.Visitor):
    """Sets most arguments and input fields `STEERED` knows to one of its values."""

    def __init__(self, draw: st.DrawFn) -> None:
        super().__init__()
        self.draw = draw

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> graphql.FieldNode | None:
        # `contact` takes exactly one of id and email; generated, it mostly has both.
        given = node.arguments or ()
        if node.name.value != "contact" or {a.name.value for a in given} != {"id", "email"}:
            return None
        keep = self.draw(st.sampled_from(["id", "email", "both"]))
        arguments = tuple(a for a in given if keep in ("both", a.name.value))
        return graphql.FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=arguments,
            directives=node.directives,
            selection_set=node.selection_set,
        )

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
        value = self._value(node.name.value)
        return None if value is None else graphql.ArgumentNode(name=node.name, value=value)

    def enter_object_field(
        self, node: graphql.ObjectFieldNode, *_: Any
    ) -> graphql.ObjectFieldNode | None:
        value = self._value(node.name.value)
        return None if value is None else graphql.ObjectFieldNode(name=node.name, value=value)

    def _value(self, name: str) -> graphql.ValueNode | None:
        strategy = STEERED.get(name)
        if strategy is None or self.draw(st.integers(min_value=0, max_value=3)) == 0:
            return None
        return literal(self.draw(strategy))


@st.composite
def steered(
    draw: st.DrawFn, operations: st.SearchStrategy[graphql.DocumentNode]
) -> graphql.DocumentNode:
    """An operation from `operations` with most of its arguments set to known values."""
    document: graphql.DocumentNode = graphql.visit(draw(operations), _Steer(draw))
    return document


# JSON (a custom scalar: `customFields`) as literals.
json_literals = st.recursive(
    st.just(nodes.Null)
    | st.booleans().map(nodes.Boolean)
    | st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int)
    | st.text(max_size=20).map(nodes.String),
    lambda inner: (
        st.lists(inner, max_size=3).map(nodes.List)
        | st.dictionaries(
            st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,8}", fullmatch=True), inner, max_size=3
        ).map(
            lambda fields: nodes.Object(
                [
                    graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                    for k, v in fields.items()
                ]
            )
        )
    ),
    max_leaves=6,
)


# DateTime (a custom scalar: `contactChanges(since:)`, `updatedSince`, a UTM tag's
# `lastActive`) as literals: valid ones with and without an offset, and any text.
datetime_literals = (
    st.datetimes().map(lambda at: at.isoformat())
    | st.sampled_from(["2026-03-01T12:00:00Z", "2026-03-01", "yesterday"])
    | st.text(max_size=20)
).map(nodes.String)


def _documents(
    make: Any, mode: Mode = Mode.POSITIVE, fields: list[str] | None = None
) -> st.SearchStrategy[graphql.DocumentNode]:
    strategy: st.SearchStrategy[graphql.DocumentNode] = make(
        GRAPHQL_SCHEMA,
        fields=fields,
        custom_scalars={"JSON": json_literals, "DateTime": datetime_literals},
        print_ast=lambda document: document,
        mode=mode,
    )
    return strategy


assert GRAPHQL_SCHEMA.mutation_type is not None
query_documents = steered(_documents(queries))
# Every root field of a generated mutation must succeed for any of it to run (their
# payloads are non-null), so most are of one root field.
mutation_documents = steered(
    st.one_of(
        _documents(mutations),
        *(_documents(mutations, fields=[name]) for name in GRAPHQL_SCHEMA.mutation_type.fields),
    )
)


# -- a. operations the schema allows ------------------------------------------------------


@fuzz(examples=120)
@given(query=query_documents.map(graphql.print_ast))
def test_generated_queries_are_answered_with_coded_errors_only(
    http: httpx.Client, query: str
) -> None:
    response = post(http, {"query": query})
    assert response.status_code == 200, (response.text[:500], query)
    assert_answered(response, sent=query)


@fuzz(examples=100)
@given(mutation=mutation_documents.map(graphql.print_ast))
def test_generated_mutations_are_answered_with_coded_errors_only(
    http: httpx.Client, mutation: str
) -> None:
    response = post(http, {"query": mutation})
    assert response.status_code == 200, (response.text[:500], mutation)
    assert_answered(response, sent=mutation)


@fuzz(examples=60)
@given(
    operation=st.one_of(
        _documents(queries, Mode.NEGATIVE), _documents(mutations, Mode.NEGATIVE)
    ).map(graphql.print_ast)
)
def test_operations_that_break_the_schema_are_refused_with_a_code(
    http: httpx.Client, operation: str
) -> None:
    # One violation each: a wrong-typed literal, a missing required argument, an Int past
    # 32 bits, null for a non-null argument, an unknown enum value, a missing input field.
    response = post(http, {"query": operation})
    assert response.status_code == 200, (response.text[:500], operation)
    assert_answered(response, sent=operation)
    assert response.json().get("errors"), operation


# -- b. variables of any type -------------------------------------------------------------


@cache
def wrong_values(type_: graphql.GraphQLInputType) -> st.SearchStrategy[Any]:
    """Values for a variable of `type_`: anything at all, or the type's own shape with
    anything at all in its leaves (so that a value gets past the outer checks)."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return wrong_values(type_.of_type)
    if isinstance(type_, graphql.GraphQLList):
        shaped: st.SearchStrategy[Any] = st.lists(wrong_values(type_.of_type), max_size=3)
    elif isinstance(type_, graphql.GraphQLInputObjectType):
        required = {n for n, f in type_.fields.items() if graphql.is_required_input_field(f)}
        shaped = st.fixed_dictionaries(
            {n: wrong_values(type_.fields[n].type) for n in required},
            optional={
                **{
                    n: STEERED.get(n, st.nothing()) | wrong_values(f.type)
                    for n, f in type_.fields.items()
                    if n not in required
                },
                "unknownField": junk,
            },
        )
    elif isinstance(type_, graphql.GraphQLEnumType):
        shaped = st.sampled_from(sorted(type_.values))
    elif isinstance(type_, graphql.GraphQLScalarType) and type_.name == "JSON":
        # Any JSON is of the type: an object of deep values is what gets furthest.
        return st.one_of(
            st.dictionaries(st.text(max_size=5), deep_values | junk, min_size=1, max_size=2),
            deep_values,
            junk,
        )
    elif isinstance(type_, graphql.GraphQLScalarType) and type_.name in ("Int", "Float"):
        shaped = st.integers(min_value=-(2**31), max_value=2**31 - 1)
    else:
        shaped = st.sampled_from(EMAILS + KNOWN_IDS)
    return junk | shaped


class _Lift(graphql.Visitor):
    """Turns a few argument and input-field values into variables of the type there, adds
    input fields the operation left out as variables, and draws a value for each."""

    def __init__(self, draw: st.DrawFn, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.draw = draw
        self.type_info = type_info
        self.definitions: list[graphql.VariableDefinitionNode] = []
        self.values: dict[str, Any] = {}

    def enter(self, node: graphql.Node, key: Any, parent: Any, *_: Any) -> Any:
        if not isinstance(node, graphql.ValueNode) or isinstance(node, graphql.VariableNode):
            return None
        # TypeInfo has already entered this node: inside a list literal it holds the item type.
        if isinstance(node, graphql.ListValueNode):
            type_ = self.type_info.get_parent_input_type()
        else:
            type_ = self.type_info.get_input_type()
        if type_ is None:
            return None
        if isinstance(node, graphql.ObjectValueNode) and self.draw(st.booleans()):
            return self._added(node, type_)
        # A few per operation, so that the rest of it can be valid and the value be used.
        lifted = isinstance(parent, graphql.ArgumentNode | graphql.ObjectFieldNode)
        if not lifted or self.draw(st.integers(min_value=0, max_value=3)) != 0:
            return None
        return self._variable(type_)

    def _added(
        self, node: graphql.ObjectValueNode, type_: graphql.GraphQLInputType
    ) -> graphql.ObjectValueNode | None:
        named = graphql.get_named_type(type_)
        if not isinstance(named, graphql.GraphQLInputObjectType):  # a JSON literal
            return None
        missing = sorted(set(named.fields) - {field.name.value for field in node.fields})
        if not missing:
            return None
        added = self.draw(st.lists(st.sampled_from(missing), min_size=1, max_size=2, unique=True))
        fields = [
            *node.fields,
            *(
                graphql.ObjectFieldNode(
                    name=graphql.NameNode(value=name), value=self._variable(named.fields[name].type)
                )
                for name in added
            ),
        ]
        return graphql.ObjectValueNode(fields=tuple(fields))

    def _variable(self, type_: graphql.GraphQLInputType) -> graphql.VariableNode:
        name = f"v{len(self.definitions)}"
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        self.definitions.append(
            graphql.VariableDefinitionNode(variable=variable, type=graphql.parse_type(str(type_)))
        )
        self.values[name] = self.draw(wrong_values(type_))
        return variable


@st.composite
def with_variables(draw: st.DrawFn) -> dict[str, Any]:
    """A request: a generated operation with some of its values made variables, values
    for them of any type, and sometimes variables it does not declare."""
    document = draw(st.one_of(query_documents, mutation_documents))
    type_info = graphql.TypeInfo(GRAPHQL_SCHEMA)
    lift = _Lift(draw, type_info)
    lifted = graphql.visit(document, graphql.TypeInfoVisitor(type_info, lift))
    [operation] = lifted.definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    operation = graphql.OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=tuple(lift.definitions),
        directives=operation.directives,
        selection_set=operation.selection_set,
    )
    variables = dict(lift.values)
    if draw(st.booleans()):
        variables.update(draw(st.dictionaries(st.text(max_size=5), junk, max_size=2)))
    return {
        "query": graphql.print_ast(graphql.DocumentNode(definitions=(operation,))),
        "variables": variables,
    }


@fuzz(examples=120)
@given(request=with_variables())
def test_variables_of_any_type_are_answered_with_coded_errors_only(
    http: httpx.Client, request: dict[str, Any]
) -> None:
    response = post(http, request)
    assert_answered(response, sent=request)


# -- c. any request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A request to send as it is (shown with its body cut short)."""

    method: str
    content_type: str
    body: bytes
    params: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        return (
            f"Raw({self.method!r}, {self.content_type!r}, {body!r} ({len(self.body)} bytes), "
            f"{self.params!r})"
        )

    def send(self, http: httpx.Client) -> httpx.Response:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        if self.method == "GET":
            headers["GraphQL-Require-Preflight"] = "1"
        return http.request(
            self.method, "/graphql", content=self.body, params=self.params, headers=headers
        )


CONTENT_TYPES = [
    "application/json; charset=latin-1",
    "application/graphql",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=fuzz",
    "multipart/form-data",
    "",
]
odd_members = junk | st.text(max_size=200) | query_documents.map(graphql.print_ast)


def _json_body(value: Any) -> bytes:
    return to_json(value).encode()


def _padded(size: int) -> bytes:
    """A valid query padded with spaces to `size` bytes."""
    head, tail = b'{"query": "{ __typename }', b'"}'
    return head + b" " * max(0, size - len(head) - len(tail)) + tail


def _nested_in(depth: int, where: str) -> bytes:
    deep = Deep(depth, "list", 1).json()
    return {
        "top": deep,
        "query": '{"query": ' + deep + "}",
        "variables": '{"query": "{ __typename }", "variables": {"v": ' + deep + "}}",
        "extensions": '{"query": "{ __typename }", "extensions": ' + deep + "}",
    }[where].encode()


# A document with one oversized token, and where it sits.
OVERSIZED = {
    "int": ("{ contacts(first: %s) { pageInfo { hasNextPage } } }", "1{}"),
    "int-default": (
        "query($f: Int = %s) { contacts(first: $f) { pageInfo { hasNextPage } } }",
        "1{}",
    ),
    "float": ("{ contacts(first: %s) { pageInfo { hasNextPage } } }", "1.{}"),
    "exponent": ("{ contacts(first: %s) { pageInfo { hasNextPage } } }", "1e{}"),
    "string": ("{ contact(email: %s) { id } }", '"{}"'),
    "block-string": ("{ contact(email: %s) { id } }", '"""{}"""'),
    "name": ("{ %s }", "a{}"),
    "comment": ("#%s\n{ __typename }", "{}"),
}


def _oversized(kind: str, size: int) -> bytes:
    document, token = OVERSIZED[kind]
    digits = "9" * size
    return _json_body({"query": document % token.format(digits)})


bodies = st.one_of(
    junk.map(_json_body),
    # objects with odd `query`, `variables`, `operationName` and `extensions`
    st.fixed_dictionaries(
        {},
        optional={
            "query": odd_members,
            "variables": odd_members,
            "operationName": odd_members,
            "extensions": odd_members,
        },
    ).map(_json_body),
    st.builds(_oversized, st.sampled_from(sorted(OVERSIZED)), st.integers(1, 200_000)),
    # around the body limit, and far past it
    st.integers(min_value=BODY_LIMIT - 1_000, max_value=BODY_LIMIT + 1_000).map(_padded),
    st.just(_padded(5_000_000)),
    # around orjson's 1024 levels, at the top and in each member
    st.builds(
        _nested_in,
        st.integers(min_value=500, max_value=1_100),
        st.sampled_from(["top", "query", "variables", "extensions"]),
    ),
)
get_params = st.lists(
    st.tuples(
        st.sampled_from(["query", "variables", "operationName", "extensions"])
        | st.text(max_size=5),
        # (a URL has less room than a body: httpx refuses one past 64 KiB)
        st.text(max_size=200) | json_values.map(to_json) | query_documents.map(graphql.print_ast),
    ),
    max_size=4,
).map(lambda params: (("query", "{ __typename }"), *params))
JSON_TYPES = [
    "application/json",
    "application/graphql-response+json",
    "application/json; charset=utf-8",
]


def assert_refused_or_answered(http: httpx.Client, request: Raw) -> None:
    response = request.send(http)
    assert_answered(response, sent=request)
    if request.method == "POST" and len(request.body) > BODY_LIMIT:
        assert response.status_code == 413, request


@fuzz(examples=120)
@given(request=st.builds(Raw, st.just("POST"), st.sampled_from(JSON_TYPES), bodies))
def test_any_json_body_is_refused_or_answered_never_a_server_error(
    http: httpx.Client, request: Raw
) -> None:
    assert_refused_or_answered(http, request)


@fuzz(examples=60)
@given(
    request=st.builds(
        Raw, st.just("POST"), st.sampled_from(CONTENT_TYPES), st.binary(max_size=2_000) | bodies
    )
)
def test_any_bytes_of_any_content_type_are_refused_or_answered(
    http: httpx.Client, request: Raw
) -> None:
    assert_refused_or_answered(http, request)


@fuzz(examples=40)
@given(
    request=st.builds(Raw, st.just("GET"), st.just("application/json"), st.just(b""), get_params)
)
def test_any_query_string_is_refused_or_answered_never_a_server_error(
    http: httpx.Client, request: Raw
) -> None:
    assert_refused_or_answered(http, request)


# -- regressions the fuzz found -----------------------------------------------------------------

# An Int literal longer than Python's 4300-digit limit for int(): graphql-core's
# validation wraps int()'s ValueError in its "Expected value of type" error.
LONG_INT = "1" + "0" * 4300


@pytest.mark.parametrize(
    "query",
    [
        f"{{ contacts(first: {LONG_INT}) {{ pageInfo {{ hasNextPage }} }} }}",
        f"query($f: Int = {LONG_INT}) {{ contacts(first: $f) {{ pageInfo {{ hasNextPage }} }} }}",
    ],
    ids=["argument", "variable-default"],
)
def test_an_int_literal_past_4300_digits_is_bad_user_input(http: httpx.Client, query: str) -> None:
    response = post(http, {"query": query})
    assert_answered(response, sent=query)
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]


# orjson writes at most 255 levels (it reads 1024): the Interakt body
# {"custom_fields": {"plan": [...]}} passes that with a list 253 deep.
def test_a_custom_field_nested_past_what_orjson_writes_is_refused_with_a_code(
    http: httpx.Client,
) -> None:
    query = (
        'mutation($c: JSON) { upsertContact(input: {email: "deep@example.test", '
        "customFields: $c}, providers: [INTERAKT]) { results { provider status } } }"
    )
    request = {"query": query, "variables": {"c": {"plan": Deep(253, "list", 1)}}}
    assert_answered(post(http, request), sent=request)
