"""rnnlab train music, rnnlab sample and rnnlab evaluate on a music model, through the real entry
point, on a tiny JSON of one four-bar chorale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnlab.audio import read_wav
from rnnlab.cli import main
from rnnlab.data.music import read_midi

CHORDS = [[48, 55, 64], [53, 57, 65], [55, 59, 62], [48, 55, 64]]
CHORALE = [CHORDS[i // 4] + [72 + (i % 5)] for i in range(16)]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli_music")
    data = root / "one.json"
    data.write_text(json.dumps({"train": [CHORALE, CHORALE[::-1]], "valid": [CHORALE],
                                "test": [CHORALE]}))  # fmt: skip
    code = main(["train", "music", "--data", str(data), "--cell", "gru", "--hidden", "16",
                 "--epochs", "3", "--no-progress", "--out", str(root / "run")])  # fmt: skip
    assert code == 0
    return root / "run", data


def test_sample_writes_midi_and_its_piano_roll(run, tmp_path, capsys):
    out = tmp_path / "piece.mid"
    assert main(["sample", str(run[0]), "--steps", "12", "--seed", "1", "--out", str(out)]) == 0
    assert read_midi(out).shape[0] <= 12 and out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in capsys.readouterr().out
    primed = tmp_path / "primed.mid"
    code = main(["sample", str(run[0]), "--steps", "4", "--seed", "1", "--prime", str(out),
                 "--bars", "1", "--out", str(primed), "--wav"])  # fmt: skip
    assert code == 0
    assert "(8 steps" in capsys.readouterr().out  # one 4/4 bar of the prime + 4 new steps
    wave, rate = read_wav(primed.with_suffix(".wav"))
    assert rate == 22050 and wave.shape[1] == round(8 * 0.5 * rate) + 1  # 8 quarters at 120


def test_evaluate_prints_the_nll_per_time_step(run, capsys):
    assert main(["evaluate", str(run[0]), "--data", str(run[1]), "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert "(1 pieces, 16 steps): NLL per time step" in out


def test_sample_without_out_and_a_bad_split_are_one_line_errors(run, capsys):
    for argv, message in (
        (["sample", str(run[0])], "--out"),
        (["evaluate", str(run[0]), "--data", str(run[1]), "--split", "nope"], "nope"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("rnnlab: error:") and message in err and len(err.splitlines()) == 1


def test_train_options_reach_the_saved_run(tmp_path):
    data = tmp_path / "one.json"
    data.write_text(json.dumps({"train": [CHORALE], "valid": [CHORALE], "test": [CHORALE]}))
    out = tmp_path / "run"
    assert main(["train", "music", "--data", str(data), "--hidden", "8", "--epochs", "1",
                 "--input-dropout", "0.2", "--dropout", "0.4", "--transpose", "3",
                 "--weight-dropout", "0.3",
                 "--batch-size", "2", "--no-progress", "--out", str(out)]) == 0  # fmt: skip
    model = json.loads((out / "config.json").read_text())["model"]
    assert (model["input_dropout"], model["dropout"], model["weight_dropout"]) == (0.2, 0.4, 0.3)
    run = json.loads((out / "run.json").read_text())
    assert (run["transpose"], run["batch_size"]) == (3, 2)
    assert main(["train", "music", "--data", str(data), "--transpose", "13", "--no-progress",
                 "--out", str(tmp_path / "bad")]) == 2  # fmt: skip
