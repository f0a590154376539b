"""Many-to-one pooling: one vector per sequence from a recurrent stack's outputs.

Symbols: B batch, T time, H hidden units, D directions, L layers.

    last:   s = [h_last_fwd ; h_first_bwd]        (B, D*H): the top layer's final states
    max:    s = max_t h_t over the real steps     (B, D*H)
    mean:   s = mean_t h_t over the real steps    (B, D*H)
    concat: s = [last ; max ; mean]               (B, 3*D*H), ULMFiT's concat pooling
"""

from __future__ import annotations

import torch

from rnnlab.nn.lengths import step_mask

POOLINGS = ("last", "max", "mean", "concat")


def pooled_size(hidden_size: int, bidirectional: bool, pooling: str) -> int:
    """The size of :func:`pool`'s vector."""
    return hidden_size * (2 if bidirectional else 1) * (3 if pooling == "concat" else 1)


def pool(out: torch.Tensor, state, lengths: torch.Tensor, pooling: str, bidirectional: bool,
         side: str = "right") -> torch.Tensor:  # fmt: skip
    """The sequence vector (B, F) as ``pooling`` says.

    Args:
        out: (B, T, D*H) the top layer's outputs, zeros at padding.
        state: the final state (L*D, B, H), or (h, c) for an LSTM.
        lengths: (B,) real steps per sequence, >= 1.
        pooling: one of :data:`POOLINGS`.
        bidirectional: whether ``out`` holds two directions.
        side: where the padding is: "right" (after the real steps) or "left".
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    pooled = []
    if pooling in ("last", "concat"):
        h_n = state[0] if isinstance(state, tuple) else state  # (L*D, B, H)
        D = 2 if bidirectional else 1
        pooled.append(torch.cat(list(h_n[-D:]), dim=-1))  # top layer, every direction
    if pooling in ("max", "concat"):
        real = step_mask(lengths, out.shape[1], side).t().unsqueeze(-1)  # (B, T, 1)
        pooled.append(out.masked_fill(~real, float("-inf")).amax(1))  # max_t h_t
    if pooling in ("mean", "concat"):
        pooled.append(out.sum(1) / lengths.to(out.dtype).unsqueeze(1))  # mean_t h_t
    return torch.cat(pooled, dim=-1)
