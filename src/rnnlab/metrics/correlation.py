"""Rank and linear correlation: Spearman's rho and Pearson's r, pure functions of two lists.

Spearman's rho is Pearson's r of the ranks, tied values sharing the mean of the ranks they
span (what ``scipy.stats.spearmanr`` computes):

    r = sum_i (x_i - mean x)(y_i - mean y) / sqrt(sum_i (x_i - mean x)^2 sum_i (y_i - mean y)^2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["pearson", "ranks", "spearman"]


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks of ``values`` (N,), ties sharing their mean rank: [10, 20, 20] -> [1, 2.5,
    2.5]."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        mean_rank = (start + end) / 2 + 1
        for k in range(start, end + 1):
            out[order[k]] = mean_rank
        start = end + 1
    return out


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r of two equally long lists (N >= 2); nan when either is constant.

    Raises:
        ValueError: different lengths, or fewer than two values.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    if len(x) < 2:
        raise ValueError(f"a correlation needs at least 2 pairs, got {len(x)}")
    mx, my = sum(x) / len(x), sum(y) / len(y)
    dx, dy = [a - mx for a in x], [b - my for b in y]
    # r = sum dx dy / sqrt(sum dx^2 sum dy^2)
    den = math.sqrt(sum(a * a for a in dx) * sum(b * b for b in dy))
    return sum(a * b for a, b in zip(dx, dy, strict=True)) / den if den > 0 else math.nan


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: Pearson's r of the (tie-averaged) ranks of ``x`` and ``y``."""
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    return pearson(ranks(x), ranks(y))
