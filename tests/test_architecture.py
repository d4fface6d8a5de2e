"""The import graph: data flows one way, and each layer imports only those below it.

    gateway.domain   the person, records, keys, federation: imports no project code
    gateway.telemetry  metrics and traces, recorded from every layer: the domain only
    connectors       provider clients: the domain only
    gateway.store    identities and the record cache: the domain only
    resolvers        runtime < services < types < query, mutation < schema
    gateway          the app, configuration and CLI: everything above
    sandbox, bench   beside the product: production code imports them only from
                     the CLI, inside the function that runs the sandbox or the bench

Imports are read from the source with `ast`, module-level and function-level
alike, so an import hidden in a function counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "connectors", "resolvers", "sandbox", "bench")


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(imported module, whether the import is at module level) for one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    # `if TYPE_CHECKING:` blocks at module level count as module level.
    for node in tree.body:
        if isinstance(node, ast.If):
            top.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, id(node) in top
            for alias in node.names:
                yield f"{node.module}.{alias.name}", id(node) in top


GRAPH: dict[str, list[tuple[str, bool]]] = {
    name: [(target, top) for target, top in imports(path) if target.split(".")[0] in PACKAGES]
    for name, path in modules()
}
KNOWN = set(GRAPH)


def layer(module: str) -> str:
    """The layer a module belongs to (the most specific prefix below)."""
    for prefix in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return module.split(".")[0]


# Lowest first: a module may import its own layer and any layer before it.
LAYERS = (
    "gateway.domain",
    "gateway.telemetry",
    "connectors",
    "gateway.store",
    "resolvers.runtime",
    "resolvers.services",
    "resolvers.types",
    "resolvers.query",
    "resolvers.mutation",
    "resolvers.schema",
    "gateway",
)
# Layers that are not above each other although they come later in LAYERS.
SIBLINGS = {frozenset({"resolvers.query", "resolvers.mutation"})}


def resolved(target: str) -> str | None:
    """The project module an import names (`pkg.mod.Name` -> `pkg.mod`), if any."""
    while target and target not in KNOWN:
        target = target.rpartition(".")[0]
    return target or None


def edges() -> Iterator[tuple[str, str, bool]]:
    for source, targets in GRAPH.items():
        for target, top in targets:
            module = resolved(target)
            if module is not None and module != source:
                yield source, module, top


def test_each_layer_imports_only_layers_below_it() -> None:
    upward = []
    for source, target, _ in edges():
        a, b = layer(source), layer(target)
        if a not in LAYERS or b not in LAYERS or a == b:
            continue
        if LAYERS.index(b) > LAYERS.index(a) or frozenset({a, b}) in SIBLINGS:
            upward.append(f"{source} -> {target}")
    assert upward == []


def test_there_is_no_cycle_between_layers() -> None:
    graph: dict[str, set[str]] = {}
    for source, target, top in edges():
        if top and layer(source) != layer(target):
            graph.setdefault(layer(source), set()).add(layer(target))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [a for a in graph if reaches(a, a, {a})] == []


def test_the_sandbox_is_written_from_the_documents_alone() -> None:
    # The emulators never import the connectors (or the gateway): each side is written
    # from docs/providers, so a misreading cannot hide by agreeing with itself.
    crossing = [
        f"{s} -> {t}"
        for s, t, _ in edges()
        if s.startswith("sandbox") and not t.startswith("sandbox")
    ]
    assert crossing == []


@pytest.mark.parametrize("side", ["sandbox", "bench"])
def test_production_code_loads_sandbox_and_bench_only_from_the_cli_when_run(side: str) -> None:
    production = ("gateway", "connectors", "resolvers")
    found = [
        (s, t, top)
        for s, t, top in edges()
        if s.split(".")[0] in production and t.split(".")[0] == side
    ]
    assert all(s == "gateway.cli" and not top for s, _, top in found), found


def test_mutations_do_not_import_queries() -> None:
    assert not any(s == "resolvers.mutation" and t == "resolvers.query" for s, t, _ in edges())
