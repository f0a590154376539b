"""Audio front end: WAV files in, frame-level speech features out.

Symbols: B batch, C channels, N samples, T frames, F features per frame (M mel bands, K FFT bins).

Reading (:mod:`rnnlab.audio.wav`, :mod:`rnnlab.audio.resample`):

- ``read_wav(path) -> (wave (C, N) float32, sample_rate)``: PCM 8/16/24/32-bit, IEEE float;
- ``load_audio(path, rate=8000) -> (N,)``: mean of the channels, resampled to ``rate``;
- ``resample(wave (..., N), orig_rate, new_rate) -> (..., N')``: polyphase (scipy).

Features (:mod:`rnnlab.audio.mel`, :mod:`rnnlab.audio.features`), from ``torch.stft``:

- ``mel_filterbank(n_fft, n_mels, sample_rate, ...) -> (M, K)``; ``hz_to_mel``, ``mel_to_hz``;
- ``power_spectrogram(wave (N,) | (B, N), n_fft, hop_length, ...) -> (T, K) | (B, T, K)``;
- ``power_to_db(power, amin=1e-10, top_db=80)``;
- ``log_mel(wave (N,) | (B, N), sample_rate, ...) -> (T, M) | (B, T, M)`` in dB;
- ``mfcc(wave, sample_rate, n_mfcc=13, ...) -> (T, n_mfcc) | (B, T, n_mfcc)``;
- ``stft_defaults(sample_rate)`` (25 ms window, 10 ms hop) and ``frames_of(N, hop_length)``.

Per-utterance normalisation and augmentation (:mod:`rnnlab.audio.normalize`,
:mod:`rnnlab.audio.augment`):

- ``cmvn(features (T, F) | (B, T, F), lengths=None)``: zero mean, unit variance per feature;
- ``spec_augment(features (B, T, F), lengths, ..., generator=None)``: SpecAugment masking.

Writing (:mod:`rnnlab.audio.synth`): ``render_roll(roll (T, 88), ...) -> (N,)``, an additive
synthesiser for piano rolls; ``write_wav(path, samples (N,), rate)``: 16-bit mono PCM.

>>> import torch
>>> from rnnlab.audio import log_mel, frames_of
>>> wave = torch.zeros(8000)  # one second at 8 kHz
>>> log_mel(wave, 8000).shape, frames_of(8000, hop_length=80)
(torch.Size([101, 40]), 101)
"""

from rnnlab.audio.augment import spec_augment
from rnnlab.audio.features import (
    frames_of,
    log_mel,
    mfcc,
    power_spectrogram,
    power_to_db,
    stft_defaults,
)
from rnnlab.audio.mel import hz_to_mel, mel_filterbank, mel_to_hz
from rnnlab.audio.normalize import cmvn
from rnnlab.audio.resample import resample
from rnnlab.audio.synth import render_roll, write_wav
from rnnlab.audio.wav import load_audio, read_wav

__all__ = [
    "cmvn",
    "frames_of",
    "hz_to_mel",
    "load_audio",
    "log_mel",
    "mel_filterbank",
    "mel_to_hz",
    "mfcc",
    "power_spectrogram",
    "power_to_db",
    "read_wav",
    "render_roll",
    "resample",
    "spec_augment",
    "stft_defaults",
    "write_wav",
]
