"""`schema.graphql` is a contract: it must match the code and what introspection shows."""

from __future__ import annotations

import re

import graphql
import httpx

from gateway.cli import schema_sdl
from resolvers.runtime import internals
from resolvers.schema import schema
from tests.gateway.conftest import REPO

SCHEMA_FILE = REPO / "schema.graphql"
REGENERATE = "schema.graphql is out of date: run `contact-gateway export-schema`"


def test_schema_file_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), REGENERATE


def test_introspection_over_http_rebuilds_the_file(gateway_url: str) -> None:
    response = httpx.post(
        f"{gateway_url}/graphql", json={"query": graphql.get_introspection_query()}
    )
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body

    rebuilt = graphql.print_schema(graphql.build_client_schema(body["data"])) + "\n"

    assert rebuilt == SCHEMA_FILE.read_text(encoding="utf-8"), REGENERATE


def test_the_file_describes_the_same_schema_as_strawberry() -> None:
    """Independent of the export path: the file parsed back equals the executable schema.

    The standard introspection query does not ask for `specifiedByURL`, so a
    scalar's `@specifiedBy` is the one thing the file cannot carry.
    """
    from_file = graphql.lexicographic_sort_schema(graphql.build_schema(SCHEMA_FILE.read_text()))
    # Printed straight from the executable schema (no introspection), then sorted: sorting
    # the executable schema itself loses the Python enum values that input defaults use.
    printed = graphql.print_schema(internals.graphql_schema(schema))
    from_code = graphql.lexicographic_sort_schema(graphql.build_schema(printed))

    printed_code = re.sub(r' @specifiedBy\(url: "[^"]*"\)', "", graphql.print_schema(from_code))
    assert graphql.print_schema(from_file) == printed_code, REGENERATE
