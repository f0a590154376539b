"""Variational ("locked") dropout: one mask per sequence, the same at every time step.

Standard dropout draws a fresh mask for every time step, so the noise on a unit changes from step
to step. Gal & Ghahramani (2016) derive dropout for RNNs as a variational approximation in which the
mask is drawn once per sequence and reused at every step; Merity et al.'s AWD-LSTM (2018) call it
locked dropout and use it on the embeddings, between layers and on the output of language models:

    m ~ Bernoulli(1 - p)^(B x F)           one mask per sequence and feature
    y_t = x_t * m / (1 - p)                for every t (inverted dropout: E[y_t] = x_t)

It also draws T times fewer random numbers than standard dropout, which on a CPU is a noticeable
part of a training step.
"""

from __future__ import annotations

import torch

__all__ = ["locked_dropout"]


def locked_dropout(x: torch.Tensor, p: float, training: bool = True, time_dim: int = 0):
    """Dropout with one mask per sequence, shared over the time dimension.

    Args:
        x: (T, B, F) if ``time_dim`` is 0, (B, T, F) if it is 1.
        p: probability of zeroing a unit, in [0, 1).
        training: apply dropout only when True (identity otherwise, as ``F.dropout``).
        time_dim: which dimension of ``x`` is time.

    Returns:
        a tensor shaped like ``x``: ``x * m / (1 - p)`` with ``m`` (1, B, F) or (B, 1, F).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p!r}")
    if x.dim() != 3 or time_dim not in (0, 1):
        raise ValueError(f"locked_dropout expects (T, B, F) or (B, T, F), got {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    shape = list(x.shape)
    shape[time_dim] = 1
    # m ~ Bernoulli(1 - p), scaled by 1 / (1 - p) so that E[y] = x
    mask = x.new_empty(shape).bernoulli_(1.0 - p).div_(1.0 - p)  # (1, B, F) or (B, 1, F)
    return x * mask
