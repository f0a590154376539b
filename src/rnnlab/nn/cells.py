"""One time step: the plain equations, and ``RNNCell``, ``LSTMCell``, ``GRUCell`` (drop-in for
``torch.nn``'s cells).

Symbols: T time, B batch, I input features, H hidden units.

``rnn_step``, ``lstm_step`` and ``gru_step`` are the cells' equations written out in plain torch,
one line per equation, differentiable by autograd in any floating dtype. They are the reference
that the fused BPTT Functions (:mod:`rnn_bptt`, :mod:`lstm_bptt`, :mod:`gru_bptt`) are tested
against, with ``run_steps`` as the plain loop over time (mask and direction as the Functions
take them). Weights use PyTorch's layout and gate order.

The cell modules are the layer's BPTT Function run over a sequence of length 1, so the one-step
backward is the same hand-written code as the layer's; ``engine`` picks the reference Function or
its compiled twin as for the layers (:class:`rnnlab.nn.RNNBase`; without gradients, as in
step-by-step generation, the compiled one keeps no backward buffers).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.nn.native_bptt import function

ENGINES = ("rnnlab", "native", "auto")

Tensor = torch.Tensor
State = Tensor | tuple[Tensor, ...]


def rnn_step(
    x: Tensor,
    h_prev: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman step: ``h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, phi = tanh or relu.

    Args:
        x: (B, I). h_prev: (B, H).
        w_ih: (H, I); w_hh: (H, H); b_ih, b_hh: (H,) or None (no bias).
        nonlinearity: "tanh" or "relu".

    Returns:
        h_t (B, H).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    # a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    a = F.linear(x, w_ih, b_ih) + F.linear(h_prev, w_hh, b_hh)  # (B, H)
    # h_t = phi(a_t)
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)  # (B, H)


def lstm_step(
    x: Tensor,
    h_prev: Tensor,
    c_prev: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, gate order (i, f, g, o) as in PyTorch:

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)         candidate cell
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    Args:
        x: (B, I). h_prev, c_prev: (B, H).
        w_ih: (4H, I) = (W_ii|W_if|W_ig|W_io); w_hh: (4H, H); b_ih, b_hh: (4H,) or None.

    Returns:
        h_t (B, H), c_t (B, H).
    """
    # W_i* x_t + b_i* + W_h* h_{t-1} + b_h* for the four gates at once
    a = F.linear(x, w_ih, b_ih) + F.linear(h_prev, w_hh, b_hh)  # (B, 4H)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)  # (B, H) each
    # i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    i = torch.sigmoid(a_i)
    # f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    f = torch.sigmoid(a_f)
    # g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    g = torch.tanh(a_g)
    # o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    o = torch.sigmoid(a_o)
    # c_t = f_t * c_{t-1} + i_t * g_t
    c = f * c_prev + i * g  # (B, H)
    # h_t = o_t * tanh(c_t)
    h = o * torch.tanh(c)  # (B, H)
    return h, c


def gru_step(
    x: Tensor,
    h_prev: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reset_after: bool = True,
) -> Tensor:
    """One GRU step, gate order (r, z, n) as in PyTorch, in both published forms:

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)      reset gate
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)      update gate
        reset_after=True  (PyTorch, cuDNN, Keras default):
            n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        reset_after=False (Cho et al. 2014):
            n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    With ``reset_after=False`` both biases stay outside the reset, as in :class:`GRUFunction`
    (and Keras' ``GRU(reset_after=False)``, whose one bias is our b_in + b_hn).

    Args:
        x: (B, I). h_prev: (B, H).
        w_ih: (3H, I) = (W_ir|W_iz|W_in); w_hh: (3H, H) = (W_hr|W_hz|W_hn);
        b_ih, b_hh: (3H,) or None.

    Returns:
        h_t (B, H).
    """
    w_hr, w_hz, w_hn = w_hh.chunk(3, dim=0)  # (H, H) each
    b_hr, b_hz, b_hn = (None, None, None) if b_hh is None else b_hh.chunk(3)  # (H,) each
    ax_r, ax_z, ax_n = F.linear(x, w_ih, b_ih).chunk(3, dim=1)  # W_i* x_t + b_i*, (B, H) each
    # r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    r = torch.sigmoid(ax_r + F.linear(h_prev, w_hr, b_hr))  # (B, H)
    # z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    z = torch.sigmoid(ax_z + F.linear(h_prev, w_hz, b_hz))  # (B, H)
    if reset_after:
        # n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        n = torch.tanh(ax_n + r * F.linear(h_prev, w_hn, b_hn))  # (B, H)
    else:
        # n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
        n = torch.tanh(ax_n + F.linear(r * h_prev, w_hn, b_hn))  # (B, H)
    # h_t = (1 - z_t) * n_t + z_t * h_{t-1}
    return (1 - z) * n + z * h_prev  # (B, H)


def run_steps(
    step: Callable[..., State],
    x: Tensor,
    state: State,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, State]:
    """The plain loop over time: ``state = step(x_t, *state)`` for each t, as the BPTT Functions do.

    A padded step (m_t = 0) keeps the state and outputs zeros:

        h~_t = step(x_t, h_{t-1})
        h_t = m_t h~_t + (1 - m_t) h_{t-1}      (every state tensor: h, and c for an LSTM)
        out_t = m_t h~_t

    Args:
        step: one time step, e.g. ``functools.partial(lstm_step, w_ih=..., w_hh=...)``, called as
            ``step(x_t, h)`` or ``step(x_t, h, c)`` and returning the state in the same form.
        x: (T, B, I) input, time-major.
        state: h_0 (B, H), or a tuple such as (h_0, c_0); the output is the first tensor.
        mask: (T, B, 1) or (T, B), 1 at real steps and 0 at padding, or None (all real).
        reverse: walk time from T-1 down to 0; ``out[t]`` is still the output at step t.

    Returns:
        out (T, B, H), and the final state in the form of ``state``.
    """
    T = x.shape[0]
    single = isinstance(state, Tensor)
    states = (state,) if single else tuple(state)
    outs: list[Tensor | None] = [None] * T
    for t in reversed(range(T)) if reverse else range(T):
        new = step(x[t], *states)
        new = (new,) if single else tuple(new)  # h~_t (, c~_t): each (B, H)
        if mask is None:
            outs[t], states = new[0], new
            continue
        m = mask[t].reshape(-1, 1) > 0  # (B, 1) bool, True at real steps
        # out_t = m_t h~_t: zeros at padding
        outs[t] = torch.where(m, new[0], torch.zeros_like(new[0]))
        # h_t = m_t h~_t + (1 - m_t) h_{t-1}: a padded step keeps the state
        states = tuple(torch.where(m, s_new, s) for s_new, s in zip(new, states, strict=True))
    out = torch.stack(outs)  # (T, B, H)
    return out, (states[0] if single else states)


class _CellBase(nn.Module):
    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None,
                 engine="auto") -> None:  # fmt: skip
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.engine = engine
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

    def _function(self, kind: str):
        """The BPTT Function that ``self.engine`` runs for these parameters."""
        return function(kind, self.engine, self.weight_hh)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        return s + ("" if self.engine == "auto" else f", engine={self.engine!r}")


class RNNCell(_CellBase):
    """Elman cell: ``h' = phi(W_ih x + b_ih + W_hh h + b_hh)``, phi = tanh or relu.

    ``forward(input (B, I) or (I,), hx (B, H) = zeros) -> h' (B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None,
                 engine: str = "auto") -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype, engine)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), unbatched = self._prepare(input, [hx])
        relu = self.nonlinearity == "relu"
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, h = self._function("rnn").apply(x, h, *w, relu, None, False, None)
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
                 device=None, dtype=None, engine: str = "auto") -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 4, device, dtype, engine)

    def forward(self, input: torch.Tensor, hx=None) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = (None, None) if hx is None else hx
        x, (h, c), unbatched = self._prepare(input, [h, c])
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, h, c = self._function("lstm").apply(x, h, c, *w, None, False, None)
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
                 reset_after: bool = True, device=None, dtype=None,
                 engine: str = "auto") -> None:  # fmt: skip
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, bias, 3, device, dtype, engine)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), unbatched = self._prepare(input, [hx])
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, h = self._function("gru").apply(x, h, *w, self.reset_after, None, False, None)
        return h.squeeze(0) if unbatched else h
