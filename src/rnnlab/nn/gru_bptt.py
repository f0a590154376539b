"""GRU over a whole sequence, one direction, with hand-written BPTT, in both published forms.

Symbols: T time, B batch, I input features, H hidden units. Gate order (r, z, n) as in PyTorch:
``weight_ih`` (3H, I) = (W_ir|W_iz|W_in), ``weight_hh`` (3H, H) = (W_hr|W_hz|W_hn).

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)      reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)      update gate
    reset_after=True  (PyTorch, cuDNN, Keras default):
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    reset_after=False (Cho et al. 2014, the lecture form):
        n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The two forms differ only in where r_t acts: after the recurrent matmul (one GEMM per step for all
three gates) or on h_{t-1} before it (a second, dependent GEMM per step). They are different
functions of the same parameters, so weights do not transfer between them.

Backward, with dh_t the total gradient reaching h_t and a the pre-activations:

    dn_t = dh_t (1 - z_t),   dz_t = dh_t (h_{t-1} - n_t)
    da_n = dn_t (1 - n_t^2),  da_z = dz_t z_t (1 - z_t)
    reset_after:   dr_t = da_n * (W_hn h_{t-1} + b_hn);  da^h_n = da_n * r_t
    reset_before:  d(r h)_t = da_n W_hn;  dr_t = d(r h)_t * h_{t-1}
    da_r = dr_t r_t (1 - r_t)
    dh_{t-1} = dh_t z_t + da^h_t W_hh   (+ d(r h)_t r_t before)
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnnlab.nn import precision
from rnnlab.nn.workspace import scratch

_sigmoid_bwd = torch.ops.aten.sigmoid_backward.grad_input
_tanh_bwd = torch.ops.aten.tanh_backward.grad_input


class GRUFunction(precision.AutocastFunction):
    """One GRU layer direction: ``apply(x, h0, w_ih, w_hh, b_ih, b_hh, reset_after, mask, reverse,
    rec)``.

    Args:
        x: (T, B, I) input, time-major. h0: (B, H).
        w_ih: (3H, I); w_hh: (3H, H); b_ih, b_hh: (3H,) or None.
        reset_after: the PyTorch/cuDNN form (True) or Cho et al.'s (False).
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
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reset_after, mask, reverse, rec, low=None):
        if reverse:
            x = x.flip(0)
            mask = None if mask is None else mask.flip(0)
        T, B, I = x.shape
        H = w_hh.shape[1]
        H2 = 2 * H
        x2 = x.reshape(T * B, I)
        # a^x_t = W_i{r,z,n} x_t + b_i{r,z,n} for every t in one GEMM; becomes (r_t, z_t, n_t)
        gates = precision.addmm(b_ih, x2, w_ih.t(), low)
        gates = gates.view(T, B, 3 * H)
        hs = x.new_empty(T + 1, B, H)  # hs[t] is h_{t-1}
        hs[0] = h0
        ht = x.new_empty(T, B, H) if mask is not None else hs[1:]  # h~_t before masking
        # reset_after: W_h{r,z,n} h_{t-1} + b_h (T, B, 3H); before: r_t * h_{t-1} (T, B, H)
        aux = x.new_empty(T, B, 3 * H if reset_after else H)
        Hs, Ht, AUX = hs.unbind(0), ht.unbind(0), aux.unbind(0)
        RZ = gates[..., :H2].unbind(0)  # (B, 2H) per step: becomes (r_t, z_t)
        R_, Z_, N_ = (v.unbind(0) for v in gates.split(H, dim=2))  # (B, H) strided views
        w_hh_t = w_hh.t().contiguous()  # (H, 3H), contiguous for the per-step GEMM
        w_hrz_t, w_hn_t = w_hh_t[:, :H2], w_hh_t[:, H2:]
        b_hrz = b_hn = None
        if b_hh is not None:
            b_hrz, b_hn = b_hh[:H2], b_hh[H2:]
        if reset_after:
            AHrz, AHn = aux[..., :H2].unbind(0), aux[..., H2:].unbind(0)
        if mask is not None:
            Mb = (mask > 0).unbind(0)
        for t in range(T):
            h_prev, h, r, z, n = Hs[t], Ht[t], R_[t], Z_[t], N_[t]
            if reset_after:
                # W_hh h_{t-1} + b_hh (B, 3H): one GEMM for all three gates
                if b_hh is not None:
                    torch.addmm(b_hh, h_prev, w_hh_t, out=AUX[t])
                else:
                    torch.mm(h_prev, w_hh_t, out=AUX[t])
                RZ[t].add_(AHrz[t]).sigmoid_()  # r_t, z_t
                # n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
                n.addcmul_(r, AHn[t]).tanh_()
            else:
                rz = RZ[t].addmm_(h_prev, w_hrz_t)
                if b_hrz is not None:
                    rz.add_(b_hrz)
                rz.sigmoid_()  # r_t, z_t
                rh = torch.mul(r, h_prev, out=AUX[t])  # r_t * h_{t-1}
                # n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
                n.addmm_(rh, w_hn_t)
                if b_hn is not None:
                    n.add_(b_hn)
                n.tanh_()
            # h_t = (1 - z_t) n_t + z_t h_{t-1} = n_t + z_t (h_{t-1} - n_t)
            torch.sub(h_prev, n, out=h).mul_(z).add_(n)
            if mask is not None:
                # padded steps keep the state: h_t = m h~_t + (1 - m) h_{t-1}
                torch.where(Mb[t], h, h_prev, out=Hs[t + 1])
        out = ht if mask is None else ht * mask  # zeros at padding
        ctx.save_for_backward(x, w_ih, w_hh, gates, hs, aux, mask)
        ctx.reset_after, ctx.reverse, ctx.rec = reset_after, reverse, rec
        ctx.has_bias, ctx.low = b_ih is not None, low
        return (out.flip(0) if reverse else out), hs[T].clone()

    @staticmethod
    @once_differentiable  # the backward itself is hand-written, not differentiable again
    def backward(ctx, dout, dh_n):
        x, w_ih, w_hh, gates, hs, aux, mask = ctx.saved_tensors
        reset_after, low = ctx.reset_after, ctx.low
        T, B, I = x.shape
        H = w_hh.shape[1]
        H2 = 2 * H
        if dout is None:
            dout = x.new_zeros(T, B, H)
        elif ctx.reverse:
            dout = dout.flip(0)
        dh = x.new_zeros(B, H) if dh_n is None else dh_n.clone()  # dL/dh_t, running
        dx_gates = scratch(gates.shape, x, "dgates")  # (T, B, 3H): (da_r, da_z, da_n)
        # reset_after: gradients of the recurrent pre-activations (da_r, da_z, da_n * r_t)
        dh_gates = scratch(gates.shape, x, "dgates_h") if reset_after else None
        steps = x.new_empty(T, B, H) if ctx.rec is not None else None
        dhz = x.new_empty(B, H)  # dh_t z_t: the direct path to h_{t-1}
        tmp = x.new_empty(B, H)
        Hs, DO = hs.unbind(0), dout.unbind(0)
        R_, Z_, N_ = (v.unbind(0) for v in gates.split(H, dim=2))
        DR, DZ, DN = (v.unbind(0) for v in dx_gates.split(H, dim=2))
        DRZ = dx_gates[..., :H2].unbind(0)
        w_hn, w_hrz = w_hh[H2:], w_hh[:H2]
        if reset_after:
            AHn = aux[..., H2:].unbind(0)
            DH, DHrz, DHn = (
                dh_gates.unbind(0),
                dh_gates[..., :H2].unbind(0),
                dh_gates[..., H2:].unbind(0),
            )
        if mask is not None:
            M, keep = mask.unbind(0), (1.0 - mask).unbind(0)
        else:
            dh.add_(DO[T - 1])
        for t in range(T - 1, -1, -1):
            h_prev, r, z, n, dar, daz, dan = Hs[t], R_[t], Z_[t], N_[t], DR[t], DZ[t], DN[t]
            if mask is not None:
                dh_pad = dh * keep[t]  # a padded step passes dh_t straight to h_{t-1}
                dh.add_(DO[t]).mul_(M[t])  # dL/dh~_t = m (dh_t + dL/dout_t)
            if steps is not None:
                steps[t] = dh
            torch.mul(dh, z, out=dhz)
            # dn_t = dh_t (1 - z_t) ; da_n = dn_t (1 - n_t^2)
            _tanh_bwd(torch.sub(dh, dhz, out=tmp), n, grad_input=dan)
            # dz_t = dh_t (h_{t-1} - n_t) ; da_z = dz_t z_t (1 - z_t)
            _sigmoid_bwd(torch.sub(h_prev, n, out=tmp).mul_(dh), z, grad_input=daz)
            if reset_after:
                # dr_t = da_n * (W_hn h_{t-1} + b_hn) ; da_r = dr_t r_t (1 - r_t)
                _sigmoid_bwd(torch.mul(dan, AHn[t], out=tmp), r, grad_input=dar)
                DHrz[t].copy_(DRZ[t])
                torch.mul(dan, r, out=DHn[t])  # recurrent n pre-activation: da_n * r_t
                # dh_{t-1} = dh_t z_t + da^h_t W_hh
                torch.addmm(dhz, DH[t], w_hh, out=dh)
            else:
                # d(r h)_t = da_n W_hn ; dr_t = d(r h)_t * h_{t-1}
                drh = torch.mm(dan, w_hn, out=tmp)
                _sigmoid_bwd(drh * h_prev, r, grad_input=dar)
                # dh_{t-1} = dh_t z_t + d(r h)_t r_t + da_{r,z} W_h{r,z}
                dhz.addcmul_(drh, r)
                torch.addmm(dhz, DRZ[t], w_hrz, out=dh)
            if mask is not None:
                dh.add_(dh_pad)
            elif t > 0:
                dh.add_(DO[t - 1])
        if steps is not None:
            ctx.rec(steps.flip(0) if ctx.reverse else steps)

        # weight, bias and input gradients: single GEMMs over all T*B rows
        dax2 = dx_gates.view(T * B, 3 * H)
        h2 = hs[:T].reshape(T * B, H)
        dx = None
        if ctx.needs_input_grad[0]:
            dx = precision.mm(dax2, w_ih, low).view(T, B, I)  # dx_t = da^x_t W_ih
            if ctx.reverse:
                dx = dx.flip(0)
        dw_ih, dw_hh, db_ih, db_hh = weight_grads(
            ctx, dax2, dh_gates, x.reshape(T * B, I), h2, aux, reset_after, low
        )
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh, None, None, None, None, None


def weight_grads(ctx, dax2, dh_gates, x2, h2, aux, reset_after: bool, low):
    """The GRU's weight and bias gradients as single GEMMs over all T*B rows (the reference and
    the native Functions share them): ``dax2`` (T*B, 3H) and ``dh_gates`` (T, B, 3H; reset_after
    only, else None) the gradients of the input and recurrent pre-activations, ``x2`` (T*B, I),
    ``h2`` (T*B, H) h_{t-1}, ``aux`` (T, B, H) r_t h_{t-1} (used when not ``reset_after``).
    Returns dW_ih (3H, I), dW_hh (3H, H), db_ih, db_hh (3H,) or
    None where ``ctx.needs_input_grad`` / ``ctx.has_bias`` say they are not needed."""
    H = h2.shape[1]
    H2 = 2 * H
    dw_ih = dw_hh = db_ih = db_hh = None
    if ctx.needs_input_grad[2]:
        dw_ih = precision.mm(dax2.t(), x2, low)  # sum_t da^x_t^T x_t
    if reset_after:
        dah2 = dh_gates.reshape(-1, 3 * H)  # (T*B, 3H)
        if ctx.needs_input_grad[3]:
            dw_hh = precision.mm(dah2.t(), h2, low)  # sum_t da^h_t^T h_{t-1}
        if ctx.has_bias:
            db_hh = dah2.sum(0)
    else:
        if ctx.needs_input_grad[3]:
            dw_hh = torch.cat(
                [
                    precision.mm(dax2[:, :H2].t(), h2, low),  # sum_t da_{r,z}^T h_{t-1}
                    precision.mm(dax2[:, H2:].t(), aux.reshape(-1, H), low),  # da_n^T (r h)_t
                ]
            )
        if ctx.has_bias:
            db_hh = dax2.sum(0)
    if ctx.has_bias:
        db_ih = dax2.sum(0)
    return dw_ih, dw_hh, db_ih, db_hh
