"""LSTM over a whole sequence, one direction, with hand-written backpropagation through time.

Symbols: T time, B batch, I input features, H hidden units.

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)         candidate cell
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Parameters use PyTorch's layout: ``weight_ih`` (4H, I) stacked (W_ii|W_if|W_ig|W_io), ``weight_hh``
(4H, H), ``bias_ih`` and ``bias_hh`` (4H). Inside the loop the rows are permuted once to
(i, f, o, g) so that the three sigmoid gates are one contiguous block (one kernel per step instead
of three); the gradients are permuted back before they leave ``backward``.

The backward pass walks time in reverse. With ``a`` the gate pre-activations:

    dh_t  = dL/dout_t + dh_{t+1}-contribution     (total gradient reaching h_t)
    do_t  = dh_t * tanh(c_t)
    dc_t += dh_t * o_t * (1 - tanh^2(c_t))        (error also arrives as dc_{t+1} * f_{t+1}:
                                                   the "constant error flow" of the cell state)
    di_t = dc_t * g_t,  df_t = dc_t * c_{t-1},  dg_t = dc_t * i_t
    da_{i,f,o} = d{i,f,o} * s (1 - s),  da_g = dg_t * (1 - g_t^2)
    dc_{t-1} = dc_t * f_t
    dh_{t-1} = da_t W_hh                          (plus dL/dout_{t-1})
    dW_hh = sum_t da_t^T h_{t-1},  dW_ih = sum_t da_t^T x_t,  db = sum_t da_t,  dx_t = da_t W_ih

The last four are single GEMMs over all T*B rows after the loop.

Variable lengths use a mask m_t (B, 1) in {0, 1}: a padded step keeps the state,
h_t = m h~_t + (1 - m) h_{t-1} (same for c), and outputs m h~_t (zeros at padding).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnnlab.nn import precision
from rnnlab.nn.workspace import scratch

_sigmoid_bwd = torch.ops.aten.sigmoid_backward.grad_input  # grad * s * (1 - s), written to out
_tanh_bwd = torch.ops.aten.tanh_backward.grad_input  # grad * (1 - y^2), written to out


def _ifog(H: int, device: torch.device) -> torch.Tensor:
    """Row permutation from PyTorch's (i, f, g, o) gate order to (i, f, o, g): (4H,) int64."""
    r = torch.arange(H, device=device)
    return torch.cat([r, r + H, r + 3 * H, r + 2 * H])


class LSTMFunction(precision.AutocastFunction):
    """One LSTM layer direction: ``apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, reverse, rec)``.

    Args:
        x: (T, B, I) input, time-major.
        h0, c0: (B, H) initial state.
        w_ih: (4H, I); w_hh: (4H, H); b_ih, b_hh: (4H,) or None.
        mask: (T, B, 1) with 1.0 at real steps and 0.0 at padding, or None (all real).
        reverse: walk time from T-1 down to 0 (the backward direction of a bidirectional layer).
        rec: a callable that receives dL/dh_t (T, B, H) in backward (see :mod:`recorder`), or None.

    Under ``torch.autocast`` the products over all T*B rows (input projection; dx, dW_ih, dW_hh)
    run in its lower precision, the recurrence in the parameters' (:mod:`precision`).

    Returns:
        out (T, B, H), h_n (B, H), c_n (B, H).
    """

    _param = 4  # w_hh

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, reverse, rec, low=None):
        if reverse:
            x = x.flip(0)
            mask = None if mask is None else mask.flip(0)
        T, B, I = x.shape
        H = w_hh.shape[1]
        perm = _ifog(H, x.device)
        w_ih_p, w_hh_p = w_ih[perm], w_hh[perm]  # (4H, I), (4H, H) in (i, f, o, g) order
        w_hh_t = w_hh_p.t().contiguous()  # (H, 4H), contiguous for the per-step GEMM

        # a^x_t = W_ih x_t + b_ih + b_hh for every t in one GEMM
        x2 = x.reshape(T * B, I)
        bias = None if b_ih is None else (b_ih + b_hh)[perm]
        gates = precision.addmm(bias, x2, w_ih_p.t(), low)  # (T*B, 4H)
        gates = gates.view(T, B, 4 * H)  # pre-activations, overwritten by the activated gates
        hs = x.new_empty(T + 1, B, H)  # states h_{-1}..h_{T-1}; hs[t] is h_{t-1}
        cs = x.new_empty(T + 1, B, H)
        tcs = x.new_empty(T, B, H)  # tanh(c~_t), reused by backward
        hs[0], cs[0] = h0, c0
        Hs, Cs, TC = hs.unbind(0), cs.unbind(0), tcs.unbind(0)
        A = gates.unbind(0)  # per step (B, 4H)
        S = gates[..., : 3 * H].unbind(0)  # sigmoid block (i, f, o), (B, 3H) strided
        I_, F_, O_, G_ = (v.unbind(0) for v in gates.split(H, dim=2))  # (B, H) strided views
        out = hs[1:] if mask is None else x.new_empty(T, B, H)
        if mask is not None:
            M, Mb, O = mask.unbind(0), (mask > 0).unbind(0), out.unbind(0)
        for t in range(T):
            # a_t = a^x_t + W_hh h_{t-1}
            A[t].addmm_(Hs[t], w_hh_t)
            S[t].sigmoid_()  # i_t, f_t, o_t
            G_[t].tanh_()  # g_t
            c, h = Cs[t + 1], Hs[t + 1]
            # c_t = f_t * c_{t-1} + i_t * g_t
            torch.mul(F_[t], Cs[t], out=c).addcmul_(I_[t], G_[t])
            # h_t = o_t * tanh(c_t)
            torch.mul(O_[t], torch.tanh(c, out=TC[t]), out=h)
            if mask is not None:
                torch.mul(h, M[t], out=O[t])  # outputs are zero at padding
                # padded steps keep the state: h_t = m h~_t + (1 - m) h_{t-1}
                torch.where(Mb[t], c, Cs[t], out=c)
                torch.where(Mb[t], h, Hs[t], out=h)

        ctx.save_for_backward(x, w_ih_p, w_hh_p, gates, hs, cs, tcs, mask)
        ctx.perm, ctx.reverse, ctx.rec, ctx.has_bias = perm, reverse, rec, b_ih is not None
        ctx.low = low
        h_n, c_n = hs[T].clone(), cs[T].clone()
        return (out.flip(0) if reverse else out), h_n, c_n

    @staticmethod
    @once_differentiable  # the backward itself is hand-written, not differentiable again
    def backward(ctx, dout, dh_n, dc_n):
        x, w_ih_p, w_hh_p, gates, hs, cs, tcs, mask = ctx.saved_tensors
        T, B, I = x.shape
        H = w_hh_p.shape[1]
        H3 = 3 * H
        if dout is None:
            dout = x.new_zeros(T, B, H)
        elif ctx.reverse:
            dout = dout.flip(0)
        dh = x.new_zeros(B, H) if dh_n is None else dh_n.clone()  # dL/dh_t, running
        dc = x.new_zeros(B, H) if dc_n is None else dc_n.clone()  # dL/dc_t, running
        dgates = scratch(gates.shape, x, "dgates")  # (T, B, 4H) gradients of pre-activations
        tmp = x.new_empty(B, H)
        steps = x.new_empty(T, B, H) if ctx.rec is not None else None
        Cs, TC, DO = cs.unbind(0), tcs.unbind(0), dout.unbind(0)
        I_, F_, O_, G_ = (v.unbind(0) for v in gates.split(H, dim=2))  # (B, H) strided views
        DI, DF, DOG, DG = (v.unbind(0) for v in dgates.split(H, dim=2))
        S, DS = gates[..., :H3].unbind(0), dgates[..., :H3].unbind(0)  # sigmoid block (B, 3H)
        DA = dgates.unbind(0)  # (B, 4H)
        if mask is not None:
            M = mask.unbind(0)
            keep = (1.0 - mask).unbind(0)  # (B, 1) each: 1 at padding
        else:
            dh.add_(DO[T - 1])
        for t in range(T - 1, -1, -1):
            if mask is not None:
                # h_t = m h~_t + (1 - m) h_{t-1}: a padded step passes dh_t straight to h_{t-1}
                dh_pad = dh * keep[t]
                dc_pad = dc * keep[t]
                dh.add_(DO[t]).mul_(M[t])  # dL/dh~_t = m (dh_t + dL/dout_t)
                dc.mul_(M[t])
            if steps is not None:
                steps[t] = dh
            # do_t = dh_t * tanh(c_t)
            torch.mul(dh, TC[t], out=DOG[t])
            # dc_t += dh_t * o_t * (1 - tanh^2(c_t))
            dc.add_(_tanh_bwd(torch.mul(dh, O_[t], out=tmp), TC[t], grad_input=tmp))
            # di_t = dc_t * g_t ; df_t = dc_t * c_{t-1} ; dg_t = dc_t * i_t
            torch.mul(dc, G_[t], out=DI[t])
            torch.mul(dc, Cs[t], out=DF[t])
            torch.mul(dc, I_[t], out=DG[t])
            # dc_{t-1} = dc_t * f_t
            dc.mul_(F_[t])
            # through the nonlinearities: da = d{i,f,o} s(1-s), da_g = dg (1-g^2)
            _sigmoid_bwd(DS[t], S[t], grad_input=DS[t])
            _tanh_bwd(DG[t], G_[t], grad_input=DG[t])
            # dh_{t-1} = da_t W_hh (+ dL/dout_{t-1})
            if mask is not None:
                torch.addmm(dh_pad, DA[t], w_hh_p, out=dh)
                dc.add_(dc_pad)
            elif t > 0:
                torch.addmm(DO[t - 1], DA[t], w_hh_p, out=dh)
            else:
                torch.mm(DA[t], w_hh_p, out=dh)

        if ctx.rec is not None:
            ctx.rec(steps.flip(0) if ctx.reverse else steps)
        # weight, bias and input gradients: one GEMM each over all T*B rows
        inv = torch.argsort(ctx.perm)
        da2 = dgates.view(T * B, 4 * H)
        dx = dw_ih = dw_hh = db = None
        if ctx.needs_input_grad[0]:
            dx = precision.mm(da2, w_ih_p, ctx.low).view(T, B, I)  # dx_t = da_t W_ih
            if ctx.reverse:
                dx = dx.flip(0)
        if ctx.needs_input_grad[3]:
            dw_ih = precision.mm(da2.t(), x.reshape(T * B, I), ctx.low)[inv]  # sum_t da_t^T x_t
        if ctx.needs_input_grad[4]:
            # dW_hh = sum_t da_t^T h_{t-1}
            dw_hh = precision.mm(da2.t(), hs[:T].reshape(T * B, H), ctx.low)[inv]
        if ctx.has_bias:
            db = da2.sum(0)[inv]  # db_ih = db_hh = sum_t da_t
        return dx, dh, dc, dw_ih, dw_hh, db, db, None, None, None, None
