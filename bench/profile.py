"""Where a profiled gateway worker's CPU time goes, by stage.

The worker runs under `bench.profiled`, which switches cProfile on once the
worker is warm and off after the load generator's one-contact queries. Each
function's own time (tottime) is put in a stage by the file it is defined in:

    parsing        graphql-core's lexer and parser
    validation     graphql/validation and the TypeInfo it walks the query with
    execution      the rest of graphql-core and Strawberry, the resolvers, dataloaders
    serialization  JSON encoding of the answer
    provider I/O   connectors, httpx, httpcore, h11, anyio: building provider
                   requests, reading and decoding their answers
    HTTP server    uvicorn, Starlette, Strawberry's HTTP view, the gateway app
    logging        the standard library's logging and the gateway's log format

Functions from the standard library and C builtins (asyncio, json, re,
datetime, ...), and graphql-core's AST visitor and nodes, take the stage of the
functions that called them, weighted by the time each caller spent in them,
so `json.loads` on a provider's answer counts as provider I/O. What stays
unattributed is the event loop itself.
cProfile slows Python code more than C code, so the shares are of profiled
time and are read as proportions, not absolute costs.
"""

from __future__ import annotations

import pstats
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Func = tuple[str, int, str]

STAGES = (
    "parsing",
    "validation",
    "execution",
    "serialization",
    "provider I/O",
    "HTTP server",
    "logging",
    "event loop & other",
)
_OTHER = "event loop & other"
# (path fragment, stage); the first fragment found in a function's file wins.
# None: shared code (the AST visitor, AST nodes) that takes its callers' stage.
_BY_FILE: tuple[tuple[str, str | None], ...] = (
    ("/graphql/language/parser.py", "parsing"),
    ("/graphql/language/lexer.py", "parsing"),
    ("/graphql/language/block_string.py", "parsing"),
    ("/graphql/language/character_classes.py", "parsing"),
    ("/graphql/language/source.py", "parsing"),
    ("/graphql/language/", None),
    ("/graphql/validation/", "validation"),
    ("/graphql/utilities/type_info.py", "validation"),
    ("/json/encoder.py", "serialization"),
    ("/strawberry/http/", "HTTP server"),
    ("/strawberry/asgi/", "HTTP server"),
    ("/graphql/", "execution"),
    ("/strawberry/", "execution"),
    ("/aiodataloader", "execution"),
    ("/resolvers/", "execution"),
    ("/connectors/", "provider I/O"),
    ("/httpx/", "provider I/O"),
    ("/httpcore/", "provider I/O"),
    ("/h11/", "provider I/O"),
    ("/anyio/", "provider I/O"),
    ("/sniffio/", "provider I/O"),
    ("/uvicorn/", "HTTP server"),
    ("/starlette/", "HTTP server"),
    ("/cross_web/", "HTTP server"),
    ("/gateway/logs.py", "logging"),
    ("/logging/__init__.py", "logging"),
    ("/logging/handlers.py", "logging"),
    ("/gateway/", "HTTP server"),
)
_BUILTIN_STAGE: tuple[tuple[str, str], ...] = (("dumps", "serialization"),)
_DEPTH = 8


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """Profiled time by stage, and the functions with the most time of their own."""

    total_s: float
    by_stage: dict[str, float]
    top: list[tuple[str, float, int]]  # (function, own seconds, calls)

    def shares(self) -> dict[str, float]:
        """Each stage's share of the profiled time, 0..1."""
        if self.total_s <= 0:
            return dict.fromkeys(self.by_stage, 0.0)
        return {stage: seconds / self.total_s for stage, seconds in self.by_stage.items()}


def stage_of_file(filename: str) -> str | None:
    """The stage of code defined in `filename`; None for the standard library and builtins."""
    path = filename.replace("\\", "/")
    for fragment, stage in _BY_FILE:
        if fragment in path:
            return stage
    return None


def _label(func: Func) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("site-packages", "main", "lib"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor) :]
            break
    return f"{'/'.join(parts[-3:])}:{line}({name})"


class _Attribution:
    def __init__(self, raw: Mapping[Func, Any]) -> None:
        self.raw = raw
        self.memo: dict[Func, dict[str, float]] = {}

    def own(self, func: Func) -> str | None:
        filename, _, name = func
        if filename == "~":
            for fragment, stage in _BUILTIN_STAGE:
                if fragment in name:
                    return stage
            return None
        return stage_of_file(filename)

    def weights(self, func: Func, depth: int = 0) -> dict[str, float]:
        """The stage mix of a function: its own stage, else its callers' mix (0..1 weights)."""
        stage = self.own(func)
        if stage is not None:
            return {stage: 1.0}
        if func in self.memo:
            return self.memo[func]
        if depth >= _DEPTH:
            return {_OTHER: 1.0}
        self.memo[func] = {_OTHER: 1.0}  # a cycle back here counts as the loop's
        callers = self.raw[func][4] if func in self.raw else {}
        mix: defaultdict[str, float] = defaultdict(float)
        total = 0.0
        for caller, entry in callers.items():
            spent = float(entry[3]) or float(entry[2])
            if spent <= 0:
                continue
            for stage, share in self.weights(caller, depth + 1).items():
                mix[stage] += share * spent
            total += spent
        result = {s: v / total for s, v in mix.items()} if total > 0 else {_OTHER: 1.0}
        self.memo[func] = result
        return result


def summarise_profile(path: str | Path, *, top: int = 12) -> ProfileSummary:
    """Read a cProfile file and put its time into stages."""
    raw: Mapping[Func, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    attribution = _Attribution(raw)
    by_stage: defaultdict[str, float] = defaultdict(float)
    total = 0.0
    for func, (_cc, _nc, tottime, _ct, callers) in raw.items():
        if tottime <= 0:
            continue
        total += tottime
        stage = attribution.own(func)
        if stage is not None:
            by_stage[stage] += tottime
            continue
        # Split a shared helper's own time by what each caller spent in it.
        spent = {c: float(e[2]) for c, e in callers.items() if float(e[2]) > 0}
        whole = sum(spent.values())
        if not spent or whole <= 0:
            by_stage[_OTHER] += tottime
            continue
        for caller, seconds in spent.items():
            for stage, share in attribution.weights(caller).items():
                by_stage[stage] += tottime * (seconds / whole) * share
    ranked = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return ProfileSummary(
        total_s=total,
        by_stage={stage: by_stage[stage] for stage in STAGES},
        top=[(_label(func), float(entry[2]), int(entry[1])) for func, entry in ranked],
    )
