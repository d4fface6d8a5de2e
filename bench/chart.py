"""Charts of a benchmark's figures, drawn with matplotlib (no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit

from matplotlib import pyplot

COLOURS = {"contact-gateway": "#2f6db5", "hive": "#9a9a9a"}


def side_by_side(
    medians: Mapping[str, Mapping[str, float]],
    fanout_p50: Mapping[str, float],
    path: Path,
    *,
    latency_ms: float,
) -> None:
    """Four panels, one bar per gateway each: req/s, p50 and p99 at 32 clients, CPU per
    request, and p50 at one client with providers answering after `latency_ms`."""
    names = list(medians)
    panels = [
        ("requests/s (32 clients)", [medians[n]["rps"] for n in names], "{:.0f}"),
        ("p50 / p99 latency, ms (32 clients)", None, "{:.0f}"),
        ("gateway CPU per request, ms", [medians[n]["cpu_ms"] for n in names], "{:.2f}"),
        (
            f"p50, ms (1 client, providers at {latency_ms:.0f} ms)",
            [fanout_p50[n] for n in names],
            "{:.1f}",
        ),
    ]
    figure, axes = pyplot.subplots(1, len(panels), figsize=(13, 3.4))
    colours = [COLOURS.get(n, "#555555") for n in names]
    for axis, (title, values, label) in zip(axes, panels, strict=True):
        axis.set_title(title, fontsize=10)
        axis.spines[["top", "right"]].set_visible(False)
        if values is None:  # p50 and p99 side by side per gateway
            width = 0.38
            positions = range(len(names))
            for offset, key, alpha in ((-width / 2, "p50", 1.0), (width / 2, "p99", 0.55)):
                heights = [medians[n][key] for n in names]
                bars = axis.bar(
                    [p + offset for p in positions], heights, width, color=colours, alpha=alpha
                )
                axis.bar_label(bars, [f"{key} {label.format(v)}" for v in heights], fontsize=8)
            axis.set_xticks(list(positions), names, fontsize=9)
            continue
        bars = axis.bar(names, values, color=colours)
        axis.bar_label(bars, [label.format(v) for v in values], fontsize=9)
        axis.tick_params(axis="x", labelsize=9)
    figure.suptitle(
        "contact(email:) merged over Adaptix, Trustmary and Lunar Send, one worker each",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
