"""Key finding, the in-key share and the note density on hand-built rolls."""

from __future__ import annotations

import pytest
import torch

from rnnlab.metrics.music import (
    estimate_key,
    in_key_share,
    key_name,
    note_density,
    pitch_class_durations,
)


def roll_of(steps: list[list[int]]) -> torch.Tensor:
    x = torch.zeros(len(steps), 88)
    for t, pitches in enumerate(steps):
        x[t, [p - 21 for p in pitches]] = 1
    return x


C_MAJOR = [[48, 52, 55, 60], [53, 57, 60, 65], [55, 59, 62, 67], [48, 52, 55, 60],
           [60], [62], [64], [65], [67], [69], [71], [72]]  # fmt: skip
A_MINOR = [[45, 52, 57, 60], [50, 57, 62, 65], [52, 56, 59, 64], [45, 52, 57, 60],
           [57], [59], [60], [62], [64], [65], [68], [69]]  # fmt: skip


def test_pitch_classes_add_up_over_octaves():
    d = pitch_class_durations(roll_of([[60, 72], [60], [61]]))
    assert d[0] == 3 and d[1] == 1 and d.sum() == 4


def test_keys_of_a_cadence_in_c_major_and_in_a_minor():
    assert key_name(estimate_key(roll_of(C_MAJOR))) == "C major"
    assert key_name(estimate_key(roll_of(A_MINOR))) == "A minor"
    # transposed up a fifth: G major
    assert estimate_key(roll_of([[p + 7 for p in s] for s in C_MAJOR])) == (7, "major")


def test_in_key_share_counts_sounding_steps_with_every_note_in_the_scale():
    assert in_key_share(roll_of(C_MAJOR)) == 1.0
    assert in_key_share(roll_of(A_MINOR)) == 1.0  # G# is the raised 7th of A minor
    # 12 sounding steps of a chromatic scale from C, in C major: the 7 naturals
    chromatic = roll_of([[60 + i] for i in range(12)] + [[]])
    assert in_key_share(chromatic, (0, "major")) == pytest.approx(7 / 12)
    # a step with one wrong note counts as out of key as a whole
    assert in_key_share(roll_of([[60, 64], [60, 63], []]), (0, "major")) == 0.5
    with pytest.raises(ValueError, match="silent"):
        in_key_share(torch.zeros(3, 88))


def test_note_density_is_keys_down_per_step():
    assert note_density(roll_of([[60, 64, 67, 72], [], [60, 64]])) == 2.0
    with pytest.raises(ValueError, match="88"):
        note_density(torch.zeros(3, 12))
