"""Spearman's rho and Pearson's r: hand-computed cases, ties, degenerate inputs, and agreement
with scipy.stats on random inputs."""

import math

import numpy as np
import pytest
from scipy import stats

from rnnlab.metrics.correlation import pearson, ranks, spearman


@pytest.mark.parametrize(
    ("x", "y", "rho"),
    [
        ([1, 2, 3], [10, 20, 30], 1.0),
        ([1, 2, 3], [3, 2, 1], -1.0),
        ([1, 2, 3, 4], [1, 3, 2, 4], 0.8),  # 1 - 6 * 2 / (4 * 15)
        ([1, 2, 2], [1, 2, 3], math.sqrt(3) / 2),  # ranks 1, 2.5, 2.5 against 1, 2, 3
    ],
)
def test_spearman_by_hand(x, y, rho):
    assert spearman(x, y) == pytest.approx(rho)


def test_ranks_share_ties():
    assert ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]


def test_degenerate():
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="at least 2"):
        pearson([1], [1])
    with pytest.raises(ValueError, match="differ in length"):
        spearman([1, 2], [1, 2, 3])


@pytest.mark.parametrize("seed", range(5))
def test_against_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, 40).tolist()  # ties
    y = rng.normal(size=40).tolist()
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
