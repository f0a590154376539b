"""The mel scale and the triangular mel filterbank that maps a power spectrum to mel bands.

Symbols: M mel bands, K = n_fft // 2 + 1 frequency bins.

Two mel scales are in use, and both are here:

- HTK (O'Shaughnessy 1987, as the HTK toolkit uses it): ``m = 2595 log10(1 + f / 700)``.
- Slaney (Malcolm Slaney's Auditory Toolbox; librosa's default): linear below 1 kHz,
  ``m = 3 f / 200``, so 1 kHz is mel 15; logarithmic above, ``m = 15 + 27 ln(f / 1000) / ln(6.4)``
  (each factor 6.4 in frequency adds 27 mels).

The filterbank has ``M`` triangles whose corners are ``M + 2`` points equally spaced on the mel
scale from ``f_min`` to ``f_max``: triangle ``i`` rises from 0 at corner ``i`` to 1 at corner
``i + 1`` and falls back to 0 at corner ``i + 2``, and is sampled at the FFT bin frequencies
``f_k = k * sample_rate / n_fft``. With ``norm="slaney"`` each triangle is scaled by
``2 / (f_{i+2} - f_i)`` so that every band has the same area (equal energy per band for white
noise); with ``norm=None`` every peak is 1. The same construction as ``librosa.filters.mel``, to
which the tests hold it.
"""

from __future__ import annotations

import logging
import math

import torch

from rnnlab.errors import InputError

__all__ = ["hz_to_mel", "mel_filterbank", "mel_to_hz"]

log = logging.getLogger(__name__)

_F_SP = 200.0 / 3  # Slaney: Hz per mel below the break
_BREAK_HZ = 1000.0  # Slaney: where the scale turns logarithmic
_BREAK_MEL = _BREAK_HZ / _F_SP  # = 15
_LOGSTEP = math.log(6.4) / 27.0  # Slaney: ln(Hz ratio) per mel above the break


def hz_to_mel(freq: torch.Tensor, htk: bool = False) -> torch.Tensor:
    """Frequencies in Hz -> mels, elementwise (any shape), on the HTK or the Slaney scale."""
    if htk:
        # m = 2595 log10(1 + f / 700)
        return 2595.0 * torch.log10(1.0 + freq / 700.0)
    # m = f / f_sp below 1 kHz;  m = 15 + ln(f / 1000) / (ln(6.4) / 27) above
    linear = freq / _F_SP
    log_part = _BREAK_MEL + torch.log(freq.clamp_min(_BREAK_HZ) / _BREAK_HZ) / _LOGSTEP
    return torch.where(freq >= _BREAK_HZ, log_part, linear)


def mel_to_hz(mel: torch.Tensor, htk: bool = False) -> torch.Tensor:
    """Mels -> frequencies in Hz, elementwise: the inverse of :func:`hz_to_mel`."""
    if htk:
        # f = 700 (10^(m / 2595) - 1)
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    # f = f_sp m below mel 15;  f = 1000 exp((ln(6.4) / 27) (m - 15)) above
    linear = _F_SP * mel
    log_part = _BREAK_HZ * torch.exp(_LOGSTEP * (mel.clamp_min(_BREAK_MEL) - _BREAK_MEL))
    return torch.where(mel >= _BREAK_MEL, log_part, linear)


def mel_filterbank(
    n_fft: int,
    n_mels: int,
    sample_rate: int,
    f_min: float = 0.0,
    f_max: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Triangular mel filters over the bins of an ``n_fft``-point real FFT.

    Args:
        n_fft: FFT size; the spectrum has ``K = n_fft // 2 + 1`` bins.
        n_mels: number of bands ``M``.
        sample_rate: in Hz.
        f_min: lowest corner in Hz, ``>= 0``.
        f_max: highest corner in Hz, ``<= sample_rate / 2``; ``None``: ``sample_rate / 2``.
        htk: the HTK mel scale instead of Slaney's.
        norm: ``"slaney"`` (equal-area triangles) or ``None`` (peaks of 1).
        dtype: of the result (computed in float64).

    Returns:
        ``(M, K)``; ``mel = power @ fb.T`` maps a ``(..., K)`` power spectrum to ``(..., M)``.

    Raises:
        InputError: a size that is not positive, or frequencies out of ``0 <= f_min < f_max <=
            sample_rate / 2``, or an unknown ``norm``.
    """
    nyquist = sample_rate / 2
    f_max = nyquist if f_max is None else float(f_max)
    if n_fft < 1 or n_mels < 1 or sample_rate < 1:
        raise InputError(
            f"mel_filterbank: n_fft={n_fft}, n_mels={n_mels}, sample_rate={sample_rate} "
            "must all be positive"
        )
    if not 0 <= f_min < f_max <= nyquist:
        raise InputError(
            f"mel_filterbank: need 0 <= f_min < f_max <= sample_rate / 2 = {nyquist:g} Hz, "
            f"got f_min={f_min:g}, f_max={f_max:g}"
        )
    if norm not in ("slaney", None):
        raise InputError(f"mel_filterbank: norm={norm!r} must be 'slaney' or None")
    f64 = torch.float64
    # f_k = k * sample_rate / n_fft,  k = 0 .. K-1
    bins = torch.arange(n_fft // 2 + 1, dtype=f64) * sample_rate / n_fft  # (K,)
    mel_lo, mel_hi = hz_to_mel(torch.tensor([f_min, f_max], dtype=f64), htk).tolist()
    corners = mel_to_hz(torch.linspace(mel_lo, mel_hi, n_mels + 2, dtype=f64), htk)  # (M+2,)
    lower, centre, upper = corners[:-2, None], corners[1:-1, None], corners[2:, None]  # (M, 1)
    # rising edge (f_k - f_i) / (f_{i+1} - f_i), falling edge (f_{i+2} - f_k) / (f_{i+2} - f_{i+1})
    rising = (bins - lower) / (centre - lower)  # (M, K)
    falling = (upper - bins) / (upper - centre)  # (M, K)
    fb = torch.minimum(rising, falling).clamp_min(0.0)  # (M, K)
    if norm == "slaney":
        # each triangle scaled by 2 / (f_{i+2} - f_i): unit area in Hz
        fb = fb * (2.0 / (upper - lower))
    empty = (fb.amax(dim=1) == 0).nonzero().flatten().tolist()
    if empty:
        log.warning(
            "mel_filterbank: bands %s cover no FFT bin (n_fft=%d is too small for n_mels=%d); "
            "they output zeros",
            empty,
            n_fft,
            n_mels,
        )
    return fb.to(dtype)
