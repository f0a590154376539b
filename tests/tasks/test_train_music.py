"""rnnlab.tasks.music end to end: a tiny model overfits one chorale, and a run stopped and resumed
ends with the weights of an uninterrupted one."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rnnlab.errors import InputError
from rnnlab.models.music import MusicConfig
from rnnlab.tasks.music import MusicJob, RandomTranspose, train_music, transpose
from rnnlab.train import TrainConfig
from run_files import current_weights

# a four-bar chorale at quarter notes: I IV V I chords under a moving soprano (MIDI pitches)
CHORDS = [[48, 55, 64], [53, 57, 65], [55, 59, 62], [48, 55, 64]]
SOPRANO = [72, 74, 76, 77, 76, 74, 72, 71, 72, 74, 76, 79, 77, 76, 74, 72]
CHORALE = [CHORDS[i // 4] + [SOPRANO[i]] for i in range(16)]


def write_json(path: Path, train, valid, test) -> Path:
    path.write_text(json.dumps({"train": train, "valid": valid, "test": test}))
    return path


def job(data, out, epochs, **kw) -> MusicJob:
    return MusicJob(data=str(data), out=str(out), batch_size=kw.pop("batch_size", 4),
                    model=MusicConfig(hidden_size=32, dropout=kw.pop("dropout", 0.0)),
                    train=TrainConfig(epochs=epochs, lr=kw.pop("lr", 0.02), patience=None,
                                      monitor="loss", mode="min", clip_norm=5.0, progress=False),
                    **kw)  # fmt: skip


def test_a_tiny_model_overfits_one_chorale(tmp_path):
    data = write_json(tmp_path / "one.json", [CHORALE], [CHORALE], [CHORALE])
    result = train_music(job(data, tmp_path / "run", epochs=400))
    first = result.history[0]["dev_loss"]
    assert first > 30  # about 88 log 2 = 61 nats per step before learning
    # 4 or 5 keys down of 88 every step; memorised, the NLL per step falls near 0
    assert result.scores["valid"]["nll"] < 1.5, result.scores  # 0.10-0.53 over 3 seeds
    assert result.scores["test"]["nll"] == pytest.approx(result.scores["valid"]["nll"])
    want = torch.zeros(16, 88)
    for t, keys in enumerate(CHORALE):
        want[t, [k - 21 for k in keys]] = 1
    assert torch.equal(result.model.sample(16, 0.0), want)  # it plays the chorale back


def test_too_few_midi_files_and_missing_splits_are_errors(tmp_path):
    (tmp_path / "midi").mkdir()
    with pytest.raises(Exception, match="MIDI"):
        train_music(job(tmp_path / "midi", tmp_path / "o", epochs=1))
    data = tmp_path / "novalid.json"
    data.write_text(json.dumps({"train": [CHORALE], "test": [CHORALE]}))
    with pytest.raises(InputError, match="valid"):
        train_music(job(data, tmp_path / "o", epochs=1))


def roll_of(pitches: list[list[int]]) -> torch.Tensor:
    roll = torch.zeros(len(pitches), 88)
    for t, keys in enumerate(pitches):
        roll[t, [k - 21 for k in keys]] = 1
    return roll


def test_transpose_moves_every_note_and_stops_at_the_keyboard_edges():
    roll = roll_of(CHORALE)  # lowest note C3 (48), highest G5 (79)
    up = transpose(roll, 5)
    assert torch.equal(up, roll_of([[k + 5 for k in step] for step in CHORALE]))
    assert torch.equal(transpose(roll, -3), roll_of([[k - 3 for k in step] for step in CHORALE]))
    # A0 (21) is the lowest key: C3 can go down 27 semitones at most, G5 up 29 to C8 (108)
    assert torch.equal(transpose(roll, -40), transpose(roll, -27))
    assert torch.equal(transpose(roll, 40), transpose(roll, 29))
    assert transpose(roll, 40)[:, -1].any() and transpose(roll, -40)[:, 0].any()
    assert torch.equal(transpose(torch.zeros(3, 88), 4), torch.zeros(3, 88))  # silence stays


def test_random_transpose_draws_every_shift_in_range_and_keeps_the_notes():
    torch.manual_seed(0)
    roll = roll_of(CHORALE)
    fn = RandomTranspose(2)
    seen = set()
    for _ in range(60):
        rolls, lengths = fn([roll, roll[:5]])
        assert lengths.tolist() == [16, 5] and rolls.sum() == roll.sum() + roll[:5].sum()
        for r in (rolls[0], rolls[1, :5]):
            shift = int(r.nonzero()[0, 1]) - int(roll.nonzero()[0, 1])
            assert torch.equal(r, transpose(roll[: len(r)], shift))
            seen.add(shift)
    assert seen == {-2, -1, 0, 1, 2}


def test_input_dropout_is_its_own_probability():
    from rnnlab.models.music import MusicModel

    assert MusicModel(MusicConfig(dropout=0.5)).input_dropout.p == 0.5  # None: as dropout
    m = MusicModel(MusicConfig(dropout=0.5, input_dropout=0.1))
    assert (m.input_dropout.p, m.dropout.p) == (0.1, 0.5)
    with pytest.raises(ValueError, match="input_dropout"):
        MusicConfig(input_dropout=1.0)


@pytest.mark.parametrize("shift", [0, 2])
def test_a_stopped_run_resumes_to_the_uninterrupted_weights(tmp_path, shift):
    pieces = [CHORALE, CHORALE[4:], CHORALE[:12], CHORALE[2:14], CHORALE[::-1]]
    data = write_json(tmp_path / "five.json", pieces, [CHORALE], [CHORALE])
    kw = {"dropout": 0.3, "batch_size": 2, "transpose": shift}
    train_music(job(data, tmp_path / "full", epochs=3, **kw))
    train_music(job(data, tmp_path / "cut", epochs=1, **kw))
    train_music(replace(job(data, tmp_path / "cut", epochs=3, **kw), resume=True))
    a, b = current_weights(tmp_path / "full"), current_weights(tmp_path / "cut")
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert math.isfinite(json.loads((tmp_path / "cut" / "scores.json").read_text())["test"]["nll"])
