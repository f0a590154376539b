"""resample: a sine keeps its frequency and amplitude from 44.1 and 48 kHz down to 8 kHz; the
result is scipy.signal.resample_poly's, of length ceil(N * new / old)."""

import math

import numpy as np
import pytest
import torch
from scipy.signal import resample_poly

from rnnlab.audio import resample
from rnnlab.errors import InputError


def sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> torch.Tensor:
    t = torch.arange(round(seconds * rate), dtype=torch.float64) / rate
    return amp * torch.sin(2 * math.pi * freq * t)  # (N,)


def peak(x: torch.Tensor, rate: int) -> tuple[float, float]:
    """(frequency, amplitude) of the largest peak of a Hann-windowed spectrum."""
    w = torch.hann_window(len(x), periodic=False, dtype=x.dtype)
    spec = torch.fft.rfft(x * w).abs()  # (N/2+1,)
    k = int(spec.argmax())
    return k * rate / len(x), float(spec[k]) * 2 / float(w.sum())


@pytest.mark.parametrize("orig", [44100, 48000, 16000, 11025])
@pytest.mark.parametrize("freq", [440.0, 1000.0, 3000.0])
def test_sine_keeps_frequency_and_amplitude(orig, freq):
    x = sine(freq, orig, 1.0)  # 1 s: 1 Hz bins
    y = resample(x, orig, 8000)
    assert y.shape == (8000,) and y.dtype == torch.float64
    f, a = peak(y[400:-400], 8000)  # away from the filter's edge transients
    assert abs(f - freq) <= 8000 / 7200 and abs(a - 0.5) < 5e-3


def test_length_is_ceil_of_the_ratio():
    for n in (1, 7, 441, 1000, 44101):
        for orig, new in ((44100, 8000), (48000, 8000), (8000, 44100), (8000, 16000)):
            assert resample(torch.zeros(n), orig, new).shape == (math.ceil(n * new / orig),)


def test_content_above_the_new_nyquist_is_removed():
    y = resample(sine(6000.0, 48000, 1.0), 48000, 8000)  # 6 kHz > 4 kHz Nyquist
    assert float(y[400:-400].abs().max()) < 0.01  # not aliased to 2 kHz


def test_matches_scipy_on_a_batch():
    x = torch.randn(3, 2, 4410, generator=torch.Generator().manual_seed(0))  # (B, C, N)
    y = resample(x.float(), 44100, 8000)
    ref = resample_poly(x.float().numpy(), 80, 441, axis=-1)
    assert y.shape == (3, 2, 800) and y.dtype == torch.float32
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6, atol=1e-6)


def test_same_rate_is_identity_and_ints_become_float():
    x = torch.randn(100)
    assert resample(x, 8000, 8000) is x
    assert resample(torch.arange(10), 8000, 8000).dtype == torch.float32


@pytest.mark.parametrize("rate", [0, -8000, 8000.5, True])
def test_bad_rate(rate):
    with pytest.raises(InputError, match="must be a positive integer"):
        resample(torch.zeros(10), rate, 8000)
