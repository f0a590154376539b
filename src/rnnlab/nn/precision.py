"""Mixed precision for the recurrent layers: which products may run in bfloat16/float16.

Under ``torch.autocast(device_type, dtype=torch.bfloat16)`` PyTorch runs matrix products in the
lower precision and keeps reductions, exponentials and the optimiser's master weights in float32.
Our layers follow the same rule, with one more distinction that matters for a recurrence: the
large products over all T*B rows, which touch each element once (the input projection
W_ih x_t for every t, and after the backward loop dx = da W_ih, dW_ih = da^T x, dW_hh = da^T h)
run in the lower precision, where CPUs with AMX and GPUs with tensor cores are several times
faster; the per-step recurrent product W_hh h_{t-1}, the gates and the cell state stay in the
parameters' precision, because their rounding errors would be fed back and compound over T steps.
"""

from __future__ import annotations

import torch


def autocast_dtype(x: torch.Tensor) -> torch.dtype | None:
    """The lower precision an enclosing ``torch.autocast`` asks for on ``x``'s device, or None.

    None when autocast is off for that device, or when it asks for ``x``'s own dtype.
    """
    device = x.device.type
    if not torch.is_autocast_enabled(device):
        return None
    low = torch.get_autocast_dtype(device)
    return None if low == x.dtype else low


def mm(a: torch.Tensor, b: torch.Tensor, low: torch.dtype | None) -> torch.Tensor:
    """``a @ b`` for (n, k) @ (k, m) -> (n, m) in ``a``'s dtype.

    With ``low`` set, both factors are rounded to ``low`` and multiplied there (the sum over k
    accumulates in float32 inside the kernel); the (n, m) result is returned in ``a``'s dtype.
    """
    if low is None:
        return a @ b
    return torch.mm(a.to(low), b.to(low)).to(a.dtype)


def addmm(bias: torch.Tensor | None, a: torch.Tensor, b: torch.Tensor,
          low: torch.dtype | None) -> torch.Tensor:  # fmt: skip
    """``bias + a @ b`` with (m,) bias, (n, k) @ (k, m) -> (n, m), as :func:`mm`; the bias is
    added in ``a``'s dtype. ``bias=None`` means no bias."""
    if low is None:
        return a @ b if bias is None else torch.addmm(bias, a, b)
    out = mm(a, b, low)
    return out if bias is None else out.add_(bias)


class AutocastFunction(torch.autograd.Function):
    """Base of the BPTT Functions, so that every caller (layers, cells, a decoder's fused call)
    gets the rule of this module.

    Under ``torch.autocast`` ``apply`` casts the floating-point inputs to the parameters' dtype,
    turns autocast off for ``forward`` (which casts exactly the products allowed to run low
    itself) and hands it the autocast's precision as its last argument ``low``; otherwise
    ``low`` is None. Subclasses set ``_param``: the position of a weight among ``apply``'s
    arguments.
    """

    _param: int

    @classmethod
    def apply(cls, *args):
        w = args[cls._param]
        low = autocast_dtype(w)
        if low is None:
            return cls._run(*args, None)
        args = tuple(a.to(w.dtype) if isinstance(a, torch.Tensor) and a.is_floating_point()
                     else a for a in args)  # fmt: skip
        with torch.autocast(w.device.type, enabled=False):
            return cls._run(*args, low)

    @classmethod
    def _run(cls, *args):
        """``forward`` through autograd (``args`` end with ``low``). A subclass may instead take
        a path that keeps no backward buffers when no gradient is needed."""
        return super().apply(*args)
