"""Vanilla (Elman) RNN over a whole sequence, one direction, with hand-written BPTT.

Symbols: T time, B batch, I input features, H hidden units.

    h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   phi = tanh or relu

Backward, with a_t the pre-activation and dh_t the total gradient reaching h_t:

    da_t = dh_t * phi'(a_t)          tanh: 1 - h_t^2 ; relu: [h_t > 0]
    dh_{t-1} = da_t W_hh  (+ dL/dout_{t-1})
    dW_hh = sum_t da_t^T h_{t-1},  dW_ih = sum_t da_t^T x_t,  db = sum_t da_t,  dx_t = da_t W_ih

Repeating dh_{t-1} = (dh_t * phi'(a_t)) W_hh over many steps multiplies the gradient by the same
Jacobian again and again: it vanishes when the norm of diag(phi') W_hh stays below 1 and explodes
above it (clip with ``torch.nn.utils.clip_grad_norm_``).

Variable lengths use a mask m_t (B, 1): a padded step keeps the state and outputs zeros.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnnlab.nn import precision
from rnnlab.nn.workspace import scratch

_tanh_bwd = torch.ops.aten.tanh_backward.grad_input  # grad * (1 - y^2), written to out
_relu_bwd = torch.ops.aten.threshold_backward.grad_input  # grad * [y > 0], written to out


class RNNFunction(precision.AutocastFunction):
    """One vanilla RNN layer direction: ``apply(x, h0, w_ih, w_hh, b_ih, b_hh, relu, mask, reverse,
    rec)``.

    Args:
        x: (T, B, I) input, time-major. h0: (B, H).
        w_ih: (H, I); w_hh: (H, H); b_ih, b_hh: (H,) or None.
        relu: use relu instead of tanh.
        mask: (T, B, 1) 1.0 at real steps, 0.0 at padding, or None.
        reverse: walk time from T-1 down to 0.
        rec: callable receiving dL/dh_t (T, B, H) in backward, or None.

    Under ``torch.autocast`` the products over all T*B rows (input projection; dx, dW_ih, dW_hh)
    run in its lower precision, the recurrence in the parameters' (:mod:`precision`).

    Returns:
        out (T, B, H), h_n (B, H).
    """

    _param = 3  # w_hh

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, relu, mask, reverse, rec, low=None):
        if reverse:
            x = x.flip(0)
            mask = None if mask is None else mask.flip(0)
        T, B, I = x.shape
        H = w_hh.shape[0]
        x2 = x.reshape(T * B, I)
        # a^x_t = W_ih x_t + b_ih + b_hh for every t in one GEMM
        pre = precision.addmm(None if b_ih is None else b_ih + b_hh, x2, w_ih.t(), low)
        pre = pre.view(T, B, H)
        hs = x.new_empty(T + 1, B, H)  # hs[t] is h_{t-1}
        hs[0] = h0
        ht = x.new_empty(T, B, H) if mask is not None else hs[1:]  # h~_t before masking
        A, Hs, Ht = pre.unbind(0), hs.unbind(0), ht.unbind(0)
        w_hh_t = w_hh.t().contiguous()  # (H, H), contiguous for the per-step GEMM
        if mask is not None:
            Mb = (mask > 0).unbind(0)
        for t in range(T):
            # h_t = phi(a^x_t + W_hh h_{t-1})
            a = A[t].addmm_(Hs[t], w_hh_t)
            torch.clamp_min(a, 0.0, out=Ht[t]) if relu else torch.tanh(a, out=Ht[t])
            if mask is not None:
                # padded steps keep the state: h_t = m h~_t + (1 - m) h_{t-1}
                torch.where(Mb[t], Ht[t], Hs[t], out=Hs[t + 1])
        out = ht if mask is None else ht * mask  # zeros at padding
        ctx.save_for_backward(x, w_ih, w_hh, hs, ht, mask)
        ctx.relu, ctx.reverse, ctx.rec, ctx.has_bias = relu, reverse, rec, b_ih is not None
        ctx.low = low
        return (out.flip(0) if reverse else out), hs[T].clone()

    @staticmethod
    @once_differentiable  # the backward itself is hand-written, not differentiable again
    def backward(ctx, dout, dh_n):
        x, w_ih, w_hh, hs, ht, mask = ctx.saved_tensors
        T, B, I = x.shape
        H = w_hh.shape[0]
        if dout is None:
            dout = x.new_zeros(T, B, H)
        elif ctx.reverse:
            dout = dout.flip(0)
        dh = x.new_zeros(B, H) if dh_n is None else dh_n.clone()  # dL/dh_t, running
        dpre = scratch(ht.shape, x, "dgates")  # (T, B, H) gradients of the pre-activations
        steps = x.new_empty(T, B, H) if ctx.rec is not None else None
        DA, Ht, DO = dpre.unbind(0), ht.unbind(0), dout.unbind(0)
        if mask is not None:
            M, keep = mask.unbind(0), (1.0 - mask).unbind(0)
        else:
            dh.add_(DO[T - 1])
        for t in range(T - 1, -1, -1):
            if mask is not None:
                dh_pad = dh * keep[t]  # a padded step passes dh_t straight to h_{t-1}
                dh.add_(DO[t]).mul_(M[t])  # dL/dh~_t = m (dh_t + dL/dout_t)
            if steps is not None:
                steps[t] = dh
            if ctx.relu:
                _relu_bwd(dh, Ht[t], 0.0, grad_input=DA[t])  # da_t = dh_t [h_t > 0]
            else:
                _tanh_bwd(dh, Ht[t], grad_input=DA[t])  # da_t = dh_t (1 - h_t^2)
            # dh_{t-1} = da_t W_hh (+ dL/dout_{t-1})
            if mask is not None:
                torch.addmm(dh_pad, DA[t], w_hh, out=dh)
            elif t > 0:
                torch.addmm(DO[t - 1], DA[t], w_hh, out=dh)
            else:
                torch.mm(DA[t], w_hh, out=dh)
        if steps is not None:
            ctx.rec(steps.flip(0) if ctx.reverse else steps)

        # weight, bias and input gradients: one GEMM each over all T*B rows
        da2 = dpre.view(T * B, H)
        dx = dw_ih = dw_hh = db = None
        if ctx.needs_input_grad[0]:
            dx = precision.mm(da2, w_ih, ctx.low).view(T, B, I)  # dx_t = da_t W_ih
            if ctx.reverse:
                dx = dx.flip(0)
        if ctx.needs_input_grad[2]:
            dw_ih = precision.mm(da2.t(), x.reshape(T * B, I), ctx.low)  # sum_t da_t^T x_t
        if ctx.needs_input_grad[3]:
            dw_hh = precision.mm(da2.t(), hs[:T].reshape(T * B, H), ctx.low)  # sum da_t^T h_{t-1}
        if ctx.has_bias:
            db = da2.sum(0)  # db_ih = db_hh = sum_t da_t
        return dx, dh, dw_ih, dw_hh, db, db, None, None, None, None, None
