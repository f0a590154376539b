"""Power spectrogram, log-mel (dB) and MFCC from torch.stft, held against librosa's with the
same STFT settings, on synthetic signals and on real FSDD recordings.

In float64 ours and librosa's agree to about 1e-13 dB; in float32 (librosa's and our default) to
about 1e-4 dB on log-mel of magnitude up to 100 dB and MFCC up to about 400, i.e. float32
rounding: the float32 checks are relative to the largest magnitude."""

import math

import numpy as np
import pytest
import torch

from rnnlab.audio import (
    frames_of,
    log_mel,
    mfcc,
    power_spectrogram,
    read_wav,
    stft_defaults,
)
from rnnlab.errors import InputError

librosa = pytest.importorskip("librosa")

FSDD_DEFAULTS = dict(n_fft=256, hop_length=80, win_length=200, n_mels=40)  # ours at 8 kHz


def synthetic(rate: int, seconds: float, seed: int = 0) -> torch.Tensor:
    """A chirp from 100 Hz to 0.4 rate plus noise, with a silent stretch: ``(N,)`` float64."""
    n = round(rate * seconds)
    t = torch.arange(n, dtype=torch.float64) / rate
    f1 = 0.4 * rate
    chirp = 0.3 * torch.sin(2 * math.pi * (100 * t + (f1 - 100) * t**2 / (2 * seconds)))
    noise = 0.02 * torch.randn(
        n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    x = chirp + noise
    x[n // 3 : n // 2] = 0.0  # exact silence: exercises amin and top_db
    return x


def librosa_log_mel(
    y,
    rate,
    n_fft,
    hop_length,
    win_length,
    n_mels,
    center=True,
    pad_mode="constant",
    htk=False,
    f_min=0.0,
    f_max=None,
    top_db=80.0,
):
    """librosa's log-mel with every setting spelled out, (T, M)."""
    power = librosa.feature.melspectrogram(
        y=y,
        sr=rate,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window="hann",
        center=center,
        pad_mode=pad_mode,
        power=2.0,
        n_mels=n_mels,
        fmin=f_min,
        fmax=f_max,
        htk=htk,
        norm="slaney",
        dtype=y.dtype,
    )
    return librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=top_db).T


CASES = [  # rate, seconds, stft and mel settings
    (8000, 0.5, dict(FSDD_DEFAULTS)),
    (8000, 0.3, dict(n_fft=512, hop_length=128, win_length=512, n_mels=64, htk=True)),
    (16000, 0.4, dict(n_fft=512, hop_length=160, win_length=400, n_mels=80, top_db=None)),
    (16000, 0.4, dict(n_fft=400, hop_length=100, win_length=400, n_mels=40, center=False)),
    (
        22050,
        0.3,
        dict(
            n_fft=1024,
            hop_length=256,
            win_length=1024,
            n_mels=64,
            pad_mode="reflect",
            f_min=50.0,
            f_max=8000.0,
        ),
    ),
]


@pytest.mark.parametrize("rate, seconds, opts", CASES)
def test_log_mel_matches_librosa_float64(rate, seconds, opts):
    x = synthetic(rate, seconds)
    ours = log_mel(x, rate, **opts)
    ref = librosa_log_mel(x.numpy(), rate, **opts)
    assert ours.shape == ref.shape and ours.dtype == torch.float64
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=1e-8)
    hop, center = opts["hop_length"], opts.get("center", True)
    assert ours.shape[0] == frames_of(len(x), hop, center, n_fft=opts["n_fft"])


@pytest.mark.parametrize("rate, seconds, opts", CASES[:3])
def test_power_spectrogram_matches_librosa(rate, seconds, opts):
    x = synthetic(rate, seconds, seed=1)
    ours = power_spectrogram(x, opts["n_fft"], opts["hop_length"], opts["win_length"])
    ref = (
        np.abs(
            librosa.stft(
                x.numpy(),
                n_fft=opts["n_fft"],
                hop_length=opts["hop_length"],
                win_length=opts["win_length"],
                pad_mode="constant",
            )
        )
        ** 2
    )
    np.testing.assert_allclose(ours.numpy(), ref.T, rtol=0, atol=1e-10 * ref.max())


@pytest.mark.parametrize("rate, seconds, opts", CASES[:3])
def test_mfcc_matches_librosa(rate, seconds, opts):
    x = synthetic(rate, seconds, seed=2)
    ours = mfcc(x, rate, n_mfcc=13, **opts)
    db = librosa_log_mel(x.numpy(), rate, **opts).T  # (M, T)
    ref = librosa.feature.mfcc(S=db, n_mfcc=13, dct_type=2, norm="ortho", lifter=0)
    assert ours.shape == (ref.shape[1], 13)
    np.testing.assert_allclose(ours.numpy(), ref.T, rtol=0, atol=1e-8)


def fsdd_sample(data_root, count=12):
    """Two recordings of each FSDD speaker (sorted, so always the same ones)."""
    paths = []
    for speaker in ("george", "jackson", "lucas", "nicolas", "theo", "yweweler"):
        found = sorted((data_root / "speech" / "fsdd" / "recordings").glob(f"*_{speaker}_*.wav"))
        paths += found[:: max(1, len(found) // 2)][:2]
    assert len(paths) == count
    return paths


@pytest.mark.data
def test_fsdd_features_match_librosa(data_root):
    worst = {"log_mel64": 0.0, "mfcc64": 0.0, "log_mel32": 0.0, "mfcc32": 0.0}
    for path in fsdd_sample(data_root):
        wave, rate = read_wav(path)
        assert rate == 8000
        for dtype, bits in ((torch.float64, "64"), (torch.float32, "32")):
            x = wave[0].to(dtype)  # (N,)
            y = x.numpy()
            ours = log_mel(x, rate)  # our defaults: FSDD_DEFAULTS, top_db 80
            ref = librosa_log_mel(y, rate, **FSDD_DEFAULTS)
            ours_c = mfcc(x, rate)
            ref_c = librosa.feature.mfcc(y=y, sr=rate, n_mfcc=13, dtype=y.dtype, **FSDD_DEFAULTS).T
            assert ours.shape == ref.shape and ours_c.shape == ref_c.shape
            worst["log_mel" + bits] = max(
                worst["log_mel" + bits], float(np.abs(ours.numpy() - ref).max() / np.abs(ref).max())
            )
            worst["mfcc" + bits] = max(
                worst["mfcc" + bits],
                float(np.abs(ours_c.numpy() - ref_c).max() / np.abs(ref_c).max()),
            )
    # relative to the largest magnitude: float64 agrees to rounding, float32 to 1e-6
    assert worst["log_mel64"] < 1e-12 and worst["mfcc64"] < 1e-12, worst
    assert worst["log_mel32"] < 1e-4 and worst["mfcc32"] < 1e-4, worst


def test_defaults_follow_the_sample_rate():
    assert stft_defaults(8000) == {"n_fft": 256, "win_length": 200, "hop_length": 80}
    assert stft_defaults(16000) == {"n_fft": 512, "win_length": 400, "hop_length": 160}
    assert stft_defaults(44100) == {"n_fft": 2048, "win_length": 1102, "hop_length": 441}
    x = synthetic(8000, 0.25)
    torch.testing.assert_close(log_mel(x, 8000), log_mel(x, 8000, **FSDD_DEFAULTS))
    assert log_mel(x, 8000, n_fft=512).shape == (frames_of(2000, 80), 40)  # window = n_fft
    assert log_mel(x.float(), 8000).dtype == torch.float32


def test_padded_batch_rows_equal_single_utterances():
    rate = 8000
    waves = [synthetic(rate, s, seed=i) for i, s in enumerate((0.5, 0.21, 0.333))]
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(3, int(lengths.max()), dtype=torch.float64)  # (B, N) zero padded
    for b, w in enumerate(waves):
        batch[b, : len(w)] = w
    for fn in (log_mel, mfcc):
        out = fn(batch, rate, lengths=lengths)  # (B, T, F)
        frames = frames_of(lengths, 80)
        assert out.shape[1] == frames_of(int(lengths.max()), 80)
        for b, w in enumerate(waves):
            torch.testing.assert_close(out[b, : frames[b]], fn(w, rate), rtol=0, atol=1e-9)


def test_frames_of_ints_and_tensors():
    assert frames_of(0, 80) == 1 and frames_of(79, 80) == 1 and frames_of(80, 80) == 2
    assert frames_of(1000, 100, center=False, n_fft=400) == 7
    assert frames_of(torch.tensor([80, 8000]), 80).tolist() == [2, 101]
    with pytest.raises(InputError, match="needs n_fft"):
        frames_of(1000, 100, center=False)


@pytest.mark.parametrize(
    "wave, kwargs, message",
    [
        (torch.zeros(0), {}, "N > 0"),
        (torch.zeros(2, 3, 100), {}, "N > 0"),
        (torch.zeros(1000), dict(n_fft=128, win_length=200), "win_length <= n_fft"),
        (torch.zeros(100), dict(center=False), "shorter than n_fft"),
        (torch.zeros(1000), dict(n_mels=40, n_mfcc=41), "n_mfcc=41"),
    ],
)
def test_bad_inputs(wave, kwargs, message):
    with pytest.raises(InputError, match=message):
        mfcc(wave, 8000, **kwargs)


def test_silence_is_floored_not_infinite():
    out = log_mel(torch.zeros(800), 8000)
    assert torch.all(out == -100.0)  # 10 log10(amin)
