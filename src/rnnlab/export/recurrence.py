"""An export-friendly twin of :class:`rnnlab.nn.RNNBase`'s forward: masks and a ``scan`` over time.

Symbols: T time, B batch, I input features, H hidden units, G gate rows (4H, 3H or H), L layers,
D directions.

Our layers run each layer direction as an autograd Function with a hand-written backward, which
no exporter can trace, and PyTorch's own packed-sequence path does not export either
(pytorch#49936). :class:`MaskedRecurrence` computes the same function from the same parameters
with plain tensor ops: the input projections of all steps in one product, then one
``torch._higher_order_ops.scan`` over time, which ``torch.onnx.export`` turns into an ONNX
``Scan`` with a dynamic number of steps. Variable lengths are a (T, B, 1) step mask, as in
:mod:`rnnlab.nn.lengths`: at a padded step

    h_t = m_t * h~_t + (1 - m_t) * h_{t-1}        (c_t alike)        output_t = m_t * h~_t

so a padded step keeps the state and outputs zeros, exactly what the layers do; the reverse
direction runs the same scan over the flipped sequence. It is inference only (no dropout between
layers, no weight dropout: the model must be in eval mode), and it is held equal to the layer's
own forward in tests/export.
"""

from __future__ import annotations

import torch
from torch import nn
from torch._higher_order_ops.scan import scan

from rnnlab.nn.lengths import step_mask
from rnnlab.nn.recurrent import RNNBase


class MaskedRecurrence(nn.Module):
    """Wraps a recurrent layer (sharing its parameters); ``forward`` takes and returns what the
    layer's does (batched input only, no PackedSequence)."""

    def __init__(self, layer: RNNBase) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, input: torch.Tensor, hx=None, lengths: torch.Tensor | None = None):
        """As :meth:`rnnlab.nn.RNNBase.forward`.

        Args:
            input: (B, T, I) if ``batch_first`` else (T, B, I).
            hx: initial state (L*D, B, H) (LSTM: ``(h_0, c_0)``); zeros when None.
            lengths: (B,) real steps per sequence, on the layer's ``padding_side``.

        Returns:
            output (B, T, D*H) or (T, B, D*H), zeros at padding; h_n (L*D, B, H) (LSTM:
            ``(h_n, c_n)``), the state after each sequence's last real step.
        """
        layer = self.layer
        x = input.transpose(0, 1) if layer.batch_first else input  # (T, B, I)
        T, B = x.shape[0], x.shape[1]
        D, H = (2 if layer.bidirectional else 1), layer.hidden_size
        if lengths is None:
            mask = x.new_ones(T, B, 1)  # (T, B, 1)
        else:
            mask = step_mask(lengths, T, layer.padding_side).unsqueeze(-1).to(x.dtype)
        lstm = layer.mode == "LSTM"
        if hx is None:
            h0 = x.new_zeros(layer.num_layers * D, B, H)
            c0 = x.new_zeros(layer.num_layers * D, B, H) if lstm else None
        else:
            h0, c0 = hx if lstm else (hx, None)
        h_n, c_n = [], []
        for k in range(layer.num_layers):
            outs = []
            for d in range(D):
                i = k * D + d
                out, h, c = self._direction(x, mask, k, d, h0[i], c0[i] if lstm else None)
                outs.append(out)
                h_n.append(h)
                if lstm:
                    c_n.append(c)
            x = outs[0] if D == 1 else torch.cat(outs, dim=-1)  # (T, B, D*H)
        out = x.transpose(0, 1) if layer.batch_first else x
        state = torch.stack(h_n)  # (L*D, B, H)
        return out, ((state, torch.stack(c_n)) if lstm else state)

    def _direction(self, x, mask, k: int, d: int, h0, c0):
        """One layer direction: (T, B, I) -> output (T, B, H), last h (B, H), last c or None."""
        w_ih, w_hh, b_ih, b_hh = self.layer._weights(k, d)
        xw = x @ w_ih.T  # (T, B, G): every step's input projection in one product
        if b_ih is not None:
            xw = xw + b_ih
        if d == 1:  # the reverse direction: the same recurrence over the flipped sequence
            xw, mask = xw.flip(0), mask.flip(0)
        step = _step(self.layer, w_hh, b_hh)
        carry = (h0, c0) if c0 is not None else (h0,)
        last, out = scan(step, carry, (xw, mask))
        out = out.flip(0) if d == 1 else out  # (T, B, H)
        return out, last[0], (last[1] if c0 is not None else None)


def _step(layer: RNNBase, w_hh: torch.Tensor, b_hh: torch.Tensor | None):
    """The scan body of ``layer``'s cell: (carry, (xw_t (B, G), m_t (B, 1))) -> (carry, out_t)."""
    mode = layer.mode
    H = layer.hidden_size

    def recurrent(h: torch.Tensor) -> torch.Tensor:
        r = h @ w_hh.T  # (B, G)
        return r + b_hh if b_hh is not None else r

    def masked(m, new, old):
        # h_t = m_t * h~_t + (1 - m_t) * h_{t-1}: a padded step keeps the state
        return m * new + (1 - m) * old

    if mode == "LSTM":

        def lstm_step(carry, inputs):
            (h, c), (xw, m) = carry, inputs
            gates = xw + recurrent(h)  # (B, 4H), gate order i, f, g, o
            i, f, g, o = gates.split(H, dim=-1)
            # c_t = f_t * c_{t-1} + i_t * g_t ; h_t = o_t * tanh(c_t)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h_new = torch.sigmoid(o) * torch.tanh(c_new)
            return (masked(m, h_new, h), masked(m, c_new, c)), m * h_new

        return lstm_step
    if mode == "GRU":
        reset_after = layer.reset_after

        def gru_step(carry, inputs):
            (h,), (xw, m) = carry, inputs
            x_r, x_z, x_n = xw.split(H, dim=-1)  # gate order r, z, n
            w_r, w_z, w_n = w_hh.split(H, dim=0)  # (H, H) each
            b_r, b_z, b_n = b_hh.split(H) if b_hh is not None else (0.0, 0.0, 0.0)
            r = torch.sigmoid(x_r + h @ w_r.T + b_r)
            z = torch.sigmoid(x_z + h @ w_z.T + b_z)
            if reset_after:  # n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
                n = torch.tanh(x_n + r * (h @ w_n.T + b_n))
            else:  # n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
                n = torch.tanh(x_n + (r * h) @ w_n.T + b_n)
            h_new = (1 - z) * n + z * h  # h_t = (1 - z_t) * n_t + z_t * h_{t-1}
            return (masked(m, h_new, h),), m * h_new

        return gru_step
    act = torch.relu if mode == "RNN_RELU" else torch.tanh

    def rnn_step(carry, inputs):
        (h,), (xw, m) = carry, inputs
        h_new = act(xw + recurrent(h))  # h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        return (masked(m, h_new, h),), m * h_new

    return rnn_step


def with_masked_recurrence(model: nn.Module) -> nn.Module:
    """``model`` with every :class:`RNNBase` submodule replaced (in place) by a
    :class:`MaskedRecurrence` around it; returns ``model``. Use on a copy."""
    for name, child in list(model.named_children()):
        if isinstance(child, RNNBase):
            setattr(model, name, MaskedRecurrence(child))
        else:
            with_masked_recurrence(child)
    return model
