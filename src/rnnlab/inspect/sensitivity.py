"""Sensitivity of every output step to one input step: the shaded figure of Graves's book
(Supervised Sequence Labelling with Recurrent Neural Networks, 2012, Fig. 4.1 and 4.4).

Symbols: T time, I input features, O output features (H for a bare recurrent layer).

    S[t, o] = || d y_{t,o} / d x_s ||_2        (norm over the I features of the input at step s)

With s the first step this shows how long a network remembers its first input: for a vanilla
RNN dy_t/dx_1 holds the product of t step Jacobians diag(1 - h_k^2) W_hh and fades within a few
tens of steps; an LSTM with open forget gates keeps it.

The Jacobian is exact, by reverse mode, in one backward pass per chunk of rows: the sequence is
copied T * O times along the batch and copy r back-propagates only from its own output (t_r, o_r),
so the gradient reaching its x_s is row (t_r, o_r) of the Jacobian. This relies on the batch
elements being independent (true of recurrent layers; put dropout/batch-norm models in eval mode).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["Sensitivity", "sensitivity"]


@dataclass
class Sensitivity:
    """The Jacobian norms of one sequence's outputs with respect to its input at ``step``.

    Attributes:
        norms: (T, O) ||d y_{t,o} / d x_step||_2; zero before ``step`` for a causal model.
        step: the input step s.
    """

    norms: torch.Tensor
    step: int

    def per_step(self) -> torch.Tensor:
        """(T,) ||d y_t / d x_step||_F: the whole output at step t against the input at s."""
        return self.norms.norm(dim=1)


def _first(out) -> torch.Tensor:
    """The per-step output of a module that may return ``(output, state)``."""
    return out[0] if isinstance(out, tuple | list) else out


def sensitivity(
    model: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    step: int = 0,
    chunk: int = 1024,
) -> Sensitivity:
    """How strongly each output step of ``model`` depends on the input at ``step``.

    Args:
        model: maps (B, T, I) to (B, T, O), or to a tuple whose first element is that, as a
            ``batch_first`` recurrent layer does.
        x: one sequence, (T, I) or (1, T, I).
        step: the input step s (0 = the first input).
        chunk: rows (copies of the sequence) per forward/backward pass; bounds memory.

    Returns:
        a :class:`Sensitivity` with the (T, O) norms.
    """
    if x.dim() == 3 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 2:
        raise ValueError(f"x must be one sequence (T, I) or (1, T, I), got {tuple(x.shape)}")
    T, I = x.shape
    if not 0 <= step < T:
        raise ValueError(f"step must be in [0, {T}), got {step}")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    x = x.detach()
    with torch.no_grad():
        O = _first(model(x.unsqueeze(0))).shape[-1]
    rows_t = torch.arange(T).repeat_interleave(O)  # (T*O,) output step of each copy
    rows_o = torch.arange(O).repeat(T)  # (T*O,) output feature of each copy
    norms = x.new_zeros(T * O)
    for start in range(0, T * O, chunk):
        t_r, o_r = rows_t[start : start + chunk], rows_o[start : start + chunk]
        R = len(t_r)
        xr = x.expand(R, T, I).clone().requires_grad_(True)  # (R, T, I) copies
        y = _first(model(xr))  # (R, T, O)
        if y.shape != (R, T, O):
            raise ValueError(f"model must return (B, T, O) = {(R, T, O)}, got {tuple(y.shape)}")
        # copy r keeps only y_{t_r, o_r}: its x_s gradient is d y_{t_r, o_r} / d x_s
        (grad,) = torch.autograd.grad(y[torch.arange(R), t_r, o_r].sum(), xr)
        norms[start : start + R] = grad[:, step].norm(dim=-1)  # (R,)
    return Sensitivity(norms.view(T, O), step)
