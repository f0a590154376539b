"""Point-forecast accuracy: RMSE, MAE, sMAPE, MASE, and the seasonal-naive forecast they are
measured against. Pure functions of sequences of floats (lists, tuples, 1-d tensors or arrays).

Symbols: y_t the truth and f_t the forecast at the n scored points; x_1..x_T the training part
(the history a forecaster was fitted on); m the seasonal period (1: not seasonal).

    RMSE  = sqrt( (1/n) sum_t (y_t - f_t)^2 )
    MAE   = (1/n) sum_t |y_t - f_t|
    sMAPE = (100/n) sum_t 2 |y_t - f_t| / (|y_t| + |f_t|)        (percent, in [0, 200];
                                                                   a point with y_t = f_t = 0
                                                                   counts 0)
    MASE  = MAE / q,  q = (1/(T-m)) sum_{t=m+1}^{T} |x_t - x_{t-m}|
                      (the in-sample MAE of the seasonal-naive forecast on the training part:
                       Hyndman & Koehler 2006, "Another look at measures of forecast accuracy")

The seasonal-naive forecast repeats the last observed season, f_{T+h} = x_{T-m+1+((h-1) mod m)}
for h = 1, 2, ... (m = 1: the last value, the naive forecast).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["forecast_scores", "mae", "mase", "mase_scale", "rmse", "seasonal_naive", "smape"]


def _floats(name: str, x) -> list[float]:
    values = [float(v) for v in (x.tolist() if hasattr(x, "tolist") else x)]
    if any(not math.isfinite(v) for v in values):
        raise ValueError(f"{name} holds a value that is not finite")
    return values


def _pair(y_true, y_pred) -> tuple[list[float], list[float]]:
    y, f = _floats("y_true", y_true), _floats("y_pred", y_pred)
    if len(y) != len(f):
        raise ValueError(f"y_true has {len(y)} points, y_pred {len(f)}")
    if not y:
        raise ValueError("no points to score")
    return y, f


def rmse(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Root mean squared error over n points: y_true, y_pred (n,)."""
    y, f = _pair(y_true, y_pred)
    # RMSE = sqrt((1/n) sum_t (y_t - f_t)^2)
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(y, f, strict=True)) / len(y))


def mae(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Mean absolute error over n points: y_true, y_pred (n,)."""
    y, f = _pair(y_true, y_pred)
    # MAE = (1/n) sum_t |y_t - f_t|
    return sum(abs(a - b) for a, b in zip(y, f, strict=True)) / len(y)


def smape(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Symmetric mean absolute percentage error in percent (0..200): y_true, y_pred (n,).

    A point where truth and forecast are both 0 is a perfect forecast and counts 0."""
    y, f = _pair(y_true, y_pred)
    terms = [0.0 if a == b == 0 else 2 * abs(a - b) / (abs(a) + abs(b))
             for a, b in zip(y, f, strict=True)]  # fmt: skip
    # sMAPE = (100/n) sum_t 2 |y_t - f_t| / (|y_t| + |f_t|)
    return 100.0 * sum(terms) / len(y)


def mase_scale(train: Sequence[float], season: int = 1) -> float:
    """q, the in-sample MAE of the seasonal-naive forecast on the training part train (T,).

    Raises ValueError when the training part has no more than ``season`` points or q is 0 (a
    series that repeats its season exactly: MASE is undefined)."""
    x = _floats("train", train)
    if isinstance(season, bool) or not isinstance(season, int) or season < 1:
        raise ValueError(f"season must be a positive int, got {season!r}")
    if len(x) <= season:
        raise ValueError(f"MASE needs more than season={season} training points, got {len(x)}")
    # q = (1/(T-m)) sum_{t=m+1}^{T} |x_t - x_{t-m}|
    q = sum(abs(x[t] - x[t - season]) for t in range(season, len(x))) / (len(x) - season)
    if q == 0:
        raise ValueError(f"MASE is undefined: the training part repeats itself every {season} "
                         "points exactly (its seasonal-naive error is 0)")  # fmt: skip
    return q


def mase(y_true: Sequence[float], y_pred: Sequence[float], train: Sequence[float],
         season: int = 1) -> float:  # fmt: skip
    """Mean absolute scaled error: MAE(y_true, y_pred) / mase_scale(train, season).

    y_true, y_pred (n,); train (T,): the series the forecaster was fitted on, ending where the
    scored points start. Below 1: better than the in-sample seasonal-naive forecast."""
    # MASE = MAE / q
    return mae(y_true, y_pred) / mase_scale(train, season)


def seasonal_naive(history: Sequence[float], steps: int, season: int = 1) -> list[float]:
    """The next ``steps`` values (steps,) of history (T,) if its last season repeated itself:
    f_{T+h} = x_{T-m+1+((h-1) mod m)}."""
    x = _floats("history", history)
    if isinstance(season, bool) or not isinstance(season, int) or season < 1:
        raise ValueError(f"season must be a positive int, got {season!r}")
    if len(x) < season:
        raise ValueError(f"a seasonal-naive forecast needs a whole season ({season} points) of "
                         f"history, got {len(x)}")  # fmt: skip
    last = x[len(x) - season :]  # (m,): the last observed season
    # f_{T+h} = x_{T-m+1+((h-1) mod m)}  (h counted from 0 here)
    return [last[h % season] for h in range(steps)]


def forecast_scores(y_true: Sequence[float], y_pred: Sequence[float], train: Sequence[float],
                    season: int = 1) -> dict[str, float]:  # fmt: skip
    """``{"rmse", "mae", "smape", "mase"}`` of y_pred (n,) against y_true (n,); MASE scaled by
    train (T,) at ``season``."""
    return {
        "rmse": rmse(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "smape": smape(y_true, y_pred),
        "mase": mase(y_true, y_pred, train, season),
    }
