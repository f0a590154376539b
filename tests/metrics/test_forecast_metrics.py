"""rnnlab.metrics.forecast on hand-computed cases, and the seasonal-naive forecast."""

from __future__ import annotations

import math

import pytest
import torch

from rnnlab.metrics.forecast import (
    forecast_scores,
    mae,
    mase,
    mase_scale,
    rmse,
    seasonal_naive,
    smape,
)

# A hand-computed case. Training part x = 1, 3, 2, 5, 4, 6 with season m = 2:
#   |x_t - x_{t-2}| for t = 3..6: |2-1|, |5-3|, |4-2|, |6-5| = 1, 2, 2, 1 -> q = 6 / 4 = 1.5
# truth y = 7, 8, 6 and forecast f = 6, 8, 8: errors 1, 0, -2
#   MAE = 3 / 3 = 1;  MASE = 1 / 1.5 = 2/3;  RMSE = sqrt(5 / 3)
#   sMAPE = 100/3 * (2*1/13 + 0 + 2*2/14) = 100/3 * (0.153846... + 0.285714...) = 14.652...
TRAIN, TRUTH, FORECAST = [1, 3, 2, 5, 4, 6], [7, 8, 6], [6, 8, 8]


def test_the_hand_computed_case():
    assert mase_scale(TRAIN, 2) == pytest.approx(1.5)
    assert mae(TRUTH, FORECAST) == pytest.approx(1.0)
    assert mase(TRUTH, FORECAST, TRAIN, 2) == pytest.approx(2 / 3)
    assert rmse(TRUTH, FORECAST) == pytest.approx(math.sqrt(5 / 3))
    assert smape(TRUTH, FORECAST) == pytest.approx(100 / 3 * (2 / 13 + 4 / 14))
    s = forecast_scores(torch.tensor(TRUTH), torch.tensor(FORECAST), TRAIN, 2)
    assert s == pytest.approx({"rmse": math.sqrt(5 / 3), "mae": 1.0,
                               "smape": 100 / 3 * (2 / 13 + 4 / 14), "mase": 2 / 3})  # fmt: skip


@pytest.mark.parametrize(("y", "f", "expected"), [
    ([0, 0], [0, 0], 0.0),  # both zero: a perfect point, not 0/0
    ([1, -1], [-1, 1], 200.0),  # opposite signs: the maximum
    ([2], [2], 0.0),
])  # fmt: skip
def test_smape_edge_cases(y, f, expected):
    assert smape(y, f) == pytest.approx(expected)


def test_mase_with_season_one_is_scaled_by_the_naive_forecast():
    assert mase_scale([1, 2, 4, 7], 1) == pytest.approx((1 + 2 + 3) / 3)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: rmse([], []), "no points"),
    (lambda: mae([1, 2], [1]), "2 points"),
    (lambda: mase([1], [1], [1, 2], 2), "more than season=2"),
    (lambda: mase_scale([1, 2, 1, 2], 2), "undefined"),
    (lambda: rmse([1, float("nan")], [1, 2]), "not finite"),
    (lambda: seasonal_naive([1, 2], 3, 12), "whole season"),
])  # fmt: skip
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_seasonal_naive_repeats_the_last_season():
    assert seasonal_naive([9, 1, 2, 3, 4], 5, 2) == [3, 4, 3, 4, 3]
    assert seasonal_naive([1, 2, 3], 2, 1) == [3, 3]  # m = 1: the naive forecast
    assert seasonal_naive(torch.arange(24.0), 13, 12) == [*range(12, 24), 12]
