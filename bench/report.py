"""Figures and how they are shown: one text table, and the same as JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Op = Literal["<=", ">="]


@dataclass(frozen=True, slots=True)
class Target:
    """What a figure should reach: `ratio <= limit` or `ratio >= limit` (or on the value).

    Args:
        op: "<=" or ">=".
        limit: the bound.
        text: how the target reads in the table, e.g. "p50 <= 1.15 x 50 ms".
        on: whether `limit` applies to the figure's "ratio" or its "value".
    """

    op: Op
    limit: float
    text: str
    on: Literal["ratio", "value"] = "ratio"

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        measured = ratio if self.on == "ratio" else value
        if measured is None:
            return None
        return measured <= self.limit if self.op == "<=" else measured >= self.limit


@dataclass(frozen=True, slots=True)
class Figure:
    """One reported figure.

    Args:
        name: a stable dotted name, e.g. `fanout.p50_ms`.
        value: the median over runs.
        unit: "ms", "calls", "req/s", "MB", ...
        target: what it should reach, when the issue sets one.
        ratio: the figure against its reference (e.g. p50 / 50 ms, calls / lower bound).
        note: one short line that helps read the value.
    """

    name: str
    value: float | None
    unit: str
    target: Target | None = None
    ratio: float | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        return self.target.met(self.value, self.ratio) if self.target else None


@dataclass
class Report:
    """Every figure of a benchmark run, with when and where it ran."""

    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.started.isoformat(timespec="seconds"),
            "machine": machine(),
            "args": self.args,
            "figures": [
                {**asdict(f), "target": asdict(f.target) if f.target else None, "met": f.met}
                for f in self.figures
            ],
            "details": self.details,
        }


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def format_number(value: float | None, unit: str = "") -> str:
    """A value with sensible precision: 3 significant digits below 100, whole above."""
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.0f}%"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def format_ratio(figure: Figure) -> str:
    if figure.ratio is None:
        return "-" if figure.met is None else ("ok" if figure.met else "MISSED")
    if figure.unit == "s" and figure.target:
        text = f"{figure.ratio:.0%}"
    else:
        text = f"{figure.ratio:.2f}"
        if figure.met is False and figure.target and float(text) == figure.target.limit:
            # 1.003 against "<= 1.00" must not read as 1.00.
            text = f"{figure.ratio:.3f}"
    if figure.met is True:
        return f"{text} ok"
    if figure.met is False:
        return f"{text} MISSED"
    return text


def table(figures: Sequence[Figure], *, markdown: bool = False) -> str:
    """The figures as one table: figure, value, target, ratio (and a note column if any)."""
    header = ["figure", "value", "target", "ratio"]
    rows = [
        [
            f.name,
            format_number(f.value, f.unit),
            f.target.text if f.target else "-",
            format_ratio(f),
        ]
        for f in figures
    ]
    notes = [f.note for f in figures]
    if any(notes):
        header.append("note")
        for row, note in zip(rows, notes, strict=True):
            row.append(note)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {1, 3}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def write_json(report: Report, path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(report.as_json(), out, indent=2, default=str)
        out.write("\n")


def load_figures(document: Mapping[str, Any]) -> list[Figure]:
    """Figures back from `Report.as_json()` (to render a saved run again)."""
    figures = []
    for item in document["figures"]:
        target = item.get("target")
        figures.append(
            Figure(
                name=item["name"],
                value=item["value"],
                unit=item["unit"],
                target=Target(**target) if target else None,
                ratio=item.get("ratio"),
                note=item.get("note", ""),
            )
        )
    return figures
