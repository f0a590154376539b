"""Hearing a piano roll: a simple additive synthesiser, and writing a WAV file.

Each note (a key held over consecutive steps is one note) sounds from its first step to the end
of its last, as a sum of harmonics with a short attack and an exponential decay:

    f      = 440 * 2^((p - 69) / 12)                      Hz, MIDI pitch p
    x(t)   = a(t) sum_{h=1..H} h^-2 sin(2 pi h f t)       t from the note's onset
    a(t)   = min(1, t / attack) exp(-t / decay)           and a 10 ms fade at its end

Symbols: T steps, K = 88 keys (MIDI 21..108), N samples.
"""

from __future__ import annotations

import math
import os
import wave
from pathlib import Path

import numpy as np
import torch

from rnnlab.errors import InputError

__all__ = ["render_roll", "write_wav"]

LOWEST_PITCH = 21  # key 0 of a roll


def render_roll(roll: torch.Tensor, steps_per_quarter: int = 1, tempo: float = 120.0,
                rate: int = 22050, harmonics: int = 4) -> torch.Tensor:  # fmt: skip
    """The samples (N,) in [-1, 1] of ``roll`` (T, 88) played at ``tempo`` quarter notes per
    minute, N = T * rate * 60 / (tempo * steps_per_quarter) (peak-normalised to 0.8)."""
    if roll.dim() != 2 or roll.shape[1] != 88:
        raise InputError(f"a piano roll is (T, 88), got {tuple(roll.shape)}")
    if tempo <= 0 or steps_per_quarter < 1 or rate < 1000:
        raise InputError("tempo must be > 0, steps_per_quarter >= 1 and rate >= 1000")
    on = roll.detach().cpu().numpy() > 0.5  # (T, K)
    T = on.shape[0]
    step = rate * 60.0 / (tempo * steps_per_quarter)  # samples per step
    out = np.zeros(int(round(T * step)) + 1)
    fade = max(1, int(0.01 * rate))
    for k in range(88):
        t = 0
        while t < T:
            if not on[t, k]:
                t += 1
                continue
            end = t
            while end < T and on[end, k]:  # a held key is one note
                end += 1
            a, b = int(round(t * step)), int(round(end * step))
            n = np.arange(b - a) / rate  # seconds since the onset
            f = 440.0 * 2 ** ((LOWEST_PITCH + k - 69) / 12)
            # x(t) = a(t) sum_h h^-2 sin(2 pi h f t), harmonics below the Nyquist frequency
            x = sum(np.sin(2 * math.pi * h * f * n) / h**2
                    for h in range(1, harmonics + 1) if h * f < rate / 2)  # fmt: skip
            env = np.minimum(1.0, n / 0.01) * np.exp(-n / 1.5)
            env[-fade:] *= np.linspace(1.0, 0.0, min(fade, len(env)))
            out[a:b] += x * env
            t = end
    peak = np.abs(out).max()
    return torch.from_numpy(out * (0.8 / peak) if peak > 0 else out).float()


def write_wav(path: str | os.PathLike, samples: torch.Tensor, rate: int) -> Path:
    """Write (N,) samples in [-1, 1] as a 16-bit mono PCM WAV file (written whole, then moved
    into place)."""
    path = Path(path)
    x = np.clip(samples.detach().cpu().numpy(), -1.0, 1.0)
    data = np.round(x * 32767).astype("<i2").tobytes()
    tmp = path.with_name(path.name + ".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)
    os.replace(tmp, path)
    return path
