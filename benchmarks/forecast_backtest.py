"""Backtest: would honest validation have told the forecaster to shrink toward its zero output?

    python benchmarks/forecast_backtest.py [--series airline-passengers] [--years 3]
                                           [--seeds 0,1,2] [--valid-horizons 1,2]

A forecaster working on log + seasonal differences, scaled (as benchmarks/series_forecast.py's
airline model does), forecasts the seasonal-naive forecast on the log scale plus the training
years' mean growth when its network outputs z = 0: its "zero output". On the airline test year
(1960) that zero output beats SARIMA and the trained network loses to it. This script asks
whether anything the training part can see points that way: it cuts the series k = years .. 0
horizons before its end, trains ours (3 members, early stopping on the last V horizons of what
is left) on each cut, and prints, per held-out horizon, the RMSE of the network's forecast and
of the same model's zero output on it. k = 0 is the real test horizon; k >= 1 are backtests a
user could run without looking at the test part.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_name  # noqa: E402
from rnnlab.data.timeseries import load_time_series  # noqa: E402
from rnnlab.models.forecast import ForecastConfig  # noqa: E402
from rnnlab.tasks.forecast import ForecastJob, train_forecast  # noqa: E402
from rnnlab.train import TrainConfig  # noqa: E402
from series_forecast import HORIZONS, OURS  # noqa: E402


def rmse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a.double() - b.double()) ** 2).mean().sqrt())


def cut_csv(dates: list[str], values: list[float], end: int, path: Path) -> str:
    """The series' first ``end`` points as a CSV at ``path``."""
    lines = ["date,value"] + [f"{d},{v!r}" for d, v in zip(dates[:end], values[:end], strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--series", default="airline-passengers", choices=tuple(HORIZONS))
    p.add_argument("--years", type=int, default=3, help="backtest horizons before the test one")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--valid-horizons", default="1,2", help="V values to compare")
    p.add_argument("--members", type=int, default=3)
    p.add_argument("--out", default="runs/bench_backtest")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("RNNLAB_THREADS", "1")))
    s = load_time_series(args.series)
    y, H = s.values, HORIZONS[args.series]
    settings = {k: v for k, v in OURS[args.series].items() if k not in ("batch_size", "refit")}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"CPU: {cpu_name()}; torch threads {torch.get_num_threads()}; {args.series}, horizon "
          f"{H}, {args.members} members, settings {settings}")  # fmt: skip
    seeds = [int(x) for x in args.seeds.split(",")]
    vs = [int(x) for x in args.valid_horizons.split(",")]
    cols = [f"V={v} s{sd}" for v in vs for sd in seeds]
    print(f"{'held out':<22} {'zero':>7} " + " ".join(f"{c:>8}" for c in cols))
    t0 = time.perf_counter()
    for k in range(args.years, -1, -1):
        end = len(y) - k * H
        data = cut_csv(s.dates, y.tolist(), end, out / f"cut{k}.csv")
        hist, truth = y[: end - H], y[end - H : end]
        row, zero = [], None
        for v in vs:
            for sd in seeds:
                job = ForecastJob(data=data, out=str(out / f"k{k}_v{v}_s{sd}"), valid_horizons=v,
                                  model=ForecastConfig(horizon=H, members=args.members, **settings),
                                  train=TrainConfig(epochs=200, lr=3e-3, monitor="loss",
                                                    mode="min", clip_norm=1.0, patience=25,
                                                    progress=False, seed=sd))  # fmt: skip
                model = train_forecast(job).model
                row.append(rmse(model.forecast(hist)["point"], truth))
                # the zero output: z = 0 at every step, inverted onto the history
                zero = rmse(model.transform.invert(hist, torch.zeros(1, H))[0], truth)
        label = f"{s.dates[end - H]}..{s.dates[end - 1]}" + (" (test)" if k == 0 else "")
        print(f"{label:<22} {zero:7.2f} " + " ".join(f"{r:8.2f}" for r in row), flush=True)
    print(f"wall {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
