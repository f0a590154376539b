"""Per-utterance cepstral mean and variance normalisation (CMVN).

Symbols: B batch, T frames, F features per frame.

Each feature ``f`` of utterance ``b`` is shifted and scaled over that utterance's real frames
``t < T_b``: ``y[t, f] = (x[t, f] - mu_f) / max(sigma_f, eps)``, with ``mu_f`` the mean and
``sigma_f`` the (population) standard deviation over those frames. This removes a fixed channel
(microphone, level) from log-mel or MFCC features. Padding frames ``t >= T_b`` come out as 0.
"""

from __future__ import annotations

import torch

from rnnlab.errors import InputError

__all__ = ["cmvn"]


def cmvn(
    features: torch.Tensor,
    lengths: torch.Tensor | None = None,
    variance: bool = True,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Normalise each utterance's features to zero mean (and unit variance) over its real frames.

    Args:
        features: ``(T, F)`` or ``(B, T, F)`` float.
        lengths: ``(B,)`` real frames per utterance (e.g. ``frames_of(samples, hop)``); ``None``:
            every frame is real.
        variance: also divide by the standard deviation (``False``: mean subtraction only).
        eps: floor of the standard deviation, so a constant feature maps to 0, not NaN.

    Returns:
        the shape of ``features``; padding frames are 0.
    """
    batched = features.dim() == 3
    if features.dim() not in (2, 3):
        raise InputError(f"cmvn: expected (T, F) or (B, T, F), got {tuple(features.shape)}")
    x = features if batched else features.unsqueeze(0)  # (B, T, F)
    B, T, F = x.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    lengths = torch.as_tensor(lengths, device=x.device)
    if lengths.shape != (B,) or bool((lengths < 1).any()) or bool((lengths > T).any()):
        raise InputError(
            f"cmvn: lengths must be (B,)={B} values in 1..T={T}, got {lengths.tolist()}"
        )
    real = (torch.arange(T, device=x.device) < lengths[:, None])[:, :, None]  # (B, T, 1)
    count = lengths.to(x.dtype)[:, None, None]  # (B, 1, 1)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    # mu = (1 / T_b) sum_{t < T_b} x_t
    mean = torch.where(real, x, zero).sum(dim=1, keepdim=True) / count  # (B, 1, F)
    y = torch.where(real, x - mean, zero)  # (B, T, F)
    if variance:
        # sigma^2 = (1 / T_b) sum_{t < T_b} (x_t - mu)^2
        std = (y.square().sum(dim=1, keepdim=True) / count).sqrt()  # (B, 1, F)
        y = y / std.clamp_min(eps)
    return y if batched else y[0]
