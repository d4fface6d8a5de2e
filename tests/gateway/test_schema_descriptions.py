"""Every part of the schema a client can see says what it is: a frontend developer
reading GraphiQL's docs or `schema.graphql` should never meet a bare name."""

from __future__ import annotations

from typing import Any

import graphql

from resolvers.runtime import internals
from resolvers.schema import schema

BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def _introspection() -> dict[str, Any]:
    """The standard introspection query's answer, from the executable schema."""
    result = graphql.graphql_sync(
        internals.graphql_schema(schema), graphql.get_introspection_query(descriptions=True)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["__schema"]


def _undescribed(introspected: dict[str, Any]) -> list[str]:
    """The path of every type, field, argument, input field and enum value without a
    description: `Contact`, `Contact.email`, `Query.contact(id)`, `Provider.AKITA`."""
    missing: list[str] = []

    def check(path: str, item: dict[str, Any]) -> None:
        if not (item.get("description") or "").strip():
            missing.append(path)

    for kind in introspected["types"]:
        name = kind["name"]
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        check(name, kind)
        for field in kind.get("fields") or ():
            check(f"{name}.{field['name']}", field)
            for arg in field.get("args") or ():
                check(f"{name}.{field['name']}({arg['name']})", arg)
        for field in kind.get("inputFields") or ():
            check(f"{name}.{field['name']}", field)
        for value in kind.get("enumValues") or ():
            check(f"{name}.{value['name']}", value)
    return missing


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    missing = _undescribed(_introspection())
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_the_root_types_have_descriptions() -> None:
    introspected = _introspection()
    roots = [introspected["queryType"]["name"], introspected["mutationType"]["name"]]
    assert roots == ["Query", "Mutation"]
    described = {t["name"]: t["description"] for t in introspected["types"]}
    assert all((described[root] or "").strip() for root in roots), {r: described[r] for r in roots}


def test_the_walk_finds_what_is_missing() -> None:
    """The walk reaches every kind of path the schema can leave undescribed."""
    sdl = '''
        """A."""
        type Query {
          """F."""
          a(x: Int): E
          b(
            """X."""
            x: I
          ): Int
        }
        """E."""
        enum E {
          """Y."""
          Y
          Z
        }
        input I {
          """Q."""
          q: Int
          r: Int
        }
    '''
    result = graphql.graphql_sync(
        graphql.build_schema(sdl), graphql.get_introspection_query(descriptions=True)
    )
    assert result.data is not None
    assert _undescribed(result.data["__schema"]) == ["Query.a(x)", "Query.b", "E.Z", "I", "I.r"]
