"""Synthetic speech for tests: "words" made of two tones, one pair of frequencies per label,
shifted a little per speaker, written as WAVs named <label>_<speaker>_<index>.wav."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

# label -> (first tone, second tone) in Hz: the order of the two tones tells "0" from "3"
TONES = {"0": (400, 1200), "1": (1200, 400), "2": (700, 2000), "3": (2000, 700)}
SPEAKERS = ("ann", "bob", "cy")


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write float samples in [-1, 1], (N,) mono or (N, C), as 16-bit PCM."""
    x = np.asarray(samples, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    data = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)
    return path


def tone_word(label: str, speaker: int, rng: np.random.Generator, rate: int = 8000) -> np.ndarray:
    """One "word" (N,): the label's two tones, pitch-shifted by the speaker, random length."""
    f1, f2 = TONES[label]
    shift = 1.0 + 0.04 * (speaker - 1)
    half = int(rate * rng.uniform(0.12, 0.2))
    t = np.arange(half) / rate
    env = np.hanning(half)
    amp = rng.uniform(0.3, 0.8)
    x = np.concatenate([np.sin(2 * np.pi * f1 * shift * t) * env,
                        np.sin(2 * np.pi * f2 * shift * t) * env]) * amp  # fmt: skip
    return x + rng.normal(0, 0.003, len(x))


def write_tone_folder(folder: Path, per: int = 8, labels=tuple(TONES), speakers=SPEAKERS,
                      seed: int = 0, rate: int = 8000) -> Path:  # fmt: skip
    """``per`` recordings (index 0..per-1) of every label by every speaker in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for s, speaker in enumerate(speakers):
        for label in labels:
            for i in range(per):
                write_wav(folder / f"{label}_{speaker}_{i}.wav", tone_word(label, s, rng, rate),
                          rate)  # fmt: skip
    return folder
