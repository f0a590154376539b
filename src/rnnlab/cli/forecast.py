"""rnnlab train forecast, rnnlab forecast, and rnnlab evaluate for a forecaster."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from rnnlab.cli.common import (
    TaskCLI,
    UsageError,
    add_training_args,
    as_usage_error,
    load_model,
    positive_int,
    print_saved,
    register,
    run_training,
    train_config,
)

METRICS = ("rmse", "mae", "smape", "mase")


def add_train(sub) -> None:
    """``rnnlab train forecast``."""
    p = sub.add_parser(
        "forecast",
        help="time-series forecasting: H steps ahead from a window of the past, with intervals",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", default="airline-passengers",
                   help="a CSV file (a date/time column, then value columns) or a registered "
                        "series: airline-passengers, daily-min-temperatures, monthly-sunspots "
                        "(with or without .csv)")  # fmt: skip
    g.add_argument("--target", help="the value column (if not given: the first after the date)")
    g.add_argument("--horizon", type=positive_int, default=12,
                   help="steps forecast at once; the last HORIZON points are held out")  # fmt: skip
    g.add_argument("--season", type=positive_int, metavar="M",
                   help="seasonal period (if not given, the frequency's: monthly 12, daily 365, "
                        "hourly 24 ...)")  # fmt: skip
    g.add_argument("--rolling", type=positive_int, default=1, metavar="K",
                   help="K forecast origins one step apart (the test part is the last "
                        "HORIZON + K - 1 points)")  # fmt: skip
    g = p.add_argument_group("transform (fitted on the training part only)")
    g.add_argument("--log", action="store_true", help="model log(y) (y must be > 0)")
    g.add_argument("--diff", action="store_true", help="model first differences")
    g.add_argument("--seasonal-diff", action="store_true",
                   help="model differences at the seasonal lag M")  # fmt: skip
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=("direct", "seq2seq"), default="direct",
                   help="direct: a linear head emits all steps; seq2seq: a decoder fed its "
                        "previous output")  # fmt: skip
    g.add_argument("--window", type=positive_int, default=24, help="past values read")
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="cell")
    g.add_argument("--layers", type=positive_int, default=1, help="stacked layers")
    g.add_argument("--hidden", type=positive_int, default=64, help="hidden units")
    g.add_argument("--dropout", type=float, default=0.1, help="dropout before the output layer")
    g.add_argument("--interval", choices=("quantile", "mc-dropout"), default="quantile",
                   help="prediction intervals from quantile (pinball) outputs or Monte-Carlo "
                        "dropout")  # fmt: skip
    g.add_argument("--coverage", type=float, default=0.8, help="the interval's coverage")
    g.add_argument("--harmonics", type=int, default=0, metavar="J",
                   help="direct model: emit the horizon as a smooth basis (a quadratic trend and "
                        "J harmonics of the season) instead of one free output per step; 0: "
                        "free")  # fmt: skip
    g.add_argument("--members", type=positive_int, default=1,
                   help="an ensemble of this many independently initialised networks")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=positive_int, default=32, help="windows per batch")
    g.add_argument("--valid-horizons", type=positive_int, default=1, metavar="V",
                   help="early stopping watches the last V horizons of the training part "
                        "(default 1)")  # fmt: skip
    g.add_argument("--refit", action="store_true",
                   help="after early stopping, train afresh on every window (the valid part's "
                        "too) for the best epoch's number of epochs")  # fmt: skip
    add_training_args(g, lr=3e-3, out="runs/forecast", epochs=200, clip=1.0, patience=25)
    p.set_defaults(func=cmd_train_forecast)


def cmd_train_forecast(args) -> int:
    from rnnlab.models.forecast import ForecastConfig
    from rnnlab.tasks.forecast import ForecastJob, train_forecast

    with as_usage_error():
        job = ForecastJob(
            data=args.data, target=args.target, out=args.out, season=args.season,
            rolling=args.rolling, valid_horizons=args.valid_horizons,
            batch_size=args.batch_size, refit=args.refit,
            model=ForecastConfig(
                horizon=args.horizon, window=args.window, season=args.season,
                kind=args.model, cell=args.cell, hidden_size=args.hidden, num_layers=args.layers,
                dropout=args.dropout, interval=args.interval, coverage=args.coverage,
                members=args.members, harmonics=args.harmonics, log=args.log, diff=args.diff,
                seasonal_diff=args.seasonal_diff),
            train=train_config(args, monitor="loss", mode="min"),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_forecast, job, args.out)
    if result is None:
        return 130
    print_scores(result.scores, result.model)
    print_saved(args.out, "config.json, history.json, run.json, scores.json")
    return 0


def print_scores(scores: dict, model, points: int | None = None) -> None:
    """The table of the model's and the seasonal naive's RMSE, MAE, sMAPE and MASE."""
    h = model.history or {}
    where = f" on {points} held-out points" if points else ""
    print(f"{h.get('name', 'series')} ({h.get('target', '')}), horizon {model.config.horizon}, "
          f"season {model.config.season}{where}:")  # fmt: skip
    print(f"  {'':<15} {'RMSE':>10} {'MAE':>10} {'sMAPE %':>8} {'MASE':>7}")
    for label, key in (("model", "model"), ("seasonal naive", "seasonal_naive")):
        s = scores[key]
        print(f"  {label:<15} {s['rmse']:10.4g} {s['mae']:10.4g} {s['smape']:8.2f} "
              f"{s['mase']:7.3f}")  # fmt: skip


def _series(model, data: str | None):
    """(dates, values (N,), origins, train_end, name): the model's own series, or ``data``
    read with the model's target column and cut at the same horizon and number of origins."""
    import torch

    from rnnlab.data.timeseries import load_time_series
    from rnnlab.tasks.forecast import origins_of

    h = model.history
    if data is None:
        if h is None:
            raise UsageError("this model holds no series (no history.json): give --data FILE")
        return (h["dates"], torch.tensor(h["values"], dtype=torch.float64), h["origins"],
                h["train_end"], h["name"])  # fmt: skip
    target = h.get("target") if h else None
    with as_usage_error():
        try:
            s = load_time_series(data, target)
        except ValueError as e:
            if target is None:
                raise
            raise UsageError(f"{e} (the model was trained on column {target!r})") from e
        rolling = len(h["origins"]) if h else 1
        origins = origins_of(len(s), model.config.horizon, rolling)
    return s.dates, s.values, origins, origins[0], s.name


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a forecaster: the model and seasonal naive on the held-out
    horizon(s) of its own series, or of ``--data``."""
    from rnnlab.tasks.forecast import evaluate_origins

    _, values, origins, train_end, _ = _series(model, args.data)
    with as_usage_error():
        result = evaluate_origins(model, values, origins, train_end, model.config.season)
    print_scores(result, model, result["points"])
    return 0


def add_forecast(sub) -> None:
    """``rnnlab forecast RUN --steps N --out f.csv``."""
    p = sub.add_parser("forecast", help="forecast with a trained forecaster (CSV + PNG)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train forecast")
    p.add_argument("--steps", type=positive_int, help="steps (if not given: the horizon)")
    p.add_argument("--out", default="forecast.csv",
                   help="the CSV to write (date, forecast, lo, hi, truth); the plot goes beside "
                        "it as .png")  # fmt: skip
    p.add_argument("--data", help="the series (if not given: the one the model was trained on)")
    p.add_argument("--from-end", action="store_true",
                   help="forecast past the last date (else from the start of the held-out part, "
                        "beside the truth)")  # fmt: skip
    p.add_argument("--samples", type=positive_int, default=200,
                   help="Monte-Carlo dropout draws (interval mc-dropout)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="the draws' seed")
    p.set_defaults(func=cmd_forecast)


def cmd_forecast(args) -> int:
    from rnnlab.data.timeseries import future_dates
    from rnnlab.inspect.forecast_plot import plot_forecast
    from rnnlab.metrics.forecast import seasonal_naive

    model = load_model(args.model_dir, "forecast")
    c = model.config
    steps = args.steps or c.horizon
    if steps > c.horizon:
        raise UsageError(f"this model forecasts at most {c.horizon} steps (its horizon); train "
                         f"one with --horizon {steps} for more")  # fmt: skip
    dates, values, origins, _, name = _series(model, args.data)
    origin = len(values) if args.from_end else origins[0]
    with as_usage_error():
        f = model.forecast(values[:origin], samples=args.samples, seed=args.seed)
        naive = seasonal_naive(values[:origin], steps, c.season)
        when = future_dates(dates[:origin], steps)
    truth = values[origin : origin + steps].tolist()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "forecast", "lo", "hi", "seasonal_naive", "truth"])
        for i in range(steps):
            row = [f["point"][i], f["lo"][i], f["hi"][i], naive[i]]
            w.writerow([when[i], *(f"{float(v):.6g}" for v in row),
                        f"{truth[i]:.6g}" if i < len(truth) else ""])  # fmt: skip
    shown = max(4 * steps, 3 * c.season if c.season < 200 else 2 * c.season, c.window)
    start = max(0, origin - shown)
    target = (model.history or {}).get("target", "")
    png = plot_forecast(out.with_suffix(".png"), dates[start:origin], values[start:origin].tolist(),
                        when, f["point"][:steps].tolist(), f["lo"][:steps].tolist(),
                        f["hi"][:steps].tolist(), truth, naive, c.coverage,
                        title=f"{name}: {steps} steps from {dates[origin - 1]} ({c.kind} "
                              f"{c.cell.upper()}, {c.interval} interval)",
                        ylabel=target)  # fmt: skip
    print(f"wrote {out} ({steps} steps from {dates[origin - 1]}, {c.coverage:.0%} interval) "
          f"and {png}")  # fmt: skip
    return 0


TASK = register(TaskCLI(
    "forecast", "a forecaster", "rnnlab forecast", cmd_evaluate,
    "optional --data: a CSV of the same column (default: the series it was trained on); the "
    "model's and the seasonal-naive forecast's RMSE, MAE, sMAPE and MASE on the held-out last "
    "horizon(s)", data_optional=True,
))  # fmt: skip
