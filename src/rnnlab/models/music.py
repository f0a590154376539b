"""Polyphonic music: a piano roll, one step at a time, each of the 88 keys on or off.

The setting of Boulanger-Lewandowski et al. (2012) and Chung et al. (2014): an RNN/LSTM/GRU
reads the previous step's multi-hot vector and gives 88 independent Bernoulli probabilities for
the next one. Symbols: B batch, T steps, K = 88 keys (MIDI 21..108), H hidden units.

    x_0    = 0,  x_t = v_{t-1}                   (B, T, K): the roll shifted one step right
    h_t    = RNN/LSTM/GRU(dropout_in(x_1..x_t))  stacked layers (optionally DropConnect on W_hh)
    z_t    = W dropout(h_t) + b                  (B, T, K) logits
    p(v_t) = prod_k sigmoid(z_tk)^v_tk (1 - sigmoid(z_tk))^(1 - v_tk)

The metric, as published: the negative log-likelihood per time step,

    NLL = - sum_pieces sum_t log p(v_t | v_<t) / sum_pieces T
        = (summed binary cross-entropy over the 88 keys and all steps) / (number of steps)

in nats. A batch is ``(rolls (B, T, K) zero-padded on the right, lengths (B,))``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.nn.lengths import step_mask

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}
KEYS = 88


@dataclass
class MusicConfig:
    """Architecture of a :class:`MusicModel`."""

    cell: str = "lstm"
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.3  # between layers and before the output layer
    input_dropout: float | None = None  # on the input keys; None: the same as ``dropout``
    weight_dropout: float = 0.0  # DropConnect on the recurrent matrices W_hh (rnnlab.nn)

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        for name in ("hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("dropout", "input_dropout", "weight_dropout"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                  or not 0.0 <= v < 1.0):  # fmt: skip
                raise ValueError(f"{name} must be in [0, 1), got {v!r}")


def default_weight_dropout(cell: str) -> float:
    """``rnnlab train music``'s weight dropout for ``cell``: 0.8 for LSTM and GRU, 0.3 for the
    tanh RNN (at 0.8 it stops learning early: valid 9.56 against 8.44 at 0.3; benchmarks)."""
    return 0.3 if cell == "rnn" else 0.8


def shifted(rolls: torch.Tensor) -> torch.Tensor:
    """The inputs of the next-step model: x_t = v_{t-1}, x_0 = 0. (B, T, K) -> (B, T, K)."""
    return torch.cat([torch.zeros_like(rolls[:, :1]), rolls[:, :-1]], dim=1)


class MusicModel(nn.Module):
    """Next-step piano-roll model with 88 independent sigmoid outputs (see the module)."""

    task = "music"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: MusicConfig, steps_per_quarter: int = 1) -> None:
        super().__init__()
        c = self.config = config
        self.steps_per_quarter = steps_per_quarter  # the grid the model was trained on
        self.dropout = nn.Dropout(c.dropout)
        self.input_dropout = nn.Dropout(c.dropout if c.input_dropout is None else c.input_dropout)
        self.rnn = CELLS[c.cell](KEYS, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                                 dropout=c.dropout if c.num_layers > 1 else 0.0,
                                 weight_dropout=c.weight_dropout)  # fmt: skip
        self.out = nn.Linear(c.hidden_size, KEYS)

    def forward(self, rolls: torch.Tensor, lengths: torch.Tensor | None = None):
        """Logits of every step given the steps before it: (B, T, K), and the final state.

        Args:
            rolls: (B, T, 88) multi-hot (0/1), zero-padded after each piece's ``lengths``.
            lengths: (B,) real steps; None: all T.
        """
        if rolls.dim() != 3 or rolls.shape[-1] != KEYS:
            raise ValueError(f"rolls must be (B, T, {KEYS}), got {tuple(rolls.shape)}")
        x = shifted(rolls)  # (B, T, K): x_t = v_{t-1}
        out, state = self.rnn(self.input_dropout(x), lengths=lengths)  # (B, T, H)
        return self.out(self.dropout(out)), state  # z_t = W h_t + b

    def summed_nll(self, rolls: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """- sum over real steps and keys of log p(v_t | v_<t): a 0-d tensor (nats)."""
        logits, _ = self(rolls, lengths)
        real = step_mask(lengths, rolls.shape[1], "right").t().unsqueeze(-1)  # (B, T, 1)
        bce = F.binary_cross_entropy_with_logits(logits, rolls, reduction="none")  # (B, T, K)
        return (bce * real).sum()

    # ---- training (rnnlab.train.protocol) --------------------------------------------------
    def loss(self, batch) -> torch.Tensor:
        """NLL per time step of the batch: summed BCE over keys, mean over its real steps."""
        rolls, lengths = batch
        return self.summed_nll(rolls, lengths) / lengths.sum()

    @torch.no_grad()
    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """``{"loss": NLL per time step, "nll": the same}`` over every step of ``loader``."""
        total, steps = 0.0, 0
        for rolls, lengths in loader:
            total += float(self.summed_nll(rolls, lengths))
            steps += int(lengths.sum())
        if steps == 0:
            raise ValueError("evaluate(): the loader yielded no steps")
        return {"loss": total / steps, "nll": total / steps}

    @torch.no_grad()
    def nll(self, pieces: Sequence[torch.Tensor]) -> float:
        """NLL per time step (nats) of ``pieces`` ((T_i, 88) each), one piece at a time."""
        was_training = self.training
        self.eval()
        try:
            device = self.out.weight.device
            total = sum(float(self.summed_nll(p[None].to(device), torch.tensor([len(p)])))
                        for p in pieces)  # fmt: skip
        finally:
            self.train(was_training)
        steps = sum(len(p) for p in pieces)
        if steps == 0:
            raise InputError("no steps to score: the pieces are empty")
        return total / steps

    @torch.no_grad()
    def sample(self, steps: int, temperature: float = 1.0, seed: int | None = None,
               prime: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """A piano roll (T0 + steps, 88): ``prime`` (T0, 88; default none) then ``steps`` new
        steps, each key drawn from Bernoulli(sigmoid(z_tk / temperature)) given the steps
        before it (temperature 0: every key whose probability exceeds 1/2)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise InputError(f"steps must be a positive int, got {steps!r}")
        if temperature < 0:
            raise InputError(f"temperature must be >= 0, got {temperature}")
        if prime is not None and (prime.dim() != 2 or prime.shape[1] != KEYS):
            raise InputError(f"prime must be a (T, {KEYS}) roll, got {tuple(prime.shape)}")
        was_training = self.training
        self.eval()
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        device = self.out.weight.device
        try:
            past = torch.zeros(0, KEYS) if prime is None else prime.float().cpu()  # (T0, K)
            x, state = torch.zeros(1, 1, KEYS, device=device), None  # x_0 = 0
            if len(past):  # read the prime in one call: inputs 0, v_0 .. v_{T0-2}; v_{T0-1} next
                _, state = self.rnn(shifted(past[None].to(device)))
                x = past[-1].view(1, 1, KEYS).to(device)
            new = []
            for _ in range(steps):
                out, state = self.rnn(x, state)
                z = self.out(out)[0, 0].cpu()  # (K,)
                if temperature == 0:
                    v = (z > 0).float()
                else:
                    v = torch.bernoulli(torch.sigmoid(z / temperature), generator=g)
                new.append(v)
                x = v.view(1, 1, KEYS).to(device)
        finally:
            self.train(was_training)
        return torch.cat([past, torch.stack(new)])  # (T0 + steps, K)

    # ---- a saved model directory (rnnlab.saved) -------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (architecture, time grid); no other files."""
        return {"model": asdict(self.config), "steps_per_quarter": self.steps_per_quarter}, {}

    @classmethod
    def from_saved(cls, config: dict, files) -> MusicModel:
        """The model :meth:`to_saved` describes, with fresh weights."""
        return cls(MusicConfig(**config["model"]), int(config.get("steps_per_quarter", 1)))


@torch.no_grad()
def ensemble_nll(models: Sequence[MusicModel], pieces: Sequence[torch.Tensor]) -> float:
    """NLL per time step (nats) of the ensemble of ``models`` on ``pieces`` ((T_i, 88) each).

    The ensemble's key probabilities are the mean of its members' (still 88 independent
    Bernoullis per step, the published output model):

        p_tk = (1/M) sum_m sigmoid(z^m_tk)
        NLL  = - sum_pieces sum_t sum_k [v_tk log p_tk + (1 - v_tk) log(1 - p_tk)] / sum T

    computed in log space: log p_tk = logsumexp_m(log sigmoid(z^m_tk)) - log M, and
    log(1 - p_tk) the same with log sigmoid(-z^m_tk).
    """
    if not models:
        raise InputError("an ensemble needs at least one model")
    modes = [m.training for m in models]
    for m in models:
        m.eval()
    log_m = torch.log(torch.tensor(float(len(models))))
    total, steps = 0.0, 0
    try:
        for p in pieces:
            z = torch.stack([m(p[None].to(m.out.weight.device))[0][0].cpu() for m in models])
            log_on = torch.logsumexp(F.logsigmoid(z), 0) - log_m  # log p_tk; z: (M, T, K)
            log_off = torch.logsumexp(F.logsigmoid(-z), 0) - log_m  # log(1 - p_tk)
            total -= float((p * log_on + (1 - p) * log_off).sum())
            steps += len(p)
    finally:
        for m, mode in zip(models, modes, strict=True):
            m.train(mode)
    if steps == 0:
        raise InputError("no steps to score: the pieces are empty")
    return total / steps
