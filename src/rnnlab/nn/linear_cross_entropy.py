"""Output layer and cross-entropy in one pass, a few hundred rows at a time.

Symbols: N rows (tokens), H features, V vocabulary (classes).

A language model's last step is z = h W^T + b (N, V) followed by the cross-entropy
L = 1/N sum_n (log sum_v exp z_nv - z_n,y_n). Written as ``F.cross_entropy(linear(h), y)`` it
materialises the (N, V) logits, their log-softmax and the gradient of each: on PTB (N = 20 x 35
= 700, V = 10,000) that is several 28 MB arrays written and read again, and on a CPU those memory
passes, not the products, take most of the step. Here the rows go through in chunks small enough
for the logits to stay in cache; each chunk's gradient is formed at once from

    dL/dz_nv = (softmax(z_n)_v - [v == y_n]) / N

so of all the (N, V) arrays only one is written and kept for backward: that gradient, for the
single dW GEMM (in bfloat16 under ``torch.autocast``, half the bytes); the logits, their
softmax and log-softmax live one chunk at a time. The result equals
``F.cross_entropy(F.linear(h, W, b), y, ignore_index=...)`` (tested to float64 rounding).
"""

from __future__ import annotations

import torch

from rnnlab.nn import precision


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, weight, bias, targets, ignore_index, chunk, low):
        N = h.shape[0]
        V = weight.shape[0]
        real = targets != ignore_index  # (N,)
        count = int(real.sum())
        w_low = weight if low is None else weight.to(low)  # (V, H), rounded once
        w_low_t = w_low.t().contiguous()  # (H, V): h @ W^T runs ~2x faster on a contiguous W^T
        dz_all = h.new_empty(N, V, dtype=low or h.dtype)  # dL/dz for the dW GEMM after the loop
        dh = torch.empty_like(h)  # (N, H)
        db = torch.zeros(V, dtype=h.dtype, device=h.device) if bias is not None else None
        total = h.new_zeros(())
        safe = torch.where(real, targets, 0)  # ignored rows read class 0, then drop out
        for s in range(0, N, chunk):
            e = min(N, s + chunk)
            hc, yc, rc = h[s:e], safe[s:e], real[s:e]
            z = precision.addmm(bias, hc, w_low_t, low)  # z = h W^T + b, (n, V) in h.dtype
            picked = z.gather(1, yc[:, None])  # z_y, (n, 1)
            m = z.amax(1, keepdim=True)  # (n, 1), for a stable exp
            dz = z.sub_(m).exp_()  # exp(z_v - m), in place
            sums = dz.sum(1, keepdim=True)  # sum_v exp(z_v - m)
            # L_n = log sum_v exp z_v - z_y = m + log sum_v exp(z_v - m) - z_y (0 when ignored)
            total += torch.where(rc[:, None], m + sums.log() - picked, 0.0).sum()
            # dL_n/dz = softmax(z) - onehot(y), zero for ignored rows
            dz.div_(sums)
            dz[torch.arange(e - s, device=h.device), yc] -= 1.0
            dz.mul_(rc[:, None])
            if db is not None:
                db += dz.sum(0)  # dL/db = sum_n dL_n/dz_n
            dz_all[s:e] = dz
            dh[s:e] = torch.mm(dz_all[s:e], w_low)  # dL/dh = dz W, (n, H)
        ctx.save_for_backward(h, dz_all, dh, db)
        ctx.count, ctx.low = max(count, 1), low
        return total / max(count, 1) if count else total * float("nan")

    @staticmethod
    def backward(ctx, grad):
        h, dz_all, dh, db = ctx.saved_tensors
        scale = grad / ctx.count  # the loss is a mean over the real rows
        dh_out = dw = db_out = None
        if ctx.needs_input_grad[0]:
            dh_out = dh * scale
        if ctx.needs_input_grad[1]:
            dw = precision.mm(dz_all.t(), h, ctx.low)  # dW = dz^T h, (V, H)
            dw = dw.to(h.dtype).mul_(scale)
        if db is not None and ctx.needs_input_grad[2]:
            db_out = db * scale
        return dh_out, dw, db_out, None, None, None, None


def linear_cross_entropy(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                         targets: torch.Tensor, ignore_index: int = -100,
                         chunk: int = 256) -> torch.Tensor:  # fmt: skip
    """Mean cross-entropy of the logits ``h W^T + b`` without storing them.

    Args:
        h: (N, H) features.
        weight: (V, H) output weights (an ``nn.Linear(H, V)``'s, or a tied embedding).
        bias: (V,) or None.
        targets: (N,) class ids in [0, V); rows equal to ``ignore_index`` are left out.
        ignore_index: as ``F.cross_entropy``'s.
        chunk: rows per pass (their (chunk, V) logits should fit in cache).

    Returns:
        The scalar mean of -log softmax(h_n W^T + b)[y_n] over the rows not ignored (NaN when
        every row is ignored, as ``F.cross_entropy``). Inside ``torch.autocast`` the products
        run in its lower precision; the softmax and the loss stay in ``h``'s dtype.
    """
    if h.dim() != 2 or weight.dim() != 2 or h.shape[1] != weight.shape[1]:
        raise ValueError(f"h (N, H) and weight (V, H) must agree on H: got {tuple(h.shape)} and "
                         f"{tuple(weight.shape)}")  # fmt: skip
    if targets.shape != h.shape[:1]:
        raise ValueError(f"targets must be (N,) = ({h.shape[0]},), got {tuple(targets.shape)}")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    real = targets != ignore_index
    if bool(((targets[real] < 0) | (targets[real] >= weight.shape[0])).any()):
        raise IndexError(f"targets must lie in [0, {weight.shape[0]}) (or be ignore_index)")
    low = precision.autocast_dtype(weight)  # the products' precision under torch.autocast
    dtype = weight.dtype
    with torch.autocast(h.device.type, enabled=False):
        return _LinearCrossEntropy.apply(h.to(dtype), weight, bias, targets, ignore_index,
                                         chunk, low)  # fmt: skip
