"""rnnlab.models.forecast and its transform: the inverse transforms round trip, the intervals
bracket the point forecast, a saved forecaster forecasts the same after loading."""

from __future__ import annotations

import math

import pytest
import torch

import rnnlab
from rnnlab import saved
from rnnlab.errors import InputError
from rnnlab.models.forecast import ForecastConfig, Forecaster, phase_features
from rnnlab.models.forecast_transform import SeriesTransform
from rnnlab.train import save_weights


def wavy(n: int = 80) -> torch.Tensor:
    """A positive trending seasonal series (n,)."""
    t = torch.arange(n, dtype=torch.float64)
    return 10 + 0.1 * t + 3 * torch.sin(2 * math.pi * t / 12) + torch.rand(n, dtype=torch.float64)


@pytest.mark.parametrize(("log", "diff", "seasonal_diff"), [
    (False, False, False), (True, False, False), (False, True, False), (False, False, True),
    (True, True, True), (True, False, True),
])  # fmt: skip
def test_the_inverse_transform_gives_back_the_future_it_was_given(log, diff, seasonal_diff):
    torch.manual_seed(0)
    y = wavy()
    tr = SeriesTransform(log, diff, seasonal_diff, season=12).fit(y[:60])
    z = tr.apply(y)  # (80 - offset,): z_i stands for y_{i + offset}
    future = z[60 - tr.offset : 70 - tr.offset]  # (10,): y_60 .. y_69 transformed
    back = tr.invert(y[:60], torch.stack([future, future]))  # (2, 10)
    torch.testing.assert_close(back, torch.stack([y[60:70], y[60:70]]))


def test_the_scaler_is_fitted_on_what_fit_is_given_only():
    y = wavy()
    a = SeriesTransform(season=12).fit(y[:60])
    assert a.mean == pytest.approx(float(y[:60].mean()))
    assert a.std == pytest.approx(float(y[:60].std()))


def test_transform_errors():
    with pytest.raises(InputError, match="--log needs positive values"):
        SeriesTransform(log=True).fit(torch.tensor([1.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match="seasonal_diff needs a season"):
        SeriesTransform(seasonal_diff=True, season=1)


def test_phase_features_are_the_seasons_sine_and_cosine():
    ph = phase_features(torch.tensor([0, 3, 12]), 12)
    torch.testing.assert_close(ph, torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]),
                               atol=1e-6, rtol=0)  # fmt: skip
    assert phase_features(torch.arange(5), 1).shape == (5, 0)


@pytest.mark.parametrize("kind", ["direct", "seq2seq"])
@pytest.mark.parametrize("interval", ["quantile", "mc-dropout"])
def test_forecast_shapes_intervals_and_a_saved_copy(tmp_path, kind, interval):
    torch.manual_seed(0)
    c = ForecastConfig(horizon=5, window=8, season=12, kind=kind, hidden_size=8, members=2,
                       interval=interval, dropout=0.2, log=True, seasonal_diff=True)  # fmt: skip
    y = wavy()
    model = Forecaster(c)
    model.transform.fit(y[:60])
    f = model.forecast(y[:60], samples=20, seed=3)
    assert set(f) == {"point", "lo", "hi"} and all(v.shape == (5,) for v in f.values())
    if interval == "quantile":  # lo = f - softplus, hi = f + softplus, kept in order by invert
        assert bool((f["lo"] < f["point"]).all() and (f["point"] < f["hi"]).all())
    assert bool((f["lo"] < f["hi"]).all())
    if interval == "mc-dropout":  # the draws are seeded
        torch.testing.assert_close(model.forecast(y[:60], samples=20, seed=3)["lo"], f["lo"])
    saved.save_config(model, tmp_path)
    save_weights(model, tmp_path / "model.safetensors")
    back = rnnlab.load(tmp_path)
    assert back.config == c and back.transform == model.transform
    g = back.forecast(y[:60], samples=20, seed=3)
    for k in f:
        torch.testing.assert_close(g[k], f[k])


def test_too_short_a_history_is_an_input_error():
    model = Forecaster(ForecastConfig(horizon=3, window=10, season=4, seasonal_diff=True))
    with pytest.raises(InputError, match="the last 14 values"):
        model.forecast(torch.arange(1.0, 10.0))


def test_config_errors():
    with pytest.raises(ValueError, match="dropout > 0"):
        ForecastConfig(interval="mc-dropout", dropout=0.0)
    with pytest.raises(ValueError, match="kind must be"):
        ForecastConfig(kind="transformer")
