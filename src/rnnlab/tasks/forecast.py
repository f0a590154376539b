"""Time-series forecasting end to end: a CSV in, a saved forecaster and its test scores out.

The series y (N,) is cut at forecast origins. With K rolling origins (default 1) the test part
is the last H + K - 1 points and origin k (0-based) forecasts the H points from
o_k = N - H - K + 1 + k; K = 1 holds out exactly the last H points. Everything before o_0 is the
training part, and only it is seen by the transform's scaler and by training:

    y[:o_0]  --fit-->  SeriesTransform (log, differencing, mu, sigma)  -->  z (o_0 - offset,)
    windows of z:  inputs z[s : s+W], targets z[s+W : s+W+H]
    valid: the V H windows whose targets end in the last V H points of the training part
           (V = valid_horizons, default 1: the last horizon before the test part)
    train: every window whose targets end before those points
    Trainer (early stopping on the valid MSE of z) -> runs/NAME/

At each test origin the forecaster reads the history y[:o_k] (observations only, never its own
forecasts) and is scored, beside the seasonal-naive forecast of the same history, on the same
points in the series' units: RMSE, MAE, sMAPE and MASE (scaled by the training part's
in-sample seasonal-naive MAE).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from rnnlab import saved
from rnnlab.data.timeseries import TimeSeries, load_time_series
from rnnlab.errors import InputError
from rnnlab.metrics.forecast import forecast_scores, seasonal_naive
from rnnlab.models.forecast import ForecastConfig, Forecaster, phase_features
from rnnlab.train import TrainConfig, Trainer, save_weights, seed_everything
from rnnlab.train.checkpoint import has_checkpoint
from rnnlab.train.files import atomic_write_text

__all__ = ["ForecastJob", "ForecastResult", "evaluate_origins", "make_windows", "origins_of",
           "series_of", "train_forecast"]  # fmt: skip

logger = logging.getLogger(__name__)


@dataclass
class ForecastJob:
    """Everything ``rnnlab train forecast`` takes. ``model.season`` is replaced by ``season``,
    else kept if set, else the series' default (its frequency's: data.timeseries.SEASONS)."""

    data: str = "airline-passengers"  # a registered series or a CSV file
    target: str | None = None  # the CSV's value column (default: the first after the date)
    out: str = "runs/forecast"
    season: int | None = None  # the seasonal period m; None: the series' frequency's default
    rolling: int = 1  # K forecast origins, one step apart, at the end of the series
    # V: early stopping watches the windows whose targets end in the last V horizons of the
    # training part (more than one: a longer, less noisy valid part, fewer training windows)
    valid_horizons: int = 1
    # after early stopping, train afresh on every window (the valid ones too) for as many epochs
    # as the best valid epoch took: the last H points of the training part become targets too
    refit: bool = False
    batch_size: int = 32
    model: ForecastConfig = field(default_factory=ForecastConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=200, lr=3e-3, monitor="loss", mode="min", clip_norm=1.0, patience=25))  # fmt: skip
    resume: bool = False

    def __post_init__(self) -> None:
        for name in ("rolling", "valid_horizons", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        s = self.season
        if s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 1):
            raise ValueError(f"season must be a positive int, got {s!r}")


@dataclass
class ForecastResult:
    model: Forecaster
    history: list[dict]
    scores: dict[str, dict]  # "model" / "seasonal_naive" -> {"rmse", "mae", "smape", "mase"}
    budget_spent: bool = False


def series_of(job: ForecastJob) -> tuple[TimeSeries, ForecastConfig]:
    """The series and the model config with its season resolved."""
    series = load_time_series(job.data, job.target)
    season = job.season or job.model.season or series.season
    try:
        return series, replace(job.model, season=season)
    except ValueError as e:  # e.g. a seasonal difference of a series whose season is 1
        raise InputError(f"{series.name} ({series.frequency}, season {season}): {e}") from e


def origins_of(n: int, horizon: int, rolling: int) -> list[int]:
    """The K forecast origins of a series of n points: o_k = n - H - K + 1 + k."""
    first = n - horizon - rolling + 1
    if first < 1:
        raise InputError(f"the series has {n} points: too few for {rolling} origin(s) of "
                         f"horizon {horizon}")  # fmt: skip
    return list(range(first, first + rolling))


def make_windows(z: torch.Tensor, offset: int, c: ForecastConfig,
                 valid_horizons: int = 1) -> dict[str, tuple]:  # fmt: skip
    """Training and valid windows of the scaled series z (L,), whose z_i stands for time index
    i + offset: ``{"train": (u (n, W, 1+P), targets (n, H), phase (n, H, P)), "valid": ...}``;
    the valid windows are the V H = ``valid_horizons`` H whose targets end in the last V H
    points."""
    W, H, L = c.window, c.horizon, len(z)
    V = valid_horizons * H  # valid windows
    n = L - W - H + 1  # all windows
    if n - V < 1:
        raise InputError(f"the training part has {L + offset} points, too few for window {W} "
                         f"+ horizon {H} of targets + {V} valid points"
                         f"{f' + {offset} used by differencing' if offset else ''}: give a "
                         "smaller --window or --horizon, or a longer series")  # fmt: skip
    starts = torch.arange(n)
    idx = starts[:, None] + torch.arange(W + H)  # (n, W + H) positions in z
    ph = phase_features(idx + offset, c.season)  # (n, W + H, P)
    zz = z.float()[idx]  # (n, W + H)
    u = torch.cat([zz[:, :W, None], ph[:, :W]], dim=-1)  # (n, W, 1 + P)
    data = (u, zz[:, W:], ph[:, W:])
    cut = n - V  # windows [cut, n) have targets ending in the last V points: valid
    return {"train": tuple(t[:cut] for t in data), "valid": tuple(t[cut:] for t in data)}


def _loader(tensors: tuple, batch_size: int, train: bool, seed: int):
    ds = torch.utils.data.TensorDataset(*tensors)
    g = torch.Generator().manual_seed(seed) if train else None
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=train, generator=g)


def evaluate_origins(model: Forecaster, values: torch.Tensor, origins: list[int],
                     train_end: int, season: int) -> dict:  # fmt: skip
    """Scores of the model and of the seasonal-naive forecast on the same points: at each origin
    o the H values after y[:o] (clipped at the end of the series). values (N,).

    Returns ``{"model": scores, "seasonal_naive": scores, "points": n, "forecasts": [{"origin",
    "point", "lo", "hi", "naive", "truth"} (lists)]}``."""
    truth, ours, naive, forecasts = [], [], [], []
    for o in origins:
        f = model.forecast(values[:o])
        h = min(len(f["point"]), len(values) - o)
        sn = seasonal_naive(values[:o], h, season)
        t = values[o : o + h].tolist()
        truth += t
        ours += f["point"][:h].tolist()
        naive += sn
        forecasts.append({"origin": o, "truth": t, "naive": sn,
                          **{k: v[:h].tolist() for k, v in f.items()}})  # fmt: skip
    train = values[:train_end]
    return {"model": forecast_scores(truth, ours, train, season),
            "seasonal_naive": forecast_scores(truth, naive, train, season),
            "points": len(truth), "forecasts": forecasts}  # fmt: skip


def _refit(job: ForecastJob, model: Forecaster, windows: dict, history: list[dict]):
    """A fresh model (same seed) trained on the train and valid windows together for the best
    valid epoch's number of epochs, in ``job.out/refit`` (resumable there); its weights replace
    ``job.out/model.safetensors``. Returns (model, the two phases' history)."""
    best = max((r["epoch"] for r in history if r.get("best")), default=len(history))
    seed_everything(job.train.seed)
    fresh = Forecaster(model.config, model.transform, model.history)
    both = tuple(torch.cat([a, b]) for a, b in zip(windows["train"], windows["valid"], strict=True))
    out = Path(job.out, "refit")
    config = replace(job.train, epochs=best, patience=None)
    resume = job.resume and has_checkpoint(out / "checkpoint")  # committed, not just begun
    more = Trainer(fresh, config, out).fit(_loader(both, job.batch_size, True, job.train.seed),
                                           None, resume=resume)  # fmt: skip
    save_weights(fresh, Path(job.out, "model.safetensors"))
    return fresh, history + [{**r, "refit": True} for r in more]


def train_forecast(job: ForecastJob) -> ForecastResult:
    """Fit on the training part, keep the best valid epoch, save to ``job.out``, score the test
    origins (model and seasonal naive, see the module) into ``scores.json``."""
    series, config = series_of(job)
    y = series.values
    origins = origins_of(len(y), config.horizon, job.rolling)
    train_end = origins[0]
    seed_everything(job.train.seed)
    model = Forecaster(config)
    model.transform.fit(y[:train_end])  # the scaler sees the training part only
    model.history = {"name": series.name, "target": series.target,
                     "frequency": series.frequency, "dates": series.dates, "values": y.tolist(),
                     "train_end": train_end, "origins": origins}  # fmt: skip
    windows = make_windows(model.transform.apply(y[:train_end]), model.transform.offset, config,
                           job.valid_horizons)  # fmt: skip
    run = {"data": job.data, "target": job.target, "rolling": job.rolling, "refit": job.refit,
           "valid_horizons": job.valid_horizons,
           "batch_size": job.batch_size, "seed": job.train.seed}  # fmt: skip
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    logger.info("%s: %d training windows, %d valid, %d test origin(s)", series.name,
                len(windows["train"][0]), len(windows["valid"][0]), len(origins))  # fmt: skip
    trainer = Trainer(model, job.train, job.out)
    history = trainer.fit(_loader(windows["train"], job.batch_size, True, job.train.seed),
                          _loader(windows["valid"], 256, False, 0), resume=job.resume)  # fmt: skip
    if job.refit and not trainer.budget_spent:
        model, history = _refit(job, model, windows, history)
    model.eval()
    result = evaluate_origins(model, y, origins, train_end, config.season)
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(result, indent=1))
    scores = {k: result[k] for k in ("model", "seasonal_naive")}
    return ForecastResult(model, history, scores, trainer.budget_spent)
