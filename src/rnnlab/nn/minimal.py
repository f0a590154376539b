"""Recurrences whose gates do not see h_{t-1}: ``MinGRU`` and ``MinLSTM`` (Feng et al. 2024, "Were
RNNs All We Needed?"), trained with a parallel scan over time and run step by step at inference.

Symbols: T time, B batch, I input features, H hidden units, L layers, D directions (1 or 2).

minGRU (log-space form, one layer and direction; ``weight_ih`` (2H, I) = (W_z|W_h)):

    z_t  = sigmoid(W_z x_t + b_z)                       update gate
    h~_t = g(W_h x_t + b_h)                             candidate, g(v) = v + 0.5 (v >= 0),
                                                                   sigmoid(v) (v < 0)
    h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t

minLSTM (``weight_ih`` (3H, I) = (W_f|W_i|W_h); no cell state and no output gate: h_t is the state):

    f_t  = sigmoid(W_f x_t + b_f),   i_t = sigmoid(W_i x_t + b_i)
    f'_t = f_t / (f_t + i_t),        i'_t = i_t / (f_t + i_t)     normalised: f'_t + i'_t = 1
    h~_t = g(W_h x_t + b_h)
    h_t  = f'_t * h_{t-1} + i'_t * h~_t

Why this is a scan (the paper, section 3): the LSTM's and GRU's gates read h_{t-1}, so
step t cannot begin before step t-1 has finished: T sequential steps, each with an (H, H) product.
Here every gate reads x_t alone, so both cells are the linear recurrence

    h_t = a_t * h_{t-1} + b_t      minGRU: a_t = 1 - z_t, b_t = z_t h~_t;  minLSTM: f'_t, i'_t h~_t

with every a_t and b_t known before the loop (one GEMM over all B*T rows). Composing two such steps
is again one, (a, b) then (a', b') = (a' a, a' b + b'), an associative operation, so all T states
come from a parallel prefix scan (Blelloch 1990): O(log T) steps on T processors instead of O(T).
The paper computes it in log space (Heinsen 2023), which needs a_t > 0 and b_t > 0 (hence g in
place of the identity, so that h~_t > 0):

    a*_t = sum_{s<=t} log a_s                                          cumsum
    h_t  = exp(a*_t) h_0 + exp(a*_t + logcumsumexp_{s<=t}(log b_s - a*_s))

(the paper writes h_0 as the value b_0 of the scan and takes its log; we add exp(a*_t) h_0 apart,
so h_0 may be zero or negative). Autograd differentiates it through ``torch.logcumsumexp``.

What it costs: no gate depends on the state, so a layer is linear in h and cannot make a decision
from what it has seen so far (an LSTM closes its input gate on the state; a minGRU cannot). The
paper recovers expressivity by stacking layers (a layer's gates then read the layer below's states)
and drops the hidden-to-hidden weights (minGRU has 2HI + 2H parameters per layer against GRU's
3H(I + H) + 6H). With a_t in (0, 1) and b_t > 0 every state stays positive: such recurrences cannot
flip a sign, and state-tracking tasks like parity of long strings are out of reach of any fixed
depth (Grazzi et al. 2024, "Unlocking state-tracking in linear RNNs through negative eigenvalues",
prove it for finite precision). Training by the scan keeps every state and several (B, T, H)
intermediates for autograd; stepping at inference keeps only h_{t-1}. And the scan pays where T
can be spread over many processors (the paper's GPU): on a CPU ``logcumsumexp`` is itself a loop
over T, about 15 ns per element on the 2-core AMD EPYC we measured, three times per training step
(once forward, twice in its backward). There ``benchmarks/parallel_scan.py`` finds the scan about
as fast as our LSTM and slower than stepping the same recurrence (``mode="sequential"``).

Precision: log h_t is the sum of a*_t and a logcumsumexp of about -a*_t, which grow with T; in
float32 the relative error of h_t grows with |a*_t| (about 1e-7 |a*_t|: at T = 4096, 4e-4 from the
initialisation and 2e-3 with gates saturated by weights 5x larger, against float64).
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.nn.cells import run_steps
from rnnlab.nn.lengths import check_lengths

Tensor = torch.Tensor
MODES = ("parallel", "sequential")


def g(v: Tensor) -> Tensor:
    """The paper's positive candidate activation: ``v + 0.5`` for v >= 0, ``sigmoid(v)`` below."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def log_g(v: Tensor) -> Tensor:
    """``log g(v)``: ``log(v + 0.5)`` for v >= 0, ``log sigmoid(v)`` below (no log of 0 or less)."""
    return torch.where(v >= 0, torch.log(v.clamp_min(0) + 0.5), F.logsigmoid(v))


def heinsen_scan(log_a: Tensor, log_b: Tensor, h0: Tensor | None = None) -> Tensor:
    """All T states of ``h_t = a_t h_{t-1} + b_t`` at once, from log a_t and log b_t (Heinsen 2023).

    Args:
        log_a, log_b: (B, T, H). log_b may be -inf (b_t = 0) except at t = 1.
        h0: (B, H) initial state of any sign, or None for zeros.

    Returns:
        h: (B, T, H), h_t for t = 1..T.
    """
    # a*_t = sum_{s<=t} log a_s
    a_star = log_a.cumsum(1)  # (B, T, H)
    # h_t = exp(a*_t + logcumsumexp_{s<=t}(log b_s - a*_s))      (the part from b_1..b_t)
    h = torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))  # (B, T, H)
    if h0 is not None:
        # h_t += exp(a*_t) h_0                                      (the part from h_0)
        h = h + torch.exp(a_star) * h0.unsqueeze(1)  # (B, T, H)
    return h


def min_gru_coefficients(u: Tensor) -> tuple[Tensor, Tensor]:
    """log a_t = log(1 - z_t) and log b_t = log(z_t h~_t) from u = (W_z|W_h) x_t + b: (..., 2H)."""
    u_z, u_h = u.chunk(2, dim=-1)  # (..., H) each
    # log(1 - z_t) = log sigmoid(-(W_z x_t + b_z))
    log_a = F.logsigmoid(-u_z)
    # log(z_t h~_t) = log sigmoid(W_z x_t + b_z) + log g(W_h x_t + b_h)
    log_b = F.logsigmoid(u_z) + log_g(u_h)
    return log_a, log_b


def min_lstm_coefficients(u: Tensor) -> tuple[Tensor, Tensor]:
    """log a_t = log f'_t and log b_t = log(i'_t h~_t) from u = (W_f|W_i|W_h) x_t + b: (..., 3H)."""
    u_f, u_i, u_h = u.chunk(3, dim=-1)  # (..., H) each
    # log i_t - log f_t = log sigmoid(W_i x_t + b_i) - log sigmoid(W_f x_t + b_f)
    d = F.logsigmoid(u_i) - F.logsigmoid(u_f)
    # log f'_t = log(f_t / (f_t + i_t)) = -softplus(log i_t - log f_t)
    log_a = -F.softplus(d)
    # log(i'_t h~_t) = -softplus(log f_t - log i_t) + log g(W_h x_t + b_h)
    log_b = -F.softplus(-d) + log_g(u_h)
    return log_a, log_b


def min_gru_step(x: Tensor, h_prev: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """One minGRU step in plain torch: x (B, I), h_prev (B, H), weight (2H, I), bias (2H,)."""
    u_z, u_h = F.linear(x, weight, bias).chunk(2, dim=-1)  # (B, H) each
    # z_t = sigmoid(W_z x_t + b_z)
    z = torch.sigmoid(u_z)
    # h~_t = g(W_h x_t + b_h)
    h_tilde = g(u_h)
    # h_t = (1 - z_t) * h_{t-1} + z_t * h~_t
    return (1 - z) * h_prev + z * h_tilde  # (B, H)


def min_lstm_step(x: Tensor, h_prev: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """One minLSTM step in plain torch: x (B, I), h_prev (B, H), weight (3H, I), bias (3H,)."""
    u_f, u_i, u_h = F.linear(x, weight, bias).chunk(3, dim=-1)  # (B, H) each
    # log f_t - log i_t, for f'_t = f_t / (f_t + i_t) = sigmoid(log f_t - log i_t): no 0 / 0 when
    # both gates underflow
    d = F.logsigmoid(u_f) - F.logsigmoid(u_i)
    # f'_t = f_t / (f_t + i_t)
    f_norm = torch.sigmoid(d)
    # i'_t = i_t / (f_t + i_t)
    i_norm = torch.sigmoid(-d)
    # h~_t = g(W_h x_t + b_h)
    h_tilde = g(u_h)
    # h_t = f'_t * h_{t-1} + i'_t * h~_t
    return f_norm * h_prev + i_norm * h_tilde  # (B, H)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """(B, T, *) -> (B, T, *): each sequence's first len_b steps in reverse order, padding left in
    place on the right. Its own inverse."""
    if lengths is None:
        return x.flip(1)
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device)  # (T,)
    n = lengths[:, None]  # (B, 1)
    src = torch.where(t < n, n - 1 - t, t)  # (B, T) where step t of the result comes from
    return x.gather(1, src.view(B, T, *([1] * (x.dim() - 2))).expand_as(x))


class _MinimalRNN(nn.Module):
    """Stacking, directions, lengths and the two modes shared by :class:`MinGRU` and `MinLSTM`."""

    gates: int  # gate inputs per hidden unit: 2 (z, h~) or 3 (f, i, h~)
    coefficients: staticmethod  # u (..., G*H) -> log a_t, log b_t (..., H): the parallel form
    cell: staticmethod  # (x_t, h_prev, weight, bias) -> h_t: the sequential form

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):  # fmt: skip
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if isinstance(dropout, bool) or not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        D = 2 if bidirectional else 1
        kw = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else D * hidden_size
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                w = torch.empty(self.gates * hidden_size, layer_in, **kw)
                self.register_parameter("weight_ih" + sfx, nn.Parameter(w))
                b = nn.Parameter(torch.empty(self.gates * hidden_size, **kw)) if bias else None
                self.register_parameter("bias_ih" + sfx, b)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Linear``'s initialisation, as the paper: weight and bias ~ U(-1/sqrt(n), 1/sqrt(n))
        with n the layer's input size (there is no hidden-to-hidden weight)."""
        D = 1 + self.bidirectional
        for layer in range(self.num_layers):
            k = 1.0 / math.sqrt(self.input_size if layer == 0 else D * self.hidden_size)
            for d in range(D):
                for p in self._weights(layer, d):
                    if p is not None:
                        nn.init.uniform_(p, -k, k)

    def _weights(self, layer: int, d: int) -> tuple[Tensor, Tensor | None]:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        return getattr(self, "weight_ih" + sfx), getattr(self, "bias_ih" + sfx)

    # ---- input checks ----------------------------------------------------------------------
    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"{name} input must be a floating-point Tensor, got {got}")
        layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
        if x.dim() != 3 or x.shape[-1] != self.input_size or 0 in x.shape:
            raise ValueError(f"{name} expects a non-empty input {layout} with I = input_size = "
                             f"{self.input_size}, got shape {tuple(x.shape)}")  # fmt: skip
        if x.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"input dtype {x.dtype} differs from the parameters' "
                            f"{self.weight_ih_l0.dtype}")  # fmt: skip

    def _initial_state(self, hx: Tensor | None, B: int) -> Tensor | None:
        expected = ((1 + self.bidirectional) * self.num_layers, B, self.hidden_size)
        if hx is not None and (not isinstance(hx, torch.Tensor) or tuple(hx.shape) != expected):
            got = tuple(hx.shape) if isinstance(hx, torch.Tensor) else type(hx).__name__
            raise ValueError(f"h_0 must have shape (L*D, B, H) = {expected}, got {got}")
        return hx

    # ---- forward -----------------------------------------------------------------------------
    def forward(
        self,
        input: Tensor,
        hx: Tensor | None = None,
        lengths: Tensor | None = None,
        mode: str = "parallel",
    ) -> tuple[Tensor, Tensor]:
        """Run the stack over a batch of sequences.

        Args:
            input: (B, T, I) if ``batch_first`` else (T, B, I).
            hx: h_0 (L*D, B, H), any sign; zeros when None.
            lengths: (B,) real length of each sequence, 1 <= len <= T, padding on the right.
                A padded step keeps the state (a_t = 1, b_t = 0) and outputs zeros.
            mode: ``"parallel"`` (the log-space scan over T: training) or ``"sequential"`` (the
                cell equations step by step, as :meth:`step`; same numbers up to rounding).

        Returns:
            output: (B, T, D*H) or (T, B, D*H), the last layer's states.
            h_n: (L*D, B, H), each layer's and direction's state after each sequence's last
                real step (the reverse direction's after its first).
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self._check_input(input)
        x = input if self.batch_first else input.transpose(0, 1)  # (B, T, I)
        B, T, _ = x.shape
        h0 = self._initial_state(hx, B)
        mask = None  # (B, T, 1) bool, True at real steps
        if lengths is not None:
            lengths = check_lengths(lengths, T, B, x.device)
            if int(lengths.min()) < T:
                mask = (torch.arange(T, device=x.device) < lengths[:, None]).unsqueeze(-1)
        D = 1 + self.bidirectional
        h_n = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                h0_k = None if h0 is None else h0[k]  # (B, H)
                run = self._parallel if mode == "parallel" else self._sequential
                out, h_last = run(x, h0_k, *self._weights(layer, d), mask, lengths, d == 1)
                outs.append(out)
                h_n.append(h_last)
            x = outs[0] if D == 1 else torch.cat(outs, dim=-1)  # (B, T, D*H)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        output = x if self.batch_first else x.transpose(0, 1)
        return output, torch.stack(h_n)

    def _parallel(self, x, h0, weight, bias, mask, lengths, reverse):
        """One layer direction by the log-space scan: (B, T, I) -> out (B, T, H), h_n (B, H)."""
        if reverse:
            x = reverse_padded(x, lengths)
        u = F.linear(x, weight, bias)  # (B, T, G*H): every step's gate inputs in one GEMM
        log_a, log_b = self.coefficients(u)  # (B, T, H) each
        if mask is not None:
            # a padded step keeps the state: a_t = 1, b_t = 0
            log_a = log_a.masked_fill(~mask, 0.0)
            log_b = log_b.masked_fill(~mask, -math.inf)
        h = heinsen_scan(log_a, log_b, h0)  # (B, T, H)
        h_last = h[:, -1]  # (B, H): padded steps kept each sequence's last real state
        if mask is not None:
            h = h.masked_fill(~mask, 0.0)  # outputs zeros at padding
        return (reverse_padded(h, lengths) if reverse else h), h_last

    def _sequential(self, x, h0, weight, bias, mask, lengths, reverse):
        """One layer direction step by step (:func:`rnnlab.nn.run_steps`): same signature."""
        step = partial(self.cell, weight=weight, bias=bias)
        h0 = x.new_zeros(x.shape[0], self.hidden_size) if h0 is None else h0
        m = None if mask is None else mask.transpose(0, 1)  # (T, B, 1)
        out, h_last = run_steps(step, x.transpose(0, 1), h0, m, reverse)  # out (T, B, H)
        return out.transpose(0, 1), h_last

    def step(self, x_t: Tensor, h_prev: Tensor | None = None) -> Tensor:
        """One time step through the stack, for generation: x_t (B, I), h_prev (L, B, H) or None
        (zeros) -> h_t (L, B, H); the output at step t is ``h_t[-1]``. No dropout is applied."""
        name = type(self).__name__
        if self.bidirectional:
            raise ValueError(f"a bidirectional {name} cannot run step by step: its reverse "
                             "direction reads the sequence from the end")  # fmt: skip
        if not isinstance(x_t, torch.Tensor) or x_t.dim() != 2 or x_t.shape[1] != self.input_size:
            got = tuple(x_t.shape) if isinstance(x_t, torch.Tensor) else type(x_t).__name__
            raise ValueError(f"{name}.step expects x_t (B, I = {self.input_size}), got {got}")
        B = x_t.shape[0]
        if h_prev is None:
            h_prev = x_t.new_zeros(self.num_layers, B, self.hidden_size)
        self._initial_state(h_prev, B)
        h = []
        for layer in range(self.num_layers):
            x_t = self.cell(x_t, h_prev[layer], *self._weights(layer, 0))  # (B, H)
            h.append(x_t)
        return torch.stack(h)  # (L, B, H)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):  # fmt: skip
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)!r}"
        return s


class MinGRU(_MinimalRNN):
    """minGRU (Feng et al. 2024): a GRU whose gates read only x_t, trained by a parallel scan.

        z_t  = sigmoid(W_z x_t + b_z)
        h~_t = g(W_h x_t + b_h),            g(v) = v + 0.5 if v >= 0 else sigmoid(v)
        h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t

    Parameters per layer and direction: ``weight_ih_l{k}`` (2H, I_k) = (W_z|W_h) and
    ``bias_ih_l{k}`` (2H,) (``..._reverse``); no hidden-to-hidden weight. Arguments as
    ``torch.nn.GRU`` (``input_size, hidden_size, num_layers, bias, batch_first, dropout,
    bidirectional``); ``forward(input, hx=None, lengths=None, mode="parallel") -> output, h_n``
    and ``step(x_t, h_prev) -> h_t``. See the module docstring for the scan and what it costs.

    Example::

        rnn = MinGRU(64, 256, num_layers=2, batch_first=True)
        out, h_n = rnn(torch.randn(16, 1024, 64))  # out (16, 1024, 256), h_n (2, 16, 256)
        h = rnn.step(torch.randn(16, 64), h_n)      # (2, 16, 256): the next step, sequentially
    """

    gates = 2
    coefficients = staticmethod(min_gru_coefficients)
    cell = staticmethod(min_gru_step)


class MinLSTM(_MinimalRNN):
    """minLSTM (Feng et al. 2024): an LSTM with gates that read only x_t, normalised forget and
    input gates and no output gate or cell state, trained by a parallel scan.

        f_t  = sigmoid(W_f x_t + b_f),   i_t = sigmoid(W_i x_t + b_i)
        f'_t = f_t / (f_t + i_t),        i'_t = i_t / (f_t + i_t)
        h~_t = g(W_h x_t + b_h)
        h_t  = f'_t * h_{t-1} + i'_t * h~_t

    Parameters per layer and direction: ``weight_ih_l{k}`` (3H, I_k) = (W_f|W_i|W_h) and
    ``bias_ih_l{k}`` (3H,). The state is h alone, so ``forward`` returns ``output, h_n`` (not
    ``(h_n, c_n)``); otherwise as :class:`MinGRU`.

    Example::

        rnn = MinLSTM(64, 256, batch_first=True)
        out, h_n = rnn(torch.randn(4, 50, 64), lengths=torch.tensor([50, 7, 20, 1]))
    """

    gates = 3
    coefficients = staticmethod(min_lstm_coefficients)
    cell = staticmethod(min_lstm_step)
