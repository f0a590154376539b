"""The BPTT Functions on the compiled time loop: ``NativeRNNFunction``, ``NativeLSTMFunction``,
``NativeGRUFunction``.

Symbols: T time, B batch, I input features, H hidden units.

Same ``apply`` arguments, outputs and gradients as :class:`RNNFunction`, :class:`LSTMFunction`
and :class:`GRUFunction` (the readable reference engine; their modules hold the equations), and
the same structure: the products over all T*B rows run here in torch, under the rules of
:mod:`precision` (the input projection a^x_t = W_ih x_t + b for every t in one GEMM before the
loop; dx, dW_ih, dW_hh and the biases in one GEMM or sum each after it); only the sequential part
runs in ``csrc/bptt.cpp`` (:mod:`native` builds it): per step the recurrent GEMM and one fused
pass over the B*H units, forward and backward, masks and direction handled inside the loop.

Differences in layout, not in results: gates stay in PyTorch's order (i, f, g, o) (the loop
handles the four in one pass, no permutation); a reverse direction walks time backwards instead
of flipping x; the GRU's b_hr, b_hz (and for ``reset_after=False`` b_hn too) are folded into the
input projection, as they sit outside the reset gate.

Without gradients (``torch.no_grad()``, or no input requires grad) ``apply`` skips autograd and
runs the loop in inference mode: no activated gates, per-step states or cell states are kept,
only the output and two (B, H) state buffers.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnnlab.nn import native, precision
from rnnlab.nn.gru_bptt import GRUFunction, weight_grads
from rnnlab.nn.lstm_bptt import LSTMFunction
from rnnlab.nn.rnn_bptt import RNNFunction
from rnnlab.nn.workspace import scratch


def _needs_grad(args) -> bool:
    return torch.is_grad_enabled() and any(
        isinstance(a, torch.Tensor) and a.requires_grad for a in args
    )


def _mask(mask: torch.Tensor | None, T: int, B: int) -> torch.Tensor | None:
    """(T, B, 1) step mask -> (T, B) contiguous, as the loop reads it."""
    return None if mask is None else mask.reshape(T, B).contiguous()


def _c(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.contiguous()


def _project(x, w_ih, bias, low):
    """a^x_t = W_ih x_t + bias for every t in one GEMM: (T, B, I) -> (T, B, G*H), fresh memory
    that the loop overwrites; and x as (T*B, I) rows (a copy when x was not contiguous, as for
    batch_first input), which backward reuses for dW_ih."""
    T, B, I = x.shape
    x2 = x.reshape(T * B, I)
    return precision.addmm(bias, x2, w_ih.t(), low).view(T, B, -1), x2


def _out(out: torch.Tensor, hs: torch.Tensor, mask, reverse: bool) -> torch.Tensor:
    """The training output: the op's own buffer with a mask; without one it comes back empty and
    out_t = h_t is the slice of the (T+1, B, H) state buffer (see csrc/bptt.cpp)."""
    if mask is not None:
        return out
    return hs[:-1] if reverse else hs[1:]


def _prev_states(hs: torch.Tensor, reverse: bool) -> torch.Tensor:
    """h_{t-1} of every step t from the (T+1, B, H) state buffer: (T*B, H) (see csrc/bptt.cpp)."""
    T = hs.shape[0] - 1
    return (hs[1:] if reverse else hs[:T]).reshape(T * hs.shape[1], hs.shape[2])


class _NativeFunction(precision.AutocastFunction):
    @classmethod
    def _run(cls, *args):
        if _needs_grad(args):
            return super()._run(*args)
        return cls._infer(*args)


class NativeRNNFunction(_NativeFunction):
    """One vanilla RNN layer direction on the compiled loop; ``apply`` as :class:`RNNFunction`."""

    _param = 3  # w_hh

    @staticmethod
    def _infer(x, h0, w_ih, w_hh, b_ih, b_hh, relu, mask, reverse, rec, low):
        T, B, _ = x.shape
        gates, _ = _project(x, w_ih, None if b_ih is None else b_ih + b_hh, low)  # (T, B, H)
        out, h_n = native.load().rnn_forward(
            gates, w_hh.contiguous(), h0.contiguous(), _mask(mask, T, B), relu, reverse, False
        )
        return out, h_n

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, relu, mask, reverse, rec, low=None):
        T, B, _ = x.shape
        # a^x_t = W_ih x_t + b_ih + b_hh ; the loop turns it into h~_t = phi(a_t)
        gates, x2 = _project(x, w_ih, None if b_ih is None else b_ih + b_hh, low)  # (T, B, H)
        m = _mask(mask, T, B)
        out, h_n, hs = native.load().rnn_forward(
            gates, w_hh.contiguous(), h0.contiguous(), m, relu, reverse, True
        )
        out = _out(out, hs, m, reverse)  # (T, B, H)
        ctx.save_for_backward(x2, w_ih, w_hh, gates, hs, m)
        ctx.relu, ctx.reverse, ctx.rec, ctx.has_bias, ctx.low = (
            relu, reverse, rec, b_ih is not None, low
        )  # fmt: skip
        return out, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, dh_n):
        x2, w_ih, w_hh, gates, hs, m = ctx.saved_tensors
        T, B, H = gates.shape
        I = x2.shape[1]
        dgates = scratch(gates.shape, x2, "dgates")  # (T, B, H) da_t
        steps = x2.new_empty(T, B, H) if ctx.rec is not None else None
        dh0 = native.load().rnn_backward(
            _c(dout), _c(dh_n), gates, w_hh.contiguous(), m, ctx.relu, ctx.reverse, dgates, steps
        )
        if steps is not None:
            ctx.rec(steps)
        # weight, bias and input gradients: one GEMM each over all T*B rows
        da2 = dgates.view(T * B, H)
        dx = dw_ih = dw_hh = db = None
        if ctx.needs_input_grad[0]:
            dx = precision.mm(da2, w_ih, ctx.low).view(T, B, I)  # dx_t = da_t W_ih
        if ctx.needs_input_grad[2]:
            dw_ih = precision.mm(da2.t(), x2, ctx.low)  # sum_t da_t^T x_t
        if ctx.needs_input_grad[3]:
            # dW_hh = sum_t da_t^T h_{t-1}
            dw_hh = precision.mm(da2.t(), _prev_states(hs, ctx.reverse), ctx.low)
        if ctx.has_bias:
            db = da2.sum(0)  # db_ih = db_hh = sum_t da_t
        return dx, dh0, dw_ih, dw_hh, db, db, None, None, None, None, None


class NativeLSTMFunction(_NativeFunction):
    """One LSTM layer direction on the compiled loop; ``apply`` as :class:`LSTMFunction`."""

    _param = 4  # w_hh

    @staticmethod
    def _infer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, reverse, rec, low):
        T, B, _ = x.shape
        gates, _ = _project(x, w_ih, None if b_ih is None else b_ih + b_hh, low)  # (T, B, 4H)
        out, h_n, c_n = native.load().lstm_forward(
            gates, w_hh.contiguous(), h0.contiguous(), c0.contiguous(), _mask(mask, T, B),
            reverse, False,
        )  # fmt: skip
        return out, h_n, c_n

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, reverse, rec, low=None):
        T, B, _ = x.shape
        # a^x_t = W_ih x_t + b_ih + b_hh ; the loop turns it into (i_t, f_t, g_t, o_t)
        gates, x2 = _project(x, w_ih, None if b_ih is None else b_ih + b_hh, low)  # (T, B, 4H)
        m = _mask(mask, T, B)
        out, h_n, c_n, hs, cs = native.load().lstm_forward(
            gates, w_hh.contiguous(), h0.contiguous(), c0.contiguous(), m, reverse, True
        )
        out = _out(out, hs, m, reverse)  # (T, B, H)
        ctx.save_for_backward(x2, w_ih, w_hh, gates, hs, cs, m)
        ctx.reverse, ctx.rec, ctx.has_bias, ctx.low = reverse, rec, b_ih is not None, low
        return out, h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, dh_n, dc_n):
        x2, w_ih, w_hh, gates, hs, cs, m = ctx.saved_tensors
        T, B, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        I = x2.shape[1]
        dgates = scratch(gates.shape, x2, "dgates")  # (T, B, 4H) da_t
        steps = x2.new_empty(T, B, H) if ctx.rec is not None else None
        dh0, dc0 = native.load().lstm_backward(
            _c(dout), _c(dh_n), _c(dc_n), gates, hs, cs, w_hh.contiguous(), m, ctx.reverse,
            dgates, steps,
        )  # fmt: skip
        if steps is not None:
            ctx.rec(steps)
        # weight, bias and input gradients: one GEMM each over all T*B rows
        da2 = dgates.view(T * B, 4 * H)
        dx = dw_ih = dw_hh = db = None
        if ctx.needs_input_grad[0]:
            dx = precision.mm(da2, w_ih, ctx.low).view(T, B, I)  # dx_t = da_t W_ih
        if ctx.needs_input_grad[3]:
            dw_ih = precision.mm(da2.t(), x2, ctx.low)  # sum_t da_t^T x_t
        if ctx.needs_input_grad[4]:
            # dW_hh = sum_t da_t^T h_{t-1}
            dw_hh = precision.mm(da2.t(), _prev_states(hs, ctx.reverse), ctx.low)
        if ctx.has_bias:
            db = da2.sum(0)  # db_ih = db_hh = sum_t da_t
        return dx, dh0, dc0, dw_ih, dw_hh, db, db, None, None, None, None


def _gru_biases(b_ih, b_hh, reset_after):
    """(bias folded into the input projection (3H,), b_hn (H,) kept inside the reset) or Nones.

    reset_after: b_hr, b_hz join b_ih; b_hn stays inside r_t * (W_hn h + b_hn).
    reset_before: all of b_hh sits outside the reset and joins b_ih.
    """
    if b_ih is None:
        return None, None
    if not reset_after:
        return b_ih + b_hh, None
    H2 = 2 * b_hh.shape[0] // 3
    return torch.cat([b_ih[:H2] + b_hh[:H2], b_ih[H2:]]), b_hh[H2:].contiguous()


class NativeGRUFunction(_NativeFunction):
    """One GRU layer direction on the compiled loop, both forms; ``apply`` as
    :class:`GRUFunction`."""

    _param = 3  # w_hh

    @staticmethod
    def _infer(x, h0, w_ih, w_hh, b_ih, b_hh, reset_after, mask, reverse, rec, low):
        T, B, _ = x.shape
        bias, b_hn = _gru_biases(b_ih, b_hh, reset_after)
        gates, _ = _project(x, w_ih, bias, low)  # (T, B, 3H)
        out, h_n = native.load().gru_forward(
            gates, w_hh.contiguous(), b_hn, h0.contiguous(), _mask(mask, T, B), reset_after,
            reverse, False,
        )  # fmt: skip
        return out, h_n

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reset_after, mask, reverse, rec, low=None):
        T, B, _ = x.shape
        bias, b_hn = _gru_biases(b_ih, b_hh, reset_after)
        # a^x_t = W_ix x_t + b (r, z, n) ; the loop turns it into (r_t, z_t, n_t)
        gates, x2 = _project(x, w_ih, bias, low)  # (T, B, 3H)
        m = _mask(mask, T, B)
        # aux (T, B, H): W_hn h_{t-1} + b_hn (reset_after) or r_t * h_{t-1} (reset_before)
        out, h_n, hs, aux = native.load().gru_forward(
            gates, w_hh.contiguous(), b_hn, h0.contiguous(), m, reset_after, reverse, True
        )
        out = _out(out, hs, m, reverse)  # (T, B, H)
        ctx.save_for_backward(x2, w_ih, w_hh, gates, hs, aux, m)
        ctx.reset_after, ctx.reverse, ctx.rec = reset_after, reverse, rec
        ctx.has_bias, ctx.low = b_ih is not None, low
        return out, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, dh_n):
        x2, w_ih, w_hh, gates, hs, aux, m = ctx.saved_tensors
        reset_after, low = ctx.reset_after, ctx.low
        T, B, H = aux.shape
        I = x2.shape[1]
        dx_gates = scratch(gates.shape, x2, "dgates")  # (T, B, 3H): (da_r, da_z, da_n)
        # reset_after: gradients of the recurrent pre-activations (da_r, da_z, da_n * r_t)
        dh_gates = scratch(gates.shape, x2, "dgates_h") if reset_after else None
        steps = x2.new_empty(T, B, H) if ctx.rec is not None else None
        dh0 = native.load().gru_backward(
            _c(dout), _c(dh_n), gates, hs, aux, w_hh.contiguous(), m, reset_after, ctx.reverse,
            dx_gates, dh_gates, steps,
        )  # fmt: skip
        if steps is not None:
            ctx.rec(steps)
        # weight, bias and input gradients: single GEMMs over all T*B rows
        dax2 = dx_gates.view(T * B, 3 * H)
        h2 = _prev_states(hs, ctx.reverse)  # (T*B, H) h_{t-1}
        dx = None
        if ctx.needs_input_grad[0]:
            dx = precision.mm(dax2, w_ih, low).view(T, B, I)  # dx_t = da^x_t W_ih
        dw_ih, dw_hh, db_ih, db_hh = weight_grads(
            ctx, dax2, dh_gates, x2, h2, aux, reset_after, low
        )
        return dx, dh0, dw_ih, dw_hh, db_ih, db_hh, None, None, None, None, None


REFERENCE = {"rnn": RNNFunction, "lstm": LSTMFunction, "gru": GRUFunction}
NATIVE = {"rnn": NativeRNNFunction, "lstm": NativeLSTMFunction, "gru": NativeGRUFunction}


def function(kind: str, engine: str, w: torch.Tensor) -> type[precision.AutocastFunction]:
    """The BPTT Function of ``kind`` ("rnn", "lstm", "gru") that ``engine`` runs for parameters
    like ``w`` (see :func:`native.use_native` for "auto" and the errors of "native")."""
    return (NATIVE if native.use_native(engine, w) else REFERENCE)[kind]
