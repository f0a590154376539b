"""Gradient flow through time: ||dL/dh_t|| at every step of every recurrent layer.

Symbols: T time, B batch, H hidden units.

For a vanilla RNN the gradient reaching an early state is a product of step Jacobians,

    dL/dh_t = dL/dh_T  prod_{k=t+1..T} dh_k/dh_{k-1},    dh_k/dh_{k-1} = diag(1 - h_k^2) W_hh

so its norm shrinks (or grows) geometrically with T - t. An LSTM also passes error along the
cell state, dc_{k-1} = dc_k * f_k: with forget gates near 1 it stays (Hochreiter &
Schmidhuber's "constant error carousel"). The per-step gradients come from the BPTT backward
itself (:class:`rnnlab.nn.StepGradRecorder`), not from a second, reference computation.

Clipping (``torch.nn.utils.clip_grad_norm_``) acts after the backward pass, on the parameter
gradients: it multiplies all of them by one factor c = min(1, max_norm / ||g||). Since
dL/dtheta = sum_t (contribution of step t), every step's contribution is scaled by the same c:
the shape of the curve over t is unchanged (on a log scale it moves down by log c) and what
changes is the size of the update. Clipping bounds an exploding step; it does not make the
early steps matter more, and it does nothing for vanishing gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rnnlab.nn import StepGradRecorder

__all__ = ["GradientFlow", "format_at_steps", "gradient_flow"]

Key = tuple[str, int, int]  # (module name, layer, direction), as StepGradRecorder keys them


@dataclass
class GradientFlow:
    """What one backward pass sent back through time.

    Attributes:
        norms: (module name, layer, direction) -> (T, B) ||dL/dh_t|| per sequence; zero at
            padded steps.
        loss: the loss value.
        grad_norm: ||dL/dtheta||_2 over all parameters, before clipping.
        clip_coef: the factor clipping multiplied the parameter gradients by (1.0 without
            clipping, or when the norm was already within ``max_norm``).
    """

    norms: dict[Key, torch.Tensor]
    loss: float
    grad_norm: float
    clip_coef: float = 1.0

    def curve(self, key: Key | None = None) -> torch.Tensor:
        """(T,) batch mean of ||dL/dh_t|| for one layer direction (the only one when None)."""
        if key is None:
            if len(self.norms) != 1:
                raise ValueError(f"several recurrent layers {sorted(self.norms)}: name one key")
            key = next(iter(self.norms))
        return self.norms[key].mean(dim=1)

    def clipped_curve(self, key: Key | None = None) -> torch.Tensor:
        """(T,) the curve times the clipping factor: each step's share of the clipped update."""
        return self.curve(key) * self.clip_coef

    @property
    def clipped_grad_norm(self) -> float:
        """||dL/dtheta|| after clipping."""
        return self.grad_norm * self.clip_coef


def gradient_flow(
    model: nn.Module,
    batch: Any,
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    clip_norm: float | None = None,
) -> GradientFlow:
    """One forward and backward pass of ``loss_fn(model, batch)``, recording dL/dh_t.

    Args:
        model: a module holding one or more rnnlab recurrent layers (RNN, LSTM, GRU).
        batch: whatever ``loss_fn`` takes.
        loss_fn: ``(model, batch) -> scalar loss``.
        clip_norm: when given, ``clip_grad_norm_(model.parameters(), clip_norm)`` runs after
            the backward pass, as in a training step; the factor is returned as ``clip_coef``.

    Returns:
        a :class:`GradientFlow`. The parameter gradients (clipped, when asked) are left in
        ``.grad``, as before an optimiser step; earlier ``.grad`` values are discarded.
    """
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm must be positive, got {clip_norm!r}")
    model.zero_grad(set_to_none=True)
    rec = StepGradRecorder()
    with rec.attach(model):
        loss = loss_fn(model, batch)
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
        loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    # ||g|| = sqrt(sum over parameters of ||dL/dtheta_k||^2)
    grads = [p.grad.norm() for p in params]
    grad_norm = float(torch.linalg.vector_norm(torch.stack(grads))) if grads else 0.0
    coef = 1.0
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(params, clip_norm)
        # c = min(1, max_norm / ||g||), as clip_grad_norm_ computes it (with its 1e-6)
        coef = min(1.0, clip_norm / (grad_norm + 1e-6)) if math.isfinite(grad_norm) else 0.0
    norms = {key: g.norm(dim=-1) for key, g in rec.grads.items()}  # (T, B, H) -> (T, B)
    return GradientFlow(norms, float(loss.detach()), grad_norm, coef)


def format_at_steps(curves: dict[str, torch.Tensor], steps: list[int] | None = None) -> str:
    """A text table of (T,) curves at a few steps (1-based; default 1, T/10, T/2, T)."""
    if not curves:
        return ""
    T = len(next(iter(curves.values())))
    steps = steps or sorted({1, max(1, T // 10), max(1, T // 2), T})
    width = max(len(label) for label in curves) + 2
    lines = [f"{'':<{width}}" + "".join(f"{'t=' + str(t):>11}" for t in steps)]
    for label, c in curves.items():
        lines.append(f"{label:<{width}}" + "".join(f"{float(c[t - 1]):>11.2e}" for t in steps))
    return "\n".join(lines)
