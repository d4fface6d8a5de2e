"""Percentiles and medians, without numpy: a benchmark must not need more than the gateway."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def percentile(values: Iterable[float], q: float) -> float:
    """The `q`-th percentile (0..100) by linear interpolation between closest ranks.

    The same definition as numpy's default, so p50 of an even count is the mean
    of the two middle values.

    Raises:
        ValueError: `values` is empty or `q` is outside 0..100.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    """The median (p50)."""
    return percentile(values, 50)


def medians(runs: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per key, the median over the runs that measured it (a run may lack a key)."""
    keys: dict[str, None] = {}
    for run in runs:
        keys.update(dict.fromkeys(run))
    return {key: median(run[key] for run in runs if key in run) for key in keys}
