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
from rnnlab.tasks.music import MusicJob, train_music
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


def test_a_stopped_run_resumes_to_the_uninterrupted_weights(tmp_path):
    pieces = [CHORALE, CHORALE[4:], CHORALE[:12], CHORALE[2:14], CHORALE[::-1]]
    data = write_json(tmp_path / "five.json", pieces, [CHORALE], [CHORALE])
    train_music(job(data, tmp_path / "full", epochs=3, dropout=0.3, batch_size=2))
    train_music(job(data, tmp_path / "cut", epochs=1, dropout=0.3, batch_size=2))
    train_music(replace(job(data, tmp_path / "cut", epochs=3, dropout=0.3, batch_size=2),
                        resume=True))  # fmt: skip
    a, b = current_weights(tmp_path / "full"), current_weights(tmp_path / "cut")
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert math.isfinite(json.loads((tmp_path / "cut" / "scores.json").read_text())["test"]["nll"])
