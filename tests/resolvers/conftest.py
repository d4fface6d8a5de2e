from __future__ import annotations

from typing import Any

import httpx

from resolvers.runtime.context import Context, Runtime
from resolvers.schema import schema


class Result:
    def __init__(self, data: Any, errors: list[dict[str, Any]]) -> None:
        self.data = data
        self.errors = errors

    def error_codes(self) -> list[tuple[str | None, str | None]]:
        return [(e["extensions"].get("code"), e["extensions"].get("provider")) for e in self.errors]


async def execute(gateway: Runtime, query: str, variables: dict[str, Any] | None = None) -> Result:
    """Run an operation through the real schema, as the HTTP layer would."""
    result = await schema.execute(query, variable_values=variables, context_value=Context(gateway))
    errors = [e.formatted for e in result.errors or []]
    return Result(result.data, errors)


async def stats(client: httpx.AsyncClient, key: str) -> dict[str, int]:
    response = await client.get(f"/{key}/_sandbox/stats")
    requests: dict[str, int] = response.json()["requests"]
    return requests


async def reset(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/reset")


async def records(client: httpx.AsyncClient, key: str) -> list[Any]:
    response = await client.get(f"/{key}/_sandbox/records")
    found: list[Any] = response.json()["records"]
    return found
