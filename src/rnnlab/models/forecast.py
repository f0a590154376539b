"""Multi-step forecasters over rnnlab.nn cells: direct and encoder-decoder, with intervals.

A forecaster reads a window of W transformed values z (see :class:`SeriesTransform`: optional
log, differencing, scaling fitted on the training part only), each beside its seasonal phase,
and forecasts the next H. Symbols: B batch, W window, H horizon (steps), P phase features
(2, or 0 without a season), Q outputs per step, N hidden units, M ensemble members.

    u_t = [z_t, sin(2 pi (t mod m) / m), cos(2 pi (t mod m) / m)]      (B, W, 1 + P)

direct:   h_W = RNN(u_1..u_W)                                          (B, N)
          o   = A dropout(h_W) + a                                     (B, H, Q)
          or, with J harmonics, o = (A dropout(h_W) + a) B: coefficients (B, Q, K) of a
          smooth basis B (K, H) over the horizon (see :func:`basis`)
seq2seq:  s_0 = the encoder's final state after RNN(u_1..u_W); z^_0 = z_W
          s_k = RNN'([z^_{k-1}, phase_{W+k}], s_{k-1}),  o_k = A dropout(s_k) + a   (B, Q)
          the decoder is fed its own previous point forecast z^_{k-1} = o_{k-1, 0}, in training
          too (no teacher forcing: it learns from the inputs it will see when forecasting)

Intervals, at coverage c (default 0.8: the 10% and 90% quantiles):

    quantile:    Q = 3: the point f = o_0, lo = f - softplus(o_1), hi = f + softplus(o_2)
                 loss = (f - z)^2 + rho_{(1-c)/2}(z - lo) + rho_{(1+c)/2}(z - hi),
                 rho_tau(u) = max(tau u, (tau - 1) u)   (pinball; its minimiser is the quantile)
    mc-dropout:  Q = 1, loss = (f - z)^2; the interval is the (1-c)/2 and (1+c)/2 quantiles of S
                 forecasts with dropout left on (Gal & Ghahramani 2016), each inverted to the
                 series' units path by path

An ensemble of M members (trained side by side, each on its own loss) forecasts the mean of its
members' outputs. A batch is ``(u (B, W, 1+P), z (B, H), phase (B, H, P))``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.models.forecast_transform import SeriesTransform

__all__ = ["CELLS", "ForecastConfig", "Forecaster", "phase_features"]

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}
KINDS = ("direct", "seq2seq")
INTERVALS = ("quantile", "mc-dropout")


@dataclass
class ForecastConfig:
    """Architecture and data view of a :class:`Forecaster`."""

    horizon: int = 12  # H steps forecast at once
    window: int = 36  # W past values read
    # m: the phase features' period and the seasonal difference's lag; None: not known yet
    # (rnnlab.tasks.forecast puts the series' own there before a model is built)
    season: int | None = None
    kind: str = "direct"  # "direct" | "seq2seq"
    cell: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.1  # between layers and before the output layer (mc-dropout samples it)
    interval: str = "quantile"  # "quantile" | "mc-dropout"
    coverage: float = 0.8  # the prediction interval's nominal coverage
    members: int = 1  # M: an ensemble of independently initialised members
    # direct only: 0, a free linear head; J > 0, the head emits coefficients of a smooth basis
    # over the horizon (a quadratic trend and J harmonics of the season: see basis())
    harmonics: int = 0
    log: bool = False
    diff: bool = False
    seasonal_diff: bool = False

    def __post_init__(self) -> None:
        for name in ("horizon", "window", "season", "hidden_size", "num_layers", "members"):
            v = getattr(self, name)
            if v is None and name == "season":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        j = self.harmonics
        if isinstance(j, bool) or not isinstance(j, int) or j < 0:
            raise ValueError(f"harmonics must be an int >= 0, got {j!r}")
        if j and (self.kind != "direct" or (self.season or 2) < 2):
            raise ValueError("harmonics (a basis head) needs the direct model and a season >= 2")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        if self.interval not in INTERVALS:
            raise ValueError(f"interval must be one of {INTERVALS}, got {self.interval!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.interval == "mc-dropout" and self.dropout == 0:
            raise ValueError("interval 'mc-dropout' samples the dropout: give a dropout > 0")
        if not 0.0 < self.coverage < 1.0:
            raise ValueError(f"coverage must be in (0, 1), got {self.coverage!r}")
        if self.season is not None:
            SeriesTransform(self.log, self.diff, self.seasonal_diff, self.season)  # validates

    @property
    def phases(self) -> int:
        """P: phase features per step (sin and cos of the season's phase; none if m = 1)."""
        return 2 if self.season > 1 else 0


def basis(horizon: int, season: int, harmonics: int) -> torch.Tensor:
    """(K, H) smooth functions of the step k = 1..H ahead, K = 3 + 2J: 1, k/H, (k/H)^2, and
    sin, cos of 2 pi j k / m for j = 1..J (the trend and seasonality bases of N-BEATS, Oreshkin
    et al. 2020). A basis head forecasts o = c B from K coefficients c per output."""
    k = torch.arange(1, horizon + 1, dtype=torch.float32)
    rows = [torch.ones(horizon), k / horizon, (k / horizon) ** 2]
    for j in range(1, harmonics + 1):
        angle = 2 * math.pi * j * k / season
        rows += [torch.sin(angle), torch.cos(angle)]
    return torch.stack(rows)


def phase_features(index: torch.Tensor, season: int) -> torch.Tensor:
    """(..., P) phase features of the absolute time indices ``index`` (...): sin and cos of
    2 pi (t mod m) / m, or an empty last dimension when m = 1."""
    if season == 1:
        return torch.zeros(*index.shape, 0)
    angle = 2 * math.pi * (index % season).float() / season
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1)


class _Member(nn.Module):
    """One network: (u (B, W, 1+P), phase (B, H, P)) -> outputs (B, H, Q)."""

    def __init__(self, c: ForecastConfig) -> None:
        super().__init__()
        self.c, q = c, 3 if c.interval == "quantile" else 1
        drop = c.dropout if c.num_layers > 1 else 0.0
        self.encoder = CELLS[c.cell](1 + c.phases, c.hidden_size, num_layers=c.num_layers,
                                     batch_first=True, dropout=drop)  # fmt: skip
        self.dropout = nn.Dropout(c.dropout)
        if c.kind == "direct":
            if c.harmonics:
                self.register_buffer("basis", basis(c.horizon, c.season, c.harmonics))  # (K, H)
                self.head = nn.Linear(c.hidden_size, len(self.basis) * q)
            else:
                self.head = nn.Linear(c.hidden_size, c.horizon * q)
        else:
            self.decoder = CELLS[c.cell](1 + c.phases, c.hidden_size, num_layers=c.num_layers,
                                         batch_first=True, dropout=drop)  # fmt: skip
            self.head = nn.Linear(c.hidden_size, q)

    def forward(self, u: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        B = u.shape[0]
        out, state = self.encoder(u)  # (B, W, N)
        if self.c.kind == "direct":
            # o = A dropout(h_W) + a
            o = self.head(self.dropout(out[:, -1]))  # (B, H Q) or (B, K Q)
            if not self.c.harmonics:
                return o.view(B, self.c.horizon, -1)  # (B, H, Q)
            # o = c B: K coefficients per output, the basis (K, H) spread over the horizon
            return torch.einsum("bqk,kh->bhq", o.view(B, -1, len(self.basis)), self.basis)
        prev, steps = u[:, -1, :1], []  # z^_0 = z_W: (B, 1)
        for k in range(self.c.horizon):
            # s_k = RNN'([z^_{k-1}, phase_{W+k}], s_{k-1})
            x = torch.cat([prev, phase[:, k]], dim=-1).unsqueeze(1)  # (B, 1, 1+P)
            s, state = self.decoder(x, state)  # (B, 1, N)
            o = self.head(self.dropout(s[:, 0]))  # (B, Q)
            steps.append(o)
            prev = o[:, :1]  # fed its own point forecast
        return torch.stack(steps, dim=1)  # (B, H, Q)


class Forecaster(nn.Module):
    """A forecaster of H steps from W (see the module), holding the transform that was fitted
    on its training part, so that :meth:`forecast` speaks the series' own units."""

    task = "forecast"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: ForecastConfig, transform: SeriesTransform | None = None,
                 history: dict | None = None) -> None:  # fmt: skip
        super().__init__()
        c = self.config = config
        if c.season is None:
            raise ValueError("ForecastConfig.season must be set before a Forecaster is built")
        self.transform = transform or SeriesTransform(c.log, c.diff, c.seasonal_diff, c.season)
        # the series trained on: {"name", "target", "frequency", "dates", "values", "train_end",
        # "test_origins"} (rnnlab evaluate / forecast use it when given no --data)
        self.history = history
        self.members = nn.ModuleList(_Member(c) for _ in range(c.members))

    def outputs(self, u: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """Every member's raw outputs: (M, B, H, Q)."""
        return torch.stack([m(u, phase) for m in self.members])

    def _bands(self, o: torch.Tensor) -> torch.Tensor:
        """(..., H, Q) raw outputs -> (..., H, 3) as (point, lo, hi) (quantile) or (..., H, 1)."""
        if self.config.interval != "quantile":
            return o
        f = o[..., 0]
        # lo = f - softplus(o_1), hi = f + softplus(o_2)
        return torch.stack([f, f - F.softplus(o[..., 1]), f + F.softplus(o[..., 2])], dim=-1)

    def member_losses(self, batch) -> torch.Tensor:
        """(M,) each member's mean loss over the batch (see the module)."""
        u, z, phase = batch
        b = self._bands(self.outputs(u, phase))  # (M, B, H, Q)
        loss = ((b[..., 0] - z) ** 2).mean(dim=(1, 2))  # (M,)
        if self.config.interval == "quantile":
            c = self.config.coverage
            for k, tau in ((1, (1 - c) / 2), (2, (1 + c) / 2)):
                diff = z - b[..., k]  # (M, B, H)
                # rho_tau(u) = max(tau u, (tau - 1) u)
                loss = loss + torch.maximum(tau * diff, (tau - 1) * diff).mean(dim=(1, 2))
        return loss

    # ---- training (rnnlab.train.protocol) --------------------------------------------------
    def loss(self, batch) -> torch.Tensor:
        """The members' losses summed (each member's gradient is its own loss's)."""
        return self.member_losses(batch).sum()

    @torch.no_grad()
    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """``{"loss": mean squared error of the ensemble's point forecast, "mae": its mean
        absolute error}``, both on the scaled transformed values z, over every window."""
        se, ae, n = 0.0, 0.0, 0
        for u, z, phase in loader:
            f = self._bands(self.outputs(u, phase))[..., 0].mean(0)  # (B, H)
            se += float(((f - z) ** 2).sum())
            ae += float((f - z).abs().sum())
            n += z.numel()
        if n == 0:
            raise ValueError("evaluate(): the loader yielded no windows")
        return {"loss": se / n, "mae": ae / n}

    # ---- forecasting in the series' units ---------------------------------------------------
    def inputs(self, history: torch.Tensor, start: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The network's inputs for forecasting after history (T,): u (1, W, 1+P) and the
        horizon's phases (1, H, P); ``start`` is the absolute time index of history[0]."""
        c, tr = self.config, self.transform
        if len(history) < c.window + tr.offset:
            raise InputError(f"forecasting needs the last {c.window + tr.offset} values (window "
                             f"{c.window} + {tr.offset} for differencing), got "
                             f"{len(history)}")  # fmt: skip
        z = tr.apply(history[len(history) - c.window - tr.offset :])  # (W,)
        end = start + len(history)
        idx = torch.arange(end - c.window, end + c.horizon)
        ph = phase_features(idx, c.season)  # (W + H, P)
        u = torch.cat([z.float().unsqueeze(-1), ph[: c.window]], dim=-1)
        return u.unsqueeze(0), ph[c.window :].unsqueeze(0)

    @torch.no_grad()
    def forecast(self, history: torch.Tensor, start: int = 0, samples: int = 200,
                 seed: int = 0) -> dict[str, torch.Tensor]:  # fmt: skip
        """The next H values after history (T,) in the series' units: ``{"point", "lo",
        "hi"}``, each (H,) float64, lo..hi the interval at ``config.coverage``. ``start`` is
        the absolute time index of history[0] (the phase features depend on it); ``samples``
        and ``seed`` are the Monte-Carlo dropout draws' (interval "mc-dropout")."""
        history = torch.as_tensor(history, dtype=torch.float64).flatten().cpu()
        was_training = self.training
        device = next(self.parameters()).device
        u, ph = (t.to(device) for t in self.inputs(history, start))
        try:
            self.eval()
            b = self._bands(self.outputs(u, ph)).mean(0)[0].double().cpu()  # (H, Q)
            bands = self.transform.invert(history, b.T)  # (Q, H): point (, lo, hi) in units
            point = bands[0]
            if self.config.interval == "quantile":
                lo, hi = bands[1], bands[2]
            else:
                self.train()  # dropout on: each row of one batch is one sample of the predictive
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    S = samples
                    draws = self.outputs(u.expand(S, -1, -1), ph.expand(S, -1, -1))  # (M, S, H, 1)
                draws = draws.mean(0)[..., 0].double().cpu()  # (S, H)
                paths = self.transform.invert(history, draws)  # (S, H)
                c = self.config.coverage
                lo, hi = (torch.quantile(paths, q, dim=0) for q in ((1 - c) / 2, (1 + c) / 2))
        finally:
            self.train(was_training)
        # mc-dropout: the point (dropout off) may fall outside the sampled band; it is not moved
        return {"point": point, "lo": lo, "hi": hi}

    # ---- a saved model directory (rnnlab.saved) -------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (architecture, the fitted transform) and ``history.json``
        (the series trained on, when known)."""
        return ({"model": asdict(self.config), "transform": asdict(self.transform)},
                {"history.json": self.history})  # fmt: skip

    @classmethod
    def from_saved(cls, config: dict, files) -> Forecaster:
        """The model :meth:`to_saved` describes, with fresh weights."""
        c = ForecastConfig(**config["model"])
        history = None
        if files.root.joinpath("history.json").is_file():
            history = {k: v for k, v in files.json("history.json").items() if k != "format"}
        return cls(c, SeriesTransform(**config["transform"]), history)
