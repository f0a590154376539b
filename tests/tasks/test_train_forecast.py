"""rnnlab.tasks.forecast end to end: a tiny model learns a sine wave, the scaler and the
training never see the test part, a stopped run resumes to the uninterrupted weights, rolling
origins, windows and the too-short error."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import rnnlab
from rnnlab.errors import InputError
from rnnlab.models.forecast import ForecastConfig
from rnnlab.tasks.forecast import ForecastJob, make_windows, origins_of, train_forecast
from rnnlab.train import TrainConfig
from run_files import current_weights


def write_csv(path: Path, values) -> Path:
    rows = [f"{2000 + i // 12}-{i % 12 + 1:02d},{v:.6f}" for i, v in enumerate(values)]
    path.write_text("month,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def sine(n: int = 200, period: float = 16.0) -> list[float]:
    return [math.sin(2 * math.pi * t / period) for t in range(n)]


def job(data: Path, out: Path, epochs: int = 60, seed: int = 0, **model) -> ForecastJob:
    cfg = {"horizon": 8, "window": 16, "hidden_size": 16, "dropout": 0.0, **model}
    return ForecastJob(data=str(data), out=str(out), season=1, batch_size=16,
                       model=ForecastConfig(**cfg),
                       train=TrainConfig(epochs=epochs, lr=1e-2, monitor="loss", mode="min",
                                         clip_norm=1.0, patience=15, seed=seed,
                                         progress=False))  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_tiny_model_learns_a_sine_wave(tmp_path, seed):
    """8 steps of a sine of period 16 from 16 past values: the naive forecast (the last value
    repeated) is off by ~1.06 RMSE; the model gets within a tenth of the amplitude (measured:
    0.036, 0.040, 0.041 for seeds 0, 1, 2, the same with 1 and 2 torch threads)."""
    data = write_csv(tmp_path / "sine.csv", sine(100))
    result = train_forecast(job(data, tmp_path / "run", epochs=25, seed=seed))
    ours, naive = result.scores["model"]["rmse"], result.scores["seasonal_naive"]["rmse"]
    assert naive > 1.0 and ours < 0.1, (ours, naive)


@pytest.mark.parametrize("refit", [False, True])
def test_the_test_part_is_never_seen(tmp_path, refit):
    """The same training part with another test part: the same scaler and the same weights
    (also after a refit on the training part's valid windows)."""
    y = sine(120)
    a = write_csv(tmp_path / "a.csv", y)
    b = write_csv(tmp_path / "b.csv", y[:-8] + [1e4 * (i + 1) for i in range(8)])
    ra = train_forecast(replace(job(a, tmp_path / "ra", epochs=3), refit=refit))
    rb = train_forecast(replace(job(b, tmp_path / "rb", epochs=3), refit=refit))
    assert (tmp_path / "ra" / "refit").is_dir() == refit
    assert sum(bool(r.get("refit")) for r in ra.history) == (len(ra.history) - 3 if refit else 0)
    assert ra.model.transform == rb.model.transform
    assert ra.model.transform.mean == pytest.approx(sum(y[:-8]) / 112)
    wa, wb = current_weights(tmp_path / "ra"), current_weights(tmp_path / "rb")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    sa, sb = rnnlab.load(tmp_path / "ra").state_dict(), rnnlab.load(tmp_path / "rb").state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # the saved (refitted) weights too
    assert all(torch.equal(sa[k], v) for k, v in ra.model.state_dict().items())
    assert rb.scores["model"]["rmse"] > 1e3  # but the test scores do see it


def test_a_stopped_run_resumes_to_the_uninterrupted_weights(tmp_path):
    data = write_csv(tmp_path / "s.csv", sine(100))
    kw = {"dropout": 0.2, "kind": "seq2seq"}
    train_forecast(job(data, tmp_path / "full", epochs=3, **kw))
    train_forecast(job(data, tmp_path / "cut", epochs=1, **kw))
    train_forecast(replace(job(data, tmp_path / "cut", epochs=3, **kw), resume=True))
    a, b = current_weights(tmp_path / "full"), current_weights(tmp_path / "cut")
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(InputError, match="cannot resume"):
        train_forecast(replace(job(data, tmp_path / "cut", epochs=3, window=12), resume=True))


def test_rolling_origins_score_every_horizon(tmp_path):
    data = write_csv(tmp_path / "s.csv", sine(100))
    result = train_forecast(replace(job(data, tmp_path / "r", epochs=1), rolling=3))
    scores = json.loads((tmp_path / "r" / "scores.json").read_text())
    assert [f["origin"] for f in scores["forecasts"]] == [90, 91, 92]
    assert scores["points"] == 24 and len(scores["forecasts"][-1]["truth"]) == 8
    assert result.model.history["train_end"] == 90


def test_windows_and_origins():
    c = ForecastConfig(horizon=3, window=4, season=4)
    w = make_windows(torch.arange(20.0), 0, c)
    # 20 - 4 - 3 + 1 = 14 windows; the last 3 (targets ending in the last 3 points) are valid
    assert w["train"][0].shape == (11, 4, 3) and w["valid"][1].shape == (3, 3)
    assert w["valid"][1][-1].tolist() == [17.0, 18.0, 19.0]
    assert w["train"][1][-1].tolist() == [14.0, 15.0, 16.0]  # never a valid point as a target
    assert origins_of(50, 12, 1) == [38] and origins_of(50, 12, 3) == [36, 37, 38]
    with pytest.raises(InputError, match="too few for window 4 \\+ horizon 3"):
        make_windows(torch.arange(9.0), 0, c)
    # two valid horizons: the 6 windows whose targets end in the last 6 points
    w2 = make_windows(torch.arange(20.0), 0, c, valid_horizons=2)
    assert len(w2["train"][1]) == 8 and len(w2["valid"][1]) == 6
    assert w2["train"][1][-1].tolist() == [11.0, 12.0, 13.0]  # ends before the last 6 points
    assert w2["valid"][1][0].tolist() == [12.0, 13.0, 14.0]
    with pytest.raises(InputError, match="\\+ 6 valid points"):
        make_windows(torch.arange(12.0), 0, c, valid_horizons=2)


def test_fewer_points_than_window_and_horizon_is_one_clear_error(tmp_path):
    data = write_csv(tmp_path / "short.csv", sine(30))
    with pytest.raises(InputError, match="give a smaller --window or --horizon"):
        train_forecast(job(data, tmp_path / "x", epochs=1))
