"""Changing a signal's sample rate by a rational factor, with scipy's polyphase resampler.

Symbols: N samples in, N' samples out.

From ``orig`` Hz to ``new`` Hz with ``g = gcd(orig, new)``: upsample by ``up = new / g`` (insert
``up - 1`` zeros between samples), low-pass filter, downsample by ``down = orig / g`` (keep every
``down``-th sample). ``scipy.signal.resample_poly`` does the three at once in polyphase form, with
a Kaiser-windowed FIR low-pass (beta 5) cutting at ``min(1/up, 1/down)`` of the upsampled Nyquist
frequency, so content above the lower of the two Nyquist frequencies is removed rather than
aliased. It returns ``N' = ceil(N * up / down)`` samples, the first aligned with the first input
sample.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.signal import resample_poly

from rnnlab.errors import InputError

__all__ = ["resample"]


def resample(wave: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Resample ``wave`` from ``orig_rate`` Hz to ``new_rate`` Hz along its last dimension.

    Args:
        wave: ``(..., N)``, a float tensor (integer tensors are taken as float32).
        orig_rate: its sample rate in Hz, a positive integer.
        new_rate: the rate wanted in Hz, a positive integer.

    Returns:
        ``(..., N')`` with ``N' = ceil(N * new_rate / orig_rate)``, the input's float dtype (CPU).
        Equal rates return ``wave`` itself.

    Raises:
        InputError: a rate that is not a positive integer.
    """
    for name, rate in (("orig_rate", orig_rate), ("new_rate", new_rate)):
        if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate < 1:
            raise InputError(f"resample: {name}={rate!r} must be a positive integer (Hz)")
    if not wave.is_floating_point():
        wave = wave.float()
    if orig_rate == new_rate:
        return wave
    g = math.gcd(int(orig_rate), int(new_rate))
    up, down = int(new_rate) // g, int(orig_rate) // g
    work = wave if wave.dtype in (torch.float32, torch.float64) else wave.float()
    x = work.detach().cpu().numpy()  # (..., N)
    y = resample_poly(x, up, down, axis=-1)  # (..., N')
    return torch.from_numpy(np.ascontiguousarray(y)).to(wave.dtype)
