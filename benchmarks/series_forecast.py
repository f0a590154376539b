"""Forecasting: rnnlab's forecaster against seasonal naive, ETS and SARIMA on three series.

    python benchmarks/series_forecast.py [--series airline-passengers,...] [--only peers|ours]

Each series' last H points are held out (airline: the last 12 months, sunspots: the last 120
months, Melbourne temperatures: the last 365 days); every method sees only the points before
them, and every method is scored on the same H points in the series' units (RMSE, MAE, sMAPE,
MASE scaled by the training part's in-sample seasonal-naive MAE).

Peers (statsmodels, a benchmark-only dependency: ``pip install -e '.[bench]'``):

- seasonal naive: the last observed season repeated.
- ETS: Holt-Winters exponential smoothing (``statsmodels.tsa.holtwinters.ExponentialSmoothing``),
  the trend (none, additive, additive damped) and season (none, additive, multiplicative when the
  series is positive) chosen by AIC on the training part.
- SARIMA: ``SARIMAX`` with (p, d, q) in {0,1,2} x {0,1} x {0,1,2} and seasonal (P, D, Q)_m in
  {(0,0,0), (0,1,1), (1,0,0)}, chosen by AIC on the training part. For m > 52 (the daily series,
  m = 365) a seasonal ARMA at lag 365 is out of reach of a state-space fit (365+ states), so the
  season enters as K Fourier pairs, K in {1, 2, 3}, as regressors beside an ARIMA(p, d, q) error
  (dynamic harmonic regression, Hyndman & Athanasopoulos, FPP3 s. 10.5), K chosen by AIC too.
  On the airline series SARIMA and ETS see log(y) where ours does (``log`` below), so the
  classic airline model (0,1,1)(0,1,1)_12 is in the grid as Box & Jenkins fitted it.

Ours: ``rnnlab train forecast`` with the settings in :data:`OURS` (an ensemble of ``--members``
networks trained side by side, its forecast their mean), early stopping on the last H points of
the training part (with ``refit``: then trained afresh on all of it for the best epoch's number
of epochs), each training within ``--max-minutes``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_name  # noqa: E402
from rnnlab.data.timeseries import load_time_series  # noqa: E402
from rnnlab.metrics.forecast import forecast_scores, seasonal_naive  # noqa: E402

HORIZONS = {"airline-passengers": 12, "monthly-sunspots": 120, "daily-min-temperatures": 365}
# our settings per series (rnnlab train forecast's options; the rest at their defaults)
OURS = {
    "airline-passengers": dict(kind="seq2seq", window=36, log=True, seasonal_diff=True),
    "monthly-sunspots": dict(window=240, batch_size=64),
    "daily-min-temperatures": dict(window=120, harmonics=3, dropout=0.3, batch_size=64, refit=True),
}


def ets(train: np.ndarray, h: int, m: int) -> np.ndarray:
    """Holt-Winters, trend and season chosen by AIC on ``train``."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasons = [None, "add"] + (["mul"] if train.min() > 0 else [])
    best = None
    for trend, damped in ((None, False), ("add", False), ("add", True)):
        for seasonal in seasons if m > 1 else [None]:
            try:
                fit = ExponentialSmoothing(train, trend=trend, damped_trend=damped,
                                           seasonal=seasonal,
                                           seasonal_periods=m if seasonal else None,
                                           initialization_method="estimated").fit()  # fmt: skip
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fit.aic) and (best is None or fit.aic < best[0]):
                best = (fit.aic, fit, (trend, damped, seasonal))
    print(f"    ETS chosen: trend={best[2][0]} damped={best[2][1]} season={best[2][2]}")
    return np.asarray(best[1].forecast(h))


def fourier(t: np.ndarray, m: int, k: int) -> np.ndarray:
    """(len(t), 2k) sin/cos pairs of the season m at time indices t."""
    cols = [f(2 * math.pi * j * t / m) for j in range(1, k + 1) for f in (np.sin, np.cos)]
    return np.stack(cols, axis=1)


def sarima(train: np.ndarray, h: int, m: int) -> np.ndarray:
    """SARIMA (or ARIMA + Fourier terms for m > 52), the order chosen by AIC on ``train``."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    n = len(train)
    if m > 52:
        seasonal_options = [((0, 0, 0, 0), k) for k in (1, 2, 3)]
    elif m > 1:
        seasonal_options = [((0, 0, 0, 0), 0), ((0, 1, 1, m), 0), ((1, 0, 0, m), 0)]
    else:
        seasonal_options = [((0, 0, 0, 0), 0)]
    best = None
    for (p, d, q), (sorder, k) in itertools.product(
        itertools.product((0, 1, 2), (0, 1), (0, 1, 2)), seasonal_options
    ):
        exog = fourier(np.arange(n), m, k) if k else None
        try:
            trend = "c" if d == 0 and sorder[1] == 0 else None
            model = SARIMAX(train, exog=exog, order=(p, d, q), seasonal_order=sorder, trend=trend)
            fit = model.fit(disp=False)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fit.aic) and (best is None or fit.aic < best[0]):
            best = (fit.aic, fit, (p, d, q), sorder, k)
    _, fit, order, sorder, k = best
    fourier_note = f" + {k} Fourier pairs of {m}" if k else ""
    print(f"    SARIMA chosen: {order}{sorder[:3]}_{sorder[3] or m}{fourier_note}")
    exog = fourier(np.arange(n, n + h), m, k) if k else None
    return np.asarray(fit.forecast(h, exog=exog))


def ours(name: str, h: int, members: int, minutes: float, out: Path) -> np.ndarray:
    """The point forecast of an ensemble of ``members`` trained with OURS[name]."""
    from rnnlab.models.forecast import ForecastConfig
    from rnnlab.tasks.forecast import ForecastJob, train_forecast
    from rnnlab.train import TrainConfig

    settings = {"batch_size": 32, "refit": False, **OURS[name]}
    model = {k: v for k, v in settings.items() if k not in ("batch_size", "refit")}
    job = ForecastJob(data=name, out=str(out / name), batch_size=settings["batch_size"],
                      refit=settings["refit"],
                      model=ForecastConfig(horizon=h, members=members, **model),
                      train=TrainConfig(epochs=200, lr=3e-3, monitor="loss", mode="min",
                                        clip_norm=1.0, patience=25, max_minutes=minutes,
                                        progress=False))  # fmt: skip
    result = train_forecast(job)
    print(f"    ours: {len(result.history)} epochs{' (budget spent)' * result.budget_spent}; "
          f"settings {settings}")  # fmt: skip
    return result.model.forecast(load_time_series(name).values[:-h])["point"].numpy()


def naive_forecast(train: np.ndarray, h: int, m: int) -> np.ndarray:
    return np.asarray(seasonal_naive(train, h, m))


def peer(fn, train: np.ndarray, h: int, m: int, log: bool) -> np.ndarray:
    """``fn(train, h, m)``, on log(train) and exponentiated back when ``log``."""
    return np.exp(fn(np.log(train), h, m)) if log else fn(train, h, m)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--series", default=",".join(HORIZONS), help="comma-separated names")
    p.add_argument("--only", choices=("peers", "ours"), help="run only one side")
    p.add_argument("--members", type=int, default=3, help="our ensemble's members")
    p.add_argument("--max-minutes", type=float, default=4.0, help="our training budget per run")
    p.add_argument("--out", default="runs/bench_forecast", help="our runs' directory")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("RNNLAB_THREADS", "1")))
    import statsmodels.tsa.holtwinters  # noqa: F401  (imported before the filter: statsmodels
    import statsmodels.tsa.statespace.sarimax  # noqa: F401  sets its own warning filters)

    warnings.filterwarnings("ignore")  # statsmodels' convergence chatter
    print(f"CPU: {cpu_name()}; torch threads {torch.get_num_threads()}")
    for name in args.series.split(","):
        s = load_time_series(name)
        h, m = HORIZONS[name], s.season
        y = s.values.numpy()
        train, truth = y[:-h], y[-h:]
        log = OURS[name].get("log", False)
        print(f"\n{name}: {len(y)} {s.frequency} points, last {h} held out, season {m}"
              f"{', peers fitted on log(y)' if log else ''}")  # fmt: skip
        methods = {"seasonal naive": partial(naive_forecast, train, h, m)}
        if args.only != "ours":
            methods |= {"ETS": partial(peer, ets, train, h, m, log),
                        "SARIMA": partial(peer, sarima, train, h, m, log)}  # fmt: skip
        if args.only != "peers":
            run = partial(ours, name, h, args.members, args.max_minutes, Path(args.out))
            methods[f"ours (x{args.members})"] = run
        print(f"  {'method':<18} {'RMSE':>9} {'MAE':>9} {'sMAPE':>7} {'MASE':>6} {'wall s':>7}")
        rows = {}
        for label, fn in methods.items():
            t0 = time.perf_counter()
            f = fn()
            wall = time.perf_counter() - t0
            sc = forecast_scores(truth, f, train, m)
            rows[label] = sc
            print(f"  {label:<18} {sc['rmse']:9.3f} {sc['mae']:9.3f} {sc['smape']:7.2f} "
                  f"{sc['mase']:6.3f} {wall:7.1f}", flush=True)  # fmt: skip
        if len(rows) > 1:
            base = rows["seasonal naive"]["rmse"]
            for label, sc in rows.items():
                if label != "seasonal naive":
                    print(f"  {label}: RMSE {1 - sc['rmse'] / base:.1%} below seasonal naive's")


if __name__ == "__main__":
    main()
