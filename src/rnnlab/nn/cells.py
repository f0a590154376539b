"""One time step: ``RNNCell``, ``LSTMCell``, ``GRUCell``, drop-in for ``torch.nn``'s cells.

Symbols: B batch, I input features, H hidden units. A cell is the layer's BPTT Function run over a
sequence of length 1, so the one-step backward is the same hand-written code as the layer's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnlab.nn.gru_bptt import GRUFunction
from rnnlab.nn.lstm_bptt import LSTMFunction
from rnnlab.nn.rnn_bptt import RNNFunction


class _CellBase(nn.Module):
    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None) -> None:
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(gates * hidden_size, **kw))
            self.bias_hh = nn.Parameter(torch.empty(gates * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def _prepare(self, x: torch.Tensor, states: list) -> tuple[torch.Tensor, list, bool]:
        """Check shapes; return x as (1, B, I), states as (B, H) each, and whether unbatched."""
        name = type(self).__name__
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{name} input must be a floating-point Tensor")
        if x.dim() not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name} expects input (B, {self.input_size}) or ({self.input_size},), "
                f"got {tuple(x.shape)}"
            )
        unbatched = x.dim() == 1
        if unbatched:
            x = x.unsqueeze(0)
        B = x.shape[0]
        out = []
        for s in states:
            if s is None:
                s = x.new_zeros(B, self.hidden_size)
            elif unbatched and s.dim() == 1:
                s = s.unsqueeze(0)
            if tuple(s.shape) != (B, self.hidden_size):
                raise ValueError(
                    f"{name} state must have shape (B, H) = {(B, self.hidden_size)}, "
                    f"got {tuple(s.shape)}"
                )
            out.append(s)
        return x.unsqueeze(0), out, unbatched

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """Elman cell: ``h' = phi(W_ih x + b_ih + W_hh h + b_hh)``, phi = tanh or relu.

    ``forward(input (B, I) or (I,), hx (B, H) = zeros) -> h' (B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), unbatched = self._prepare(input, [hx])
        relu = self.nonlinearity == "relu"
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, h = RNNFunction.apply(x, h, *w, relu, None, False, None)
        return h.squeeze(0) if unbatched else h


class LSTMCell(_CellBase):
    """LSTM cell (gate order i, f, g, o):

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g
        h' = o * tanh(c')

    ``forward(input (B, I) or (I,), (h, c) = zeros) -> (h' (B, H), c' (B, H))``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: torch.Tensor, hx=None) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = (None, None) if hx is None else hx
        x, (h, c), unbatched = self._prepare(input, [h, c])
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, h, c = LSTMFunction.apply(x, h, c, *w, None, False, None)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """GRU cell (gate order r, z, n):

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))      reset_after=True (PyTorch, default)
        n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)      reset_after=False (Cho et al. 2014)
        h' = (1 - z) * n + z * h

    ``forward(input (B, I) or (I,), hx (B, H) = zeros) -> h' (B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 reset_after: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), unbatched = self._prepare(input, [hx])
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, h = GRUFunction.apply(x, h, *w, self.reset_after, None, False, None)
        return h.squeeze(0) if unbatched else h
