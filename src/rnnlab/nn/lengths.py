"""Variable-length batches: validating lengths, step masks and moving padding between sides.

Symbols: T time, B batch. ``padding_side="right"`` puts the real tokens first (PyTorch's packed
sequences); ``"left"`` puts the padding first (Keras' default zero pre-padding, the IMDB pipeline).
"""

from __future__ import annotations

import torch

PADDING_SIDES = ("right", "left")


def check_lengths(lengths, T: int, B: int, device: torch.device) -> torch.Tensor:
    """Validate ``lengths`` for a (T, B) batch and return them as a (B,) int64 tensor on ``device``.

    Raises:
        TypeError: lengths are not integers.
        ValueError: wrong number of lengths, a length of 0, or one longer than T.
    """
    if not isinstance(lengths, torch.Tensor):
        try:
            lengths = torch.as_tensor(lengths)
        except (TypeError, ValueError) as e:
            raise TypeError(f"lengths must be a 1-D sequence of ints, got {type(lengths)}") from e
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
    if lengths.dim() != 1 or lengths.numel() != B:
        raise ValueError(
            f"lengths must have one entry per sequence in the batch: expected shape ({B},), "
            f"got {tuple(lengths.shape)}"
        )
    lengths = lengths.to(device=device, dtype=torch.long)
    if B and int(lengths.min()) < 1:
        raise ValueError(f"every length must be >= 1, got {int(lengths.min())}")
    if B and int(lengths.max()) > T:
        raise ValueError(
            f"a length of {int(lengths.max())} is longer than the sequence dimension T={T}"
        )
    return lengths


def step_mask(lengths: torch.Tensor, T: int, padding_side: str = "right") -> torch.Tensor:
    """(T, B) bool mask, True at real steps.

    Right padding: step t of sequence b is real when t < len_b. Left padding: when t >= T - len_b.
    """
    t = torch.arange(T, device=lengths.device)[:, None]  # (T, 1)
    if padding_side == "right":
        return t < lengths[None, :]
    return t >= (T - lengths)[None, :]


def shift_padding(x: torch.Tensor, lengths: torch.Tensor, to: str) -> torch.Tensor:
    """Move each sequence's padding to the other side: (T, B, *) -> (T, B, *), time-major.

    ``to="right"`` takes a left-padded batch to a right-padded one (real tokens first);
    ``to="left"`` does the inverse. Each column is rolled by its own amount pad_b = T - len_b.
    """
    T, B = x.shape[:2]
    pad = (T - lengths)[None, :]  # (1, B)
    t = torch.arange(T, device=x.device)[:, None]  # (T, 1)
    src = (t + pad) % T if to == "right" else (t - pad) % T  # (T, B) source step of each slot
    index = src.view(T, B, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(0, index)
