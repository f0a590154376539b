"""rnnlab train series, rnnlab evaluate and rnnlab predict on a series classifier, through the real
entry point, on small generated .ts files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnlab.cli import main
from series_files import CLASSES, waves, write_ts

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli_series")
    train = write_ts(root / "Waves_TRAIN.ts", *waves(60, seed=1, min_len=8, max_len=20))
    test = write_ts(root / "Waves_TEST.ts", *waves(60, seed=2, min_len=8, max_len=20))
    code = main(["train", "series", "--data", str(train), "--hidden", "16", "--layers", "1",
                 "--dropout", "0", "--lr", "0.02", "--epochs", "20", "--out", str(root / "run"),
                 "--no-progress"])  # fmt: skip
    assert code == 0
    return {"root": root, "train": train, "test": test, "run": root / "run"}


def test_train_prints_scores_and_writes_the_model_directory(run):
    for name in ("config.json", "run.json", "model.safetensors", "scores.json",
                 "learning_curve.png", "confusion_test.png"):  # fmt: skip
        assert (run["run"] / name).is_file(), name
    assert (run["run"] / "confusion_test.png").read_bytes()[:8] == PNG


def test_evaluate_prints_accuracy_and_the_confusion_matrix(run, capsys):
    assert main(["evaluate", str(run["run"]), "--data", str(run["test"])]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"{run['test']} (60 series): accuracy ")
    assert float(first.rsplit(" ", 1)[1]) >= 0.85  # chance 1/3
    assert "gold \\ pred" in out and all(c in out for c in CLASSES)
    assert (run["run"] / "confusion_Waves_TEST.png").read_bytes()[:8] == PNG


def test_predict_prints_one_line_per_series(run, tmp_path, capsys):
    series, labels = waves(9, seed=5, min_len=8, max_len=20)
    unlabelled = write_ts(tmp_path / "new.ts", series, None)
    assert main(["predict", str(run["run"]), str(unlabelled)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 9
    right = 0
    for i, (line, gold) in enumerate(zip(lines, labels, strict=True), start=1):
        label, prob, where = line.split("\t")
        assert label in CLASSES and 1 / 3 <= float(prob) <= 1.0 and where == f"{unlabelled}:{i}"
        right += label == gold
    assert right >= 7


def test_user_errors_are_one_line_with_exit_code_2(run, tmp_path, capsys):
    bad = tmp_path / "bad_TRAIN.ts"
    bad.write_text("@problemName B\n@classLabel true a b\n@data\n1,2:a\n1,x:b\n")
    wide = write_ts(tmp_path / "wide.ts", [np.ones((4, 3))], ["slow"])
    other = write_ts(tmp_path / "other.ts", [np.ones((4, 2))], ["zzz"], classes=["zzz"])
    cases = [
        (["train", "series", "--data", str(bad), "--out", str(tmp_path / "o")], f"{bad}:5"),
        (["train", "series", "--data", "nothing_here"], "neither a registered"),
        (["train", "series", "--data", str(run["train"]), "--valid-fraction", "1.5"],
         "valid_fraction"),
        (["predict", str(run["run"]), str(wide)], "3 channels per step, the model reads 2"),
        (["predict", str(run["run"])], "nothing to classify"),
        (["evaluate", str(run["run"]), "--data", str(other)], "not among"),
    ]  # fmt: skip
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("rnnlab: error: ") and message in err[0], err
