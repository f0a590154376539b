"""Frame-level speech features from ``torch.stft``: power spectrogram, log-mel (dB) and MFCC.

Symbols: B batch, N samples, T frames, K = n_fft // 2 + 1 frequency bins, M mel bands, F
features per frame.

Pipeline, per frame ``t`` (hop ``h``, window ``w`` of ``win_length`` samples centred in ``n_fft``):

- power spectrum ``P[t, k] = |sum_n x[t h + n - n_fft/2] w[n] e^{-2 pi i k n / n_fft}|^2``
  (``center=True``: frame ``t`` is centred on sample ``t h``; the signal is padded with
  ``n_fft // 2`` zeros each side, ``pad_mode="constant"``, librosa's default since 0.10);
- mel energies ``E = P @ fb.T`` with our :func:`~rnnlab.audio.mel_filterbank`;
- log-mel in decibels as ``librosa.power_to_db(E, ref=1.0, amin=1e-10, top_db=80)``:
  ``L = 10 log10(max(E, amin))``, then ``L = max(L, max_t,m L - top_db)`` per utterance, so
  silence cannot reach far below the loudest frame (``top_db=None`` turns that off);
- MFCC: the orthonormal DCT-II of each log-mel frame, first ``n_mfcc`` coefficients, as
  ``librosa.feature.mfcc`` (without liftering).

Defaults suit speech at any rate: a 25 ms Hann window (``win_length = round(0.025 rate)``), a
10 ms hop (``hop_length = round(0.010 rate)``), ``n_fft`` the next power of two at or above the
window, 40 mel bands from 0 Hz to Nyquist. At 8 kHz (FSDD) that is a 200-sample window, 80-sample
hop, ``n_fft = 256`` (129 bins). :func:`stft_defaults` tells these sizes, :func:`frames_of` the
number of frames a signal of ``N`` samples gives.

Zero padding (``pad_mode="constant"``) makes batching exact: a row of a ``(B, N)`` batch padded
with zeros gives, in its first ``frames_of(N_b, hop)`` frames, the features the unpadded signal
gives on its own (pass ``lengths`` so ``top_db`` looks at those frames only). Computations run in
the wave's dtype: float64 in, float64 out.
"""

from __future__ import annotations

import math

import torch

from rnnlab.audio.mel import mel_filterbank
from rnnlab.errors import InputError

__all__ = ["frames_of", "log_mel", "mfcc", "power_spectrogram", "power_to_db", "stft_defaults"]

WINDOW_SECONDS = 0.025
HOP_SECONDS = 0.010


def stft_defaults(sample_rate: int) -> dict[str, int]:
    """The default STFT sizes at ``sample_rate`` Hz: 25 ms window, 10 ms hop, FFT the next power
    of two. Returns ``{"n_fft": ..., "win_length": ..., "hop_length": ...}`` in samples (at 8 kHz:
    256, 200, 80)."""
    win_length = max(1, round(WINDOW_SECONDS * sample_rate))
    hop_length = max(1, round(HOP_SECONDS * sample_rate))
    n_fft = 1 << (win_length - 1).bit_length()
    return {"n_fft": n_fft, "win_length": win_length, "hop_length": hop_length}


def frames_of(num_samples, hop_length: int, center: bool = True, n_fft: int | None = None):
    """The number of frames ``T`` the STFT gives for a signal of ``N`` samples.

    ``center=True``: ``T = 1 + N // hop_length``; ``center=False``: ``T = 1 + (N - n_fft) //
    hop_length`` (``n_fft`` then required). ``num_samples`` is an int (returns an int) or an
    integer tensor of lengths ``(B,)`` (returns a tensor ``(B,)``), e.g. for a padded batch.
    """
    if center:
        return 1 + num_samples // hop_length
    if n_fft is None:
        raise InputError("frames_of: center=False needs n_fft")
    return 1 + (num_samples - n_fft) // hop_length


def power_spectrogram(
    wave: torch.Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int | None = None,
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """``|STFT|^2`` with a periodic Hann window of ``win_length`` (``None``: ``n_fft``) centred
    in ``n_fft``.

    Args:
        wave: ``(N,)`` or ``(B, N)`` float.

    Returns:
        ``(T, K)`` or ``(B, T, K)``, ``K = n_fft // 2 + 1``, ``T = frames_of(N, hop_length,
        center, n_fft)``.
    """
    win_length = n_fft if win_length is None else win_length
    if not wave.is_floating_point():
        wave = wave.float()
    if wave.dim() not in (1, 2) or wave.shape[-1] == 0:
        raise InputError(
            f"expected a wave of shape (N,) or (B, N) with N > 0, got {tuple(wave.shape)}"
        )
    if not 0 < win_length <= n_fft or hop_length < 1:
        raise InputError(
            f"need 0 < win_length <= n_fft and hop_length > 0, got win_length={win_length}, "
            f"n_fft={n_fft}, hop_length={hop_length}"
        )
    if not center and wave.shape[-1] < n_fft:
        raise InputError(f"a wave of {wave.shape[-1]} samples is shorter than n_fft={n_fft}")
    window = torch.hann_window(win_length, periodic=True, dtype=wave.dtype, device=wave.device)
    spec = torch.stft(
        wave,
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
        return_complex=True,
    )  # (K, T) or (B, K, T)
    # P = Re^2 + Im^2
    power = spec.real.square() + spec.imag.square()
    return power.transpose(-1, -2)  # (T, K) or (B, T, K)


def power_to_db(
    power: torch.Tensor,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
    frames: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decibels ``10 log10(max(x, amin))`` (reference power 1), floored at ``top_db`` below each
    utterance's maximum.

    Args:
        power: ``(T, F)`` or ``(B, T, F)``, non-negative.
        amin: the smallest power taken, so silence gives ``10 log10(amin)`` (-100 dB), not -inf.
        top_db: floor distance in dB below the utterance's maximum; ``None``: no floor.
        frames: ``(B,)`` real frames per utterance of a padded batch: the maximum is taken over
            those only.

    Returns:
        the same shape as ``power``.
    """
    # L = 10 log10(max(x, amin))
    db = 10.0 * torch.log10(power.clamp_min(amin))
    if top_db is None:
        return db
    if top_db < 0:
        raise InputError(f"top_db={top_db} must be >= 0 (or None)")
    batched = db.dim() == 3
    db3 = db if batched else db.unsqueeze(0)  # (B, T, F)
    if frames is None:
        peak = db3.amax(dim=(1, 2))  # (B,)
    else:
        real = torch.arange(db3.shape[1], device=db.device) < frames.to(db.device)[:, None]
        peak = db3.masked_fill(~real[:, :, None], -math.inf).amax(dim=(1, 2))  # (B,)
    # L = max(L, max L - top_db)
    db3 = torch.maximum(db3, (peak - top_db)[:, None, None])
    return db3 if batched else db3[0]


def log_mel(
    wave: torch.Tensor,
    sample_rate: int,
    n_fft: int | None = None,
    hop_length: int | None = None,
    win_length: int | None = None,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
    center: bool = True,
    pad_mode: str = "constant",
    amin: float = 1e-10,
    top_db: float | None = 80.0,
    lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Log-mel spectrogram in dB, frames first.

    Args:
        wave: ``(N,)`` or ``(B, N)`` (a zero-padded batch), float.
        sample_rate: in Hz.
        n_fft, hop_length, win_length: STFT sizes in samples; ``None``: :func:`stft_defaults`
            (a window left ``None`` is ``n_fft`` when that is given; an ``n_fft`` left ``None``
            is the next power of two at or above the window).
        n_mels, f_min, f_max, htk, norm: the filterbank (:func:`~rnnlab.audio.mel_filterbank`).
        center, pad_mode: as ``torch.stft``; see the module docstring.
        amin, top_db: as :func:`power_to_db`.
        lengths: ``(B,)`` samples per row of a padded batch; only used to restrict the ``top_db``
            maximum to each row's real frames (``frames_of(lengths, hop_length)``).

    Returns:
        ``(T, M)`` or ``(B, T, M)``.
    """
    sizes = _sizes(sample_rate, n_fft, hop_length, win_length)
    power = power_spectrogram(wave, center=center, pad_mode=pad_mode, **sizes)  # (.., T, K)
    fb = mel_filterbank(
        sizes["n_fft"], n_mels, sample_rate, f_min, f_max, htk, norm, dtype=power.dtype
    ).to(power.device)  # (M, K)
    # E = P fb^T
    energy = power @ fb.T  # (.., T, M)
    frames = None
    if lengths is not None:
        frames = frames_of(torch.as_tensor(lengths), sizes["hop_length"], center, sizes["n_fft"])
    return power_to_db(energy, amin=amin, top_db=top_db, frames=frames)


def mfcc(wave: torch.Tensor, sample_rate: int, n_mfcc: int = 13, **log_mel_opts) -> torch.Tensor:
    """Mel-frequency cepstral coefficients: the orthonormal DCT-II of each dB log-mel frame.

    Args:
        wave: ``(N,)`` or ``(B, N)``, float.
        sample_rate: in Hz.
        n_mfcc: coefficients kept, ``<= n_mels`` (coefficient 0 is the frame's scaled mean dB).
        **log_mel_opts: passed to :func:`log_mel` (``n_mels``, ``n_fft``, ``top_db``, ...).

    Returns:
        ``(T, n_mfcc)`` or ``(B, T, n_mfcc)``.
    """
    db = log_mel(wave, sample_rate, **log_mel_opts)  # (.., T, M)
    n_mels = db.shape[-1]
    if not 0 < n_mfcc <= n_mels:
        raise InputError(f"n_mfcc={n_mfcc} must be between 1 and n_mels={n_mels}")
    return db @ dct_matrix(n_mfcc, n_mels, db.dtype).to(db.device).T  # (.., T, n_mfcc)


def dct_matrix(n_out: int, n_in: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The first ``n_out`` rows of the orthonormal DCT-II matrix of size ``n_in``: ``(n_out,
    n_in)``, so that ``y = x @ D.T`` transforms the last dimension of ``x``."""
    n = torch.arange(n_in, dtype=torch.float64)  # (n_in,)
    k = torch.arange(n_out, dtype=torch.float64)[:, None]  # (n_out, 1)
    # y_k = s_k sum_n x_n cos(pi k (2n + 1) / (2 N)),  s_0 = sqrt(1 / N),  s_k = sqrt(2 / N)
    d = torch.cos(math.pi * k * (2 * n + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)
    d[0] = math.sqrt(1.0 / n_in)
    return d.to(dtype)


def _sizes(sample_rate, n_fft, hop_length, win_length) -> dict[str, int]:
    """Fill the STFT sizes left ``None``: the window from ``n_fft`` if given, else 25 ms; the FFT
    the next power of two at or above the window; the hop 10 ms."""
    defaults = stft_defaults(sample_rate)
    if win_length is None:
        win_length = defaults["win_length"] if n_fft is None else n_fft
    if n_fft is None:
        n_fft = 1 << (win_length - 1).bit_length()
    hop_length = defaults["hop_length"] if hop_length is None else hop_length
    return {"n_fft": n_fft, "win_length": win_length, "hop_length": hop_length}
