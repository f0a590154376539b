"""SpecAugment-style masking of feature frames (Park et al. 2019, "SpecAugment: A Simple Data
Augmentation Method for Automatic Speech Recognition"), a training-time option.

Symbols: B batch, T frames, F features per frame (mel bands), T_b real frames of utterance b.

Per utterance, independently:

- ``freq_masks`` frequency masks: width ``f ~ U{0, ..., freq_width}`` (at most ``F``), first band
  ``f0 ~ U{0, ..., F - f}``; bands ``[f0, f0 + f)`` of every real frame are set to ``mask_value``;
- ``time_masks`` time masks: width ``t ~ U{0, ..., W_b}`` with ``W_b = min(time_width,
  floor(time_ratio T_b))`` (the paper's upper bound ``p``, so a short utterance is not wiped out),
  first frame ``t0 ~ U{0, ..., T_b - t}``; frames ``[t0, t0 + t)`` are set to ``mask_value``.

Masks may overlap. Padding frames ``t >= T_b`` are never touched. The paper masks with 0 after
normalising the features to zero mean, i.e. with the mean: apply this after :func:`cmvn`. Time
warping, the paper's third policy, is left out (the paper found it the least useful). All random
draws come from ``generator``, so a seeded generator gives the same masks on every run.
"""

from __future__ import annotations

import torch

from rnnlab.errors import InputError

__all__ = ["spec_augment"]


def spec_augment(
    features: torch.Tensor,
    lengths: torch.Tensor | None,
    freq_masks: int = 2,
    freq_width: int = 8,
    time_masks: int = 2,
    time_width: int = 10,
    time_ratio: float = 0.2,
    mask_value: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Mask random bands and random stretches of frames of each utterance.

    Args:
        features: ``(B, T, F)`` (or ``(T, F)``), e.g. normalised log-mel features.
        lengths: ``(B,)`` real frames per utterance; ``None``: all ``T`` are real.
        freq_masks: number of frequency masks per utterance.
        freq_width: the widest frequency mask, in bands (the paper's ``F``; 27 of 80 bands in its
            LibriSpeech policies, so 8 of 40 here is a little milder).
        time_masks: number of time masks per utterance.
        time_width: the widest time mask, in frames (the paper's ``T``; 10 frames = 100 ms at a
            10 ms hop, for utterances of a few hundred ms such as FSDD's digits).
        time_ratio: a time mask covers at most this fraction of the utterance's real frames.
        mask_value: what masked entries become.
        generator: the source of the random draws (CPU); ``None``: torch's global one.

    Returns:
        a new tensor of the shape of ``features``.
    """
    batched = features.dim() == 3
    if features.dim() not in (2, 3):
        raise InputError(f"spec_augment: expected (B, T, F), got {tuple(features.shape)}")
    if min(freq_masks, freq_width, time_masks, time_width) < 0 or not 0 <= time_ratio <= 1:
        raise InputError("spec_augment: mask counts and widths must be >= 0, time_ratio in [0, 1]")
    x = features if batched else features.unsqueeze(0)  # (B, T, F)
    B, T, F = x.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    lengths = torch.as_tensor(lengths).cpu().long()  # (B,)
    if lengths.shape != (B,) or bool((lengths < 0).any()) or bool((lengths > T).any()):
        raise InputError(f"spec_augment: lengths must be (B,)={B} values in 0..T={T}")
    # frequency masks: f ~ U{0..min(freq_width, F)}, f0 ~ U{0..F - f}
    freq = _spans(
        torch.full((B,), min(freq_width, F)), torch.full((B,), F), freq_masks, F, generator
    )
    # time masks: t ~ U{0..W_b}, W_b = min(time_width, floor(p T_b)), t0 ~ U{0..T_b - t}
    widest = torch.minimum(torch.full((B,), time_width), (time_ratio * lengths).floor().long())
    time = _spans(widest, lengths, time_masks, T, generator)  # (B, T)
    real = torch.arange(T) < lengths[:, None]  # (B, T)
    masked = (time[:, :, None] | freq[:, None, :]) & real[:, :, None]  # (B, T, F)
    y = x.masked_fill(masked.to(x.device), mask_value)
    return y if batched else y[0]


def _spans(widest, extent, count, size, generator) -> torch.Tensor:
    """``count`` random spans per row: width ``w ~ U{0..widest_b}``, start ``s ~ U{0..extent_b -
    w}``. Returns the union as a ``(B, size)`` bool mask."""
    B = widest.shape[0]
    if count == 0:
        return torch.zeros(B, size, dtype=torch.bool)
    u = torch.rand(B, count, 2, generator=generator, dtype=torch.float64)  # (B, count, 2)
    width = (u[..., 0] * (widest[:, None] + 1)).floor().long()  # (B, count)
    width = torch.minimum(width, widest[:, None])
    start = (u[..., 1] * (extent[:, None] - width + 1)).floor().long()  # (B, count)
    start = torch.minimum(start, extent[:, None] - width)
    pos = torch.arange(size)  # (size,)
    inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])  # (B, count, size)
    return inside.any(dim=1)  # (B, size)
