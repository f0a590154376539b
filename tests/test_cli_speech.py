"""rnnlab train speech, rnnlab transcribe, rnnlab evaluate and rnnlab inspect speech on a speech
model, through the real entry point, on synthetic two-tone "words"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnlab.cli import main
from speech_files import tone_word, write_tone_folder, write_wav

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A classifier and a CTC model trained by the CLI on the tone folder."""
    root = tmp_path_factory.mktemp("cli_speech")
    rec = write_tone_folder(root / "rec", per=10)
    # the tones' pitch tells the words apart: log-mel features, mild speed perturbation
    small = ["--features", "logmel", "--speed-perturb", "0.95,1,1.05", "--hidden", "24",
             "--layers", "1", "--dropout", "0.1", "--lr", "0.01", "--batch-size", "16",
             "--no-progress"]  # fmt: skip
    code = main(["train", "speech", "--data", str(rec), "--epochs", "8", "--test-speakers", "cy",
                 "--out", str(root / "words"), *small])  # fmt: skip
    assert code == 0
    code = main(["train", "speech", "--data", str(rec), "--ctc", "--epochs", "12",
                 "--max-digits", "4", "--train-strings", "400", "--eval-strings", "60",
                 "--out", str(root / "strings"), "--features", "logmel", "--speed-perturb",
                 "0.95,1,1.05", "--hidden", "32", "--layers", "1", "--dropout", "0.1",
                 "--batch-size", "16", "--no-progress"])  # fmt: skip
    assert code == 0
    return {"root": root, "rec": rec, "words": root / "words", "strings": root / "strings"}


def test_train_writes_complete_model_directories(runs):
    for run in ("words", "strings"):
        for name in ("config.json", "run.json", "model.safetensors", "learning_curve.png"):
            assert (runs[run] / name).is_file()


def test_transcribe_prints_label_probability_and_file(runs, capsys):
    wavs = sorted(runs["rec"].glob("*_cy_*.wav"))[:8]
    assert main(["transcribe", str(runs["words"]), *map(str, wavs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(wavs)
    right = 0
    for line, wav in zip(lines, wavs, strict=True):
        label, prob, path = line.split("\t")
        assert path == str(wav) and 0.0 <= float(prob) <= 1.0
        right += label == wav.name.split("_")[0]
    assert right >= 6  # an unseen speaker; chance would be 2 of 8


def test_transcribe_hears_several_words_in_one_file(runs, tmp_path, capsys):
    rng = np.random.default_rng(7)
    gap = np.zeros(1200)
    said = ["2", "0", "3"]
    x = np.concatenate([gap, *(np.concatenate([tone_word(d, 2, rng), gap]) for d in said)])
    wav = write_wav(tmp_path / "three.wav", x, 8000)
    assert main(["transcribe", str(runs["strings"]), str(wav), "--beam", "4"]) == 0
    text, prob, _ = capsys.readouterr().out.strip().split("\t")
    assert text == "2 0 3" and 0.0 < float(prob) <= 1.0


def test_evaluate_prints_accuracy_and_writes_a_confusion_matrix(runs, capsys):
    code = main(["evaluate", str(runs["words"]), "--data", str(runs["rec"]), "--split", "test"])
    assert code == 0
    out = capsys.readouterr().out
    assert "(40 recordings): accuracy" in out  # speaker cy: 4 labels x indices 0-9
    png = runs["words"] / f"confusion_{runs['rec'].name}_test.png"
    assert png.read_bytes()[:8] == PNG


def test_evaluate_a_ctc_model_prints_error_rates_greedy_and_beam(runs, capsys):
    code = main(["evaluate", str(runs["strings"]), "--data", str(runs["rec"])])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "greedy" in out[0] and "prefix beam 8" in out[1]
    assert all("digit error rate" in line and "string accuracy" in line for line in out)


def test_inspect_speech_draws_the_recording(runs, tmp_path, capsys):
    wav = next(runs["rec"].glob("1_bob_*.wav"))
    for run in ("words", "strings"):
        out = tmp_path / f"{run}.png"
        assert main(["inspect", "speech", str(runs[run]), str(wav), "--out", str(out)]) == 0
        assert out.read_bytes()[:8] == PNG
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (lambda r, t: ["transcribe", str(r["words"]), str(t / "notes.wav")], "not a WAV"),
        (lambda r, t: ["transcribe", str(r["words"]), str(t / "missing.wav")], "no such file"),
        (lambda r, t: ["transcribe", str(r["words"]), str(t / "quiet.wav")], "silence"),
        (
            lambda r, t: ["evaluate", str(r["words"]), "--data", str(r["rec"]), "--split", "x"],
            "splits train, dev, test",
        ),
        (
            lambda r, t: ["train", "speech", "--data", str(t / "empty"), "--out", str(t / "o")],
            "no .wav",
        ),
        (
            lambda r, t: [
                "train",
                "speech",
                "--data",
                str(r["rec"]),
                "--test-speakers",
                "zed",
                "--out",
                str(t / "o"),
            ],
            "zed",
        ),
    ],
)
def test_user_errors_are_one_line(runs, tmp_path, capsys, argv, message):
    (tmp_path / "notes.wav").write_text("these are my notes, not a recording")
    write_wav(tmp_path / "quiet.wav", np.zeros(8000), 8000)
    (tmp_path / "empty").mkdir()
    assert main(argv(runs, tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rnnlab: error:") and len(err.splitlines()) == 1
    assert message in err, err
