"""A gateway configuration that points providers at a running sandbox.

The sandbox knows its own URLs and fixed credentials; it writes them as the
configuration document a user would write (`contact-gateway.example.toml`),
so the gateway reads the sandbox through the same checks as real providers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox import credentials

PROVIDER_KEYS = tuple(credentials.ROOTS)


def sandbox_document(base_url: str, providers: Iterable[str] = PROVIDER_KEYS) -> dict[str, Any]:
    """The configuration document, as TOML parses it, for providers in a sandbox.

    Args:
        base_url: where the sandbox answers, e.g. `http://127.0.0.1:8100`; each
            provider lives under `/<key>` plus the provider's own path root.
        providers: the provider keys to enable; default all five.

    Returns:
        `{"providers": {key: {"base_url", credentials..., "tags" (Akita)}}}` with
        the sandbox's fixed credentials and Akita's sandbox tag map.
    """
    base = base_url.rstrip("/")
    known = credentials.describe()
    tables: dict[str, dict[str, Any]] = {}
    for provider in providers:
        key = str(provider)
        tables[key] = {"base_url": f"{base}/{key}{credentials.ROOTS[key]}", **known[key]}
        if key == "akita":
            tables[key]["tags"] = dict(credentials.AKITA_TAG_IDS)
    return {"providers": tables}


def to_toml(document: Mapping[str, Any]) -> str:
    """`document` as TOML: its tables and their tables as sections (`[providers.akita]`),
    anything deeper as inline tables; strings, numbers, booleans and arrays as values."""
    lines: list[str] = []

    def section(prefix: str, table: Mapping[str, Any], depth: int) -> None:
        nested = {k: v for k, v in table.items() if isinstance(v, Mapping) and depth < 2}
        plain = {k: v for k, v in table.items() if k not in nested}
        if plain or not nested:
            lines.append(f"[{prefix}]")
            lines.extend(f"{_key(k)} = {_value(v)}" for k, v in plain.items())
            lines.append("")
        for name, value in nested.items():
            section(f"{prefix}.{_key(name)}", value, depth + 1)

    for name, value in document.items():
        section(_key(name), value, 1)
    return "\n".join(lines)


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # JSON's escapes (\\, \", \uXXXX) are TOML basic-string escapes too.
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return repr(value)
