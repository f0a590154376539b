"""mel_filterbank and the two mel scales, held against librosa (a test-only dependency)."""

import numpy as np
import pytest
import torch

from rnnlab.audio import hz_to_mel, mel_filterbank, mel_to_hz
from rnnlab.errors import InputError

librosa = pytest.importorskip("librosa")


@pytest.mark.parametrize("htk", [False, True])
def test_mel_scale_matches_librosa_and_inverts(htk):
    hz = torch.tensor([0.0, 50.0, 700.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0, 22050.0])
    hz = hz.double()
    mel = hz_to_mel(hz, htk=htk)
    np.testing.assert_allclose(mel.numpy(), librosa.hz_to_mel(hz.numpy(), htk=htk), rtol=1e-12)
    torch.testing.assert_close(mel_to_hz(mel, htk=htk), hz, rtol=1e-12, atol=1e-9)


def test_mel_scale_landmarks():
    # HTK: 1000 Hz is about 1000 mel; Slaney: 1000 Hz is 15 mel, and x6.4 in Hz adds 27 mel
    assert abs(float(hz_to_mel(torch.tensor(1000.0), htk=True)) - 999.99) < 0.01
    slaney = hz_to_mel(torch.tensor([1000.0, 6400.0]).double())
    torch.testing.assert_close(slaney, torch.tensor([15.0, 42.0]).double())


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None])
@pytest.mark.parametrize(
    "n_fft, n_mels, rate, f_min, f_max",
    [
        (256, 40, 8000, 0.0, None),
        (512, 64, 8000, 20.0, 3800.0),
        (512, 80, 16000, 0.0, None),
        (2048, 128, 44100, 30.0, 16000.0),
    ],
)
def test_filterbank_matches_librosa(htk, norm, n_fft, n_mels, rate, f_min, f_max):
    ours = mel_filterbank(
        n_fft, n_mels, rate, f_min, f_max, htk=htk, norm=norm, dtype=torch.float64
    )
    ref = librosa.filters.mel(
        sr=rate,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin=f_min,
        fmax=f_max,
        htk=htk,
        norm=norm,
        dtype=np.float64,
    )
    assert ours.shape == (n_mels, n_fft // 2 + 1)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)
    ref32 = librosa.filters.mel(
        sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max, htk=htk, norm=norm
    )  # librosa's default float32
    np.testing.assert_allclose(
        mel_filterbank(n_fft, n_mels, rate, f_min, f_max, htk, norm).numpy(),
        ref32,
        rtol=1e-6,
        atol=1e-9,
    )


def test_slaney_norm_gives_equal_areas_and_peaks_are_one_without_it():
    rate, n_fft = 8000, 4096  # fine bins: the triangles' areas are close to their exact value
    plain = mel_filterbank(n_fft, 40, rate, norm=None, dtype=torch.float64)  # (M, K)
    area = mel_filterbank(n_fft, 40, rate, dtype=torch.float64).sum(dim=1) * rate / n_fft
    assert float((plain.amax(dim=1) - 1).abs().max()) < 0.02
    torch.testing.assert_close(area, torch.ones(40).double(), rtol=2e-2, atol=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(f_max=5000.0),
        dict(f_min=-1.0),
        dict(f_min=3000.0, f_max=2000.0),
        dict(norm="l2"),
        dict(n_mels=0),
    ],
)
def test_bad_settings(kwargs):
    args = dict(n_fft=256, n_mels=40, sample_rate=8000) | kwargs
    with pytest.raises(InputError):
        mel_filterbank(**args)


def test_empty_bands_are_warned(caplog):
    fb = mel_filterbank(64, 60, 8000)
    assert "cover no FFT bin" in caplog.text
    assert fb.shape == (60, 33)
