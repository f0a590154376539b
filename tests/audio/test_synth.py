"""The additive synthesiser: the right pitch, one note per held key, and a WAV read back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.audio import read_wav, render_roll, write_wav
from rnnlab.errors import InputError


def roll_of(steps: list[list[int]]) -> torch.Tensor:
    x = torch.zeros(len(steps), 88)
    for t, pitches in enumerate(steps):
        x[t, [p - 21 for p in pitches]] = 1
    return x


def test_a4_sounds_at_440_hz_for_as_long_as_it_is_held():
    rate = 22050
    x = render_roll(roll_of([[69], [69], []]), steps_per_quarter=1, tempo=120.0, rate=rate)
    assert len(x) == round(3 * 0.5 * rate) + 1  # three quarter notes at 120 a minute
    sound = x[:rate].numpy()  # the held second
    spectrum = np.abs(np.fft.rfft(sound))
    assert np.fft.rfftfreq(len(sound), 1 / rate)[spectrum.argmax()] == pytest.approx(440, abs=1)
    assert np.abs(x[int(1.05 * rate) :].numpy()).max() < 1e-6  # the last step is silent
    assert abs(float(x.abs().max()) - 0.8) < 1e-6


def test_a_held_key_is_one_note_not_two():
    rate = 8000
    held = render_roll(roll_of([[60], [60]]), rate=rate).numpy()
    struck = render_roll(roll_of([[60], [], [60]]), rate=rate).numpy()
    edge = int(0.5 * rate)  # the step boundary: a new attack would start from silence there
    assert np.abs(held[edge - 20 : edge + 20]).max() > 0.3
    assert np.abs(struck[edge + 1 : edge + 20]).max() < 1e-6


def test_write_wav_round_trip_and_bad_rolls(tmp_path):
    x = render_roll(roll_of([[48, 52, 55]]), rate=16000)
    path = write_wav(tmp_path / "c.wav", x, 16000)
    back, rate = read_wav(path)
    assert rate == 16000 and back.shape == (1, len(x))
    # written as round(32767 x), read as n / 32768: off by at most (|x| + 1/2) / 32768
    assert float((back[0] - x).abs().max()) <= 1.5 / 32768 + 1e-7
    with pytest.raises(InputError, match="88"):
        render_roll(torch.zeros(4, 12))
