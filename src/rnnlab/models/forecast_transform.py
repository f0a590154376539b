"""The invertible transform a forecaster sees its series through: optional log, optional
differencing (at lag 1 and/or the seasonal lag m), then standard scaling fitted on the training
part only.

Symbols: y_t the series in its own units (T,), m the seasonal period.

    x_t = log y_t                 (log=True; y_t must be > 0)   else x_t = y_t
    d_t = x_t - x_{t-m}           (seasonal_diff=True)           then, with diff=True,
    e_t = d_t - d_{t-1}           (the first difference of what is left)
    z_t = (e_t - mu) / sigma      mu, sigma: mean and standard deviation over the training part

so z has T - (m if seasonal_diff) - (1 if diff) points, z_i standing for y at index
i + offset. The inverse integrates a forecast of z back onto the last known values:

    e_{T+h} = sigma z_{T+h} + mu,   d_{T+h} = e_{T+h} + d_{T+h-1},   x_{T+h} = d_{T+h} + x_{T+h-m},
    y_{T+h} = exp(x_{T+h})

each lag in turn, the later steps adding to the forecast earlier ones. A forecast path of many
samples (S, H) is inverted path by path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rnnlab.errors import InputError

__all__ = ["SeriesTransform"]


@dataclass
class SeriesTransform:
    """log -> differencing -> standard scaling; ``fit`` sets ``mean`` and ``std``."""

    log: bool = False
    diff: bool = False  # a first difference (lag 1)
    seasonal_diff: bool = False  # a difference at lag ``season``
    season: int = 1
    mean: float = 0.0  # mu, fitted on the training part by ``fit``
    std: float = 1.0  # sigma, the same

    def __post_init__(self) -> None:
        if isinstance(self.season, bool) or not isinstance(self.season, int) or self.season < 1:
            raise ValueError(f"season must be a positive int, got {self.season!r}")
        if self.seasonal_diff and self.season < 2:
            raise ValueError("seasonal_diff needs a season of at least 2 (got 1): give --season")
        if not (math.isfinite(self.std) and self.std > 0):
            raise ValueError(f"std must be a positive number, got {self.std!r}")

    @property
    def lags(self) -> tuple[int, ...]:
        """The differencing lags, in the order they are applied."""
        return (self.season,) * self.seasonal_diff + (1,) * self.diff

    @property
    def offset(self) -> int:
        """How many leading points differencing uses up: z_i stands for y_{i + offset}."""
        return sum(self.lags)

    def _log(self, y: torch.Tensor) -> torch.Tensor:
        if not self.log:
            return y
        if bool((y <= 0).any()):
            raise InputError(f"--log needs positive values; the series has {float(y.min()):g}: "
                             "drop --log (or shift the series above 0)")  # fmt: skip
        return torch.log(y)

    def differenced(self, y: torch.Tensor) -> torch.Tensor:
        """e (T - offset,) of y (T,): log, then each lag's difference, before scaling."""
        e = self._log(y.double())
        for lag in self.lags:
            # d_t = x_t - x_{t-lag}
            e = e[lag:] - e[:-lag]
        return e

    def fit(self, train: torch.Tensor) -> SeriesTransform:
        """Set mu and sigma from the training part train (T,) alone; returns self."""
        e = self.differenced(train)
        if len(e) < 2:
            raise InputError(f"the training part has {len(train)} points: too few to difference "
                             f"at lags {self.lags} and scale")  # fmt: skip
        std = float(e.std())
        if not std > 0:
            raise InputError("the training part is constant after the transform: nothing to scale")
        self.mean, self.std = float(e.mean()), std
        return self

    def apply(self, y: torch.Tensor) -> torch.Tensor:
        """z (T - offset,) float64 of y (T,), scaled with the fitted mu and sigma."""
        # z_t = (e_t - mu) / sigma
        return (self.differenced(y) - self.mean) / self.std

    def invert(self, history: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Forecasts in the series' units (S, H) from scaled forecasts z (S, H) of the H steps
        after history (T,), the known values in the series' units (T >= offset)."""
        if len(history) < self.offset:
            raise InputError(f"inverting the differencing needs {self.offset} known values, "
                             f"got {len(history)}")  # fmt: skip
        z = z.double()
        # e_{T+h} = sigma z_{T+h} + mu
        e = z * self.std + self.mean  # (S, H)
        # the known series at each differencing level: levels[k] is x after the first k lags
        levels = [self._log(history.double())]
        for lag in self.lags:
            levels.append(levels[-1][lag:] - levels[-1][:-lag])
        for k in range(len(self.lags) - 1, -1, -1):
            lag, known = self.lags[k], levels[k]  # integrate level k+1 back to level k
            out = []
            for h in range(e.shape[1]):
                # x_{T+h} = d_{T+h} + x_{T+h-lag}
                prev = out[h - lag] if h >= lag else known[len(known) - lag + h].expand(len(e))
                out.append(e[:, h] + prev)
            e = torch.stack(out, dim=1)  # (S, H)
        # y_{T+h} = exp(x_{T+h})
        return torch.exp(e) if self.log else e
