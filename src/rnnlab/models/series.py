"""Series classification: C channels of numbers per step in, one class out (many-to-one).

Symbols: B batch, T time steps, C channels, H hidden units, D directions, K classes.

    z_t = (x_t - mu) / sigma             per channel; mu, sigma (C,) from the training series
                                         only, stored in the model (buffers, saved with it)
    z_t = 0 where x_t is missing (NaN)   i.e. the training mean of that channel
    z_t = [z_t ; z_t - z_{t-1}]          if ``deltas``: (B, T, 2C), z_0 = z_1 (no delta at
                                         the first step)
    z_t = z_t * s + e                    training only, if configured: s ~ N(1, scale^2) per
                                         series and channel, e ~ N(0, jitter^2) per value
    h_t = BiLSTM/GRU(z_1..z_T)           rnnlab.nn, stacked; ``lengths=`` so the padding after
                                         a series never reaches its states
    s   = pool_t h_t                     (B, D*H) or (B, 3*D*H): last / max / mean / concat,
                                         over each series' real steps
    p   = softmax(W dropout(s) + b)      (B, K)
    p   = 1/M sum_m p_m                  with ``ensemble`` M > 1: M such networks (own weights,
                                         own initialisation) over the same z, each trained on
                                         its own cross-entropy, their probabilities averaged

A batch is ``(x (B, T, C) float, lengths (B,), y (B,) class ids)``: raw values (the model
normalises them), right-padded, NaN at missing values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.models.pooling import POOLINGS, pool, pooled_size
from rnnlab.nn.lengths import step_mask

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}
MIN_STD = 1e-6  # a channel whose training values vary less than this is only centred


@dataclass
class SeriesConfig:
    """Architecture of a :class:`SeriesClassifier` (and its training-time augmentation)."""

    num_classes: int
    channels: int  # C, values per time step
    cell: str = "gru"  # "lstm", "gru" or "rnn"
    hidden_size: int = 64
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.2  # between layers and before the output layer
    pooling: str = "concat"  # how the steps' outputs become one vector
    deltas: bool = False  # append each channel's first difference z_t - z_{t-1} as a channel
    scale: float = 0.0  # training: each series' channels multiplied by N(1, scale^2)
    jitter: float = 0.0  # training: N(0, jitter^2) added to every normalised value
    ensemble: int = 1  # M independent recurrent networks whose probabilities are averaged

    def __post_init__(self) -> None:
        for name in ("num_classes", "channels", "hidden_size", "num_layers", "ensemble"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        for name in ("scale", "jitter"):
            if not 0.0 <= getattr(self, name) < 10.0:
                raise ValueError(f"{name} must be in [0, 10), got {getattr(self, name)!r}")


def channel_statistics(X: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation (C,) each, over the real, present values.

    Args:
        X: (N, T, C) values, NaN where missing, anything after each series' length.
        lengths: (N,) real steps of each series.

    Raises:
        InputError: a channel with no value at all.
    """
    N, T, C = X.shape
    real = np.arange(T)[None, :] < lengths[:, None]  # (N, T)
    values = X[real].astype(np.float64)  # (sum lengths, C)
    present = ~np.isnan(values)
    counts = present.sum(0)  # (C,)
    if (counts == 0).any():
        empty = [int(c) + 1 for c in np.flatnonzero(counts == 0)]
        raise InputError(f"channels {empty} have no values in the training series (all missing)")
    filled = np.where(present, values, 0.0)
    mean = filled.sum(0) / counts  # (C,)
    var = (np.where(present, values - mean, 0.0) ** 2).sum(0) / counts  # (C,)
    return mean.astype(np.float32), np.sqrt(var).astype(np.float32)


@dataclass
class SeriesPrediction:
    """One series' predicted class: its name, id and probability, and every class' probability."""

    label: str
    label_id: int
    probability: float
    probabilities: list[float]


class SeriesNetwork(nn.Module):
    """One recurrent network of a :class:`SeriesClassifier`: RNN/LSTM/GRU -> pooling -> logits."""

    def __init__(self, config: SeriesConfig) -> None:
        super().__init__()
        c = self.config = config
        self.rnn = CELLS[c.cell](
            c.channels * (2 if c.deltas else 1), c.hidden_size, num_layers=c.num_layers,
            batch_first=True, bidirectional=c.bidirectional,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
        )  # fmt: skip
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(pooled_size(c.hidden_size, c.bidirectional, c.pooling),
                             c.num_classes)  # fmt: skip

    def forward(self, z: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits (B, K) of normalised series z (B, T, I) with lengths (B,)."""
        out, state = self.rnn(z, lengths=lengths)  # (B, T, D*H)
        s = pool(out, state, lengths, self.config.pooling, self.config.bidirectional)
        # p = softmax(W dropout(s) + b)
        return self.out(self.dropout(s))  # (B, K)


class SeriesClassifier(nn.Module):
    """Per-channel normalisation -> (stacked, bidirectional) RNN/LSTM/GRU -> pooling -> class.

    ``labels`` are the K class names. The normalisation statistics are buffers (``mean``,
    ``std``, (C,) each), saved with the weights; set them from the training series with
    :meth:`fit_normalization` before training.
    """

    task = "series"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: SeriesConfig, labels: Sequence[str]) -> None:
        super().__init__()
        c = self.config = config
        self.labels = list(labels)
        if len(self.labels) != c.num_classes:
            raise ValueError(f"{len(self.labels)} labels for num_classes={c.num_classes}")
        self.register_buffer("mean", torch.zeros(c.channels))
        self.register_buffer("std", torch.ones(c.channels))
        self.members = nn.ModuleList(SeriesNetwork(c) for _ in range(c.ensemble))

    # ---- normalisation ---------------------------------------------------------------------
    def fit_normalization(self, X: np.ndarray, lengths: np.ndarray) -> None:
        """Set ``mean`` and ``std`` from training series X (N, T, C) with lengths (N,) (see
        :func:`channel_statistics`); a channel that hardly varies keeps std 1."""
        mean, std = channel_statistics(X, lengths)
        std = np.where(std < MIN_STD, 1.0, std)
        self.mean.copy_(torch.from_numpy(mean))
        self.std.copy_(torch.from_numpy(std.astype(np.float32)))

    def normalize(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, C) raw values -> (B, T, C) normalised, 0 at missing values and padding."""
        # z_t = (x_t - mu) / sigma
        z = (x - self.mean) / self.std  # (B, T, C)
        real = step_mask(lengths, x.shape[1]).t().unsqueeze(-1)  # (B, T, 1)
        # z_t = 0 where x_t is missing (the channel's training mean), and after the series
        return torch.where(real & ~torch.isnan(z), z, torch.zeros_like(z))

    def augment(self, z: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Training augmentation of normalised series (B, T, C), from torch's global generator
        (which the trainer's checkpoints restore): per-series channel scaling and jitter."""
        c = self.config
        B, T, C = z.shape
        if c.scale > 0:
            # z_t = z_t * s,  s ~ N(1, scale^2) per series and channel
            z = z * (1.0 + c.scale * torch.randn(B, 1, C, device=z.device))  # (B, T, C)
        if c.jitter > 0:
            real = step_mask(lengths, T).t().unsqueeze(-1)  # (B, T, 1)
            # z_t = z_t + e,  e ~ N(0, jitter^2)
            z = z + c.jitter * torch.randn_like(z) * real  # (B, T, C)
        return z

    # ---- the network -----------------------------------------------------------------------
    def member_logits(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Each network's logits (M, B, K) of raw series x (B, T, C), right-padded, with
        lengths (B,)."""
        if x.dim() != 3 or x.shape[2] != self.config.channels:
            raise ValueError(f"x must be (B, T, C={self.config.channels}), got shape "
                             f"{tuple(x.shape)}")  # fmt: skip
        # a batch from a CPU loader meets the weights wherever training put them
        x, lengths = x.to(self.mean.device), lengths.to(self.mean.device)
        z = self.normalize(x, lengths)  # (B, T, C)
        if self.training:
            z = self.augment(z, lengths)
        if self.config.deltas:
            real = step_mask(lengths, z.shape[1]).t().unsqueeze(-1)  # (B, T, 1)
            # d_t = z_t - z_{t-1}, d_1 = 0; 0 in the padding
            d = torch.cat([torch.zeros_like(z[:, :1]), z[:, 1:] - z[:, :-1]], 1) * real
            z = torch.cat([z, d], dim=-1)  # (B, T, 2C)
        return torch.stack([m(z, lengths) for m in self.members])  # (M, B, K)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (B, K) (usable as logits) of raw series x (B, T, C),
        right-padded, with lengths (B,): of the one network, or the log of the M networks'
        mean probability."""
        logits = self.member_logits(x, lengths)  # (M, B, K)
        if len(logits) == 1:
            return logits[0]
        # log p = log (1/M sum_m softmax(l_m))
        return torch.logsumexp(F.log_softmax(logits, -1), 0) - math.log(len(logits))  # (B, K)

    # ---- training (rnnlab.train.protocol) --------------------------------------------------
    def loss(self, batch) -> torch.Tensor:
        """Mean cross-entropy of a batch ``(x (B, T, C), lengths (B,), y (B,))``, each of the
        M networks on its own (averaged over them), so that they stay M separate models."""
        x, lengths, y = batch
        logits = self.member_logits(x, lengths)  # (M, B, K)
        M, B, K = logits.shape
        return F.cross_entropy(logits.reshape(M * B, K), y.repeat(M))

    @torch.no_grad()
    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """``{"loss", "accuracy"}`` over every batch of ``loader``."""
        total, correct, n = 0.0, 0, 0
        for x, lengths, y in loader:
            logits = self(x, lengths)  # (B, K)
            total += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(-1) == y).sum())
            n += len(y)
        if n == 0:
            raise ValueError("evaluate(): the loader yielded no series")
        return {"loss": total / n, "accuracy": correct / n}

    # ---- using a trained model -------------------------------------------------------------
    @torch.no_grad()
    def probabilities(self, X: np.ndarray | torch.Tensor, lengths, batch_size: int = 256):
        """Class probabilities (N, K) of series X (N, T, C) with lengths (N,), in eval mode."""
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        lengths = torch.as_tensor(np.asarray(lengths, dtype=np.int64))
        if X.dim() != 3 or X.shape[2] != self.config.channels:
            raise InputError(f"these series have shape {tuple(X.shape)}; the model reads "
                             f"(N, T, {self.config.channels}) ({self.config.channels} channels "
                             "per step)")  # fmt: skip
        was_training = self.training
        self.eval()
        try:
            device = self.mean.device
            probs = []
            for i in range(0, len(X), batch_size):
                x, n = X[i : i + batch_size], lengths[i : i + batch_size]
                x = x[:, : int(n.max())].to(device)  # (B, T, C): no more padding than needed
                probs.append(torch.softmax(self(x, n.to(device)), dim=-1).cpu())
            return torch.cat(probs) if probs else torch.zeros(0, self.config.num_classes)
        finally:
            self.train(was_training)

    def predict(self, X, lengths=None) -> list[SeriesPrediction]:
        """The class of each series.

        Args:
            X: (N, T, C) raw values (NaN where missing), or a list of N arrays (T_i, C), or a
                :class:`rnnlab.data.series.SeriesSet`.
            lengths: (N,) real steps of each series of an array X; default: all T.
        """
        if hasattr(X, "lengths") and hasattr(X, "X"):  # a SeriesSet
            X, lengths = X.X, X.lengths
        elif isinstance(X, (list, tuple)):
            arrays = [np.asarray(s, dtype=np.float32) for s in X]
            if not arrays or any(a.ndim != 2 for a in arrays):
                raise InputError("predict() takes a list of (T_i, C) arrays, one per series")
            lengths = np.array([len(a) for a in arrays])
            X = np.zeros((len(arrays), max(lengths), arrays[0].shape[1]), dtype=np.float32)
            for i, a in enumerate(arrays):
                X[i, : len(a)] = a
        X = np.asarray(X, dtype=np.float32)
        if lengths is None:
            lengths = np.full(len(X), X.shape[1])
        probs = self.probabilities(X, lengths)
        result = []
        for p in probs:
            k = int(p.argmax())
            result.append(SeriesPrediction(self.labels[k], k, float(p[k]), p.tolist()))
        return result

    # ---- a saved model directory (rnnlab.saved) -------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (architecture, class names); the normalisation statistics
        are buffers saved with the weights. No other files."""
        return {"model": asdict(self.config), "labels": self.labels}, {}

    @classmethod
    def from_saved(cls, config: dict, files) -> SeriesClassifier:
        """The model :meth:`to_saved` describes, with fresh weights."""
        return cls(SeriesConfig(**config["model"]), config["labels"])
