"""rnnlab train caption, rnnlab caption and rnnlab evaluate on a captioner, through the real entry
point, on a small generated folder of shape images with a captions.txt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caption_files import write_folder
from rnnlab.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
TINY = ["--image-size", "16", "--channels", "8,16", "--embed", "16", "--hidden", "32",
        "--attn-size", "16", "--dropout", "0", "--min-freq", "1", "--batch-size", "8",
        "--lr", "0.01", "--monitor", "loss", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli_caption")
    folder = write_folder(root / "shapes", 40, size=16)
    out = root / "run"
    code = main(["train", "caption", "--data", str(folder), "--epochs", "5", "--beam", "3",
                 "--held-out", "0.2", "--seed", "1",
                 "--out", str(out), *TINY])  # fmt: skip
    assert code == 0
    return {"root": root, "folder": folder, "run": out}


def test_train_writes_the_model_directory_and_scores(run, capsys):
    for name in ("config.json", "vocab.json", "run.json", "model.safetensors", "scores.json",
                 "metrics.jsonl", "learning_curve.png"):  # fmt: skip
        assert (run["run"] / name).is_file(), name
    assert (run["run"] / "learning_curve.png").read_bytes()[:8] == PNG
    scores = json.loads((run["run"] / "scores.json").read_text())
    assert set(scores) == {"dev", "test"}
    assert set(scores["test"]) >= {"bleu1", "bleu2", "bleu3", "bleu4", "images"}
    config = json.loads((run["run"] / "config.json").read_text())
    assert config["task"] == "caption" and config["model"]["attention"] is True


def test_caption_prints_a_caption_and_draws_its_attention(run, capsys, tmp_path):
    image = run["folder"] / "shape_000.png"
    fig = tmp_path / "att.png"
    code = main(["caption", str(run["run"]), str(image), "--beam", "3",
                 "--show-attention", str(fig)])  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    caption = captured.out.strip()
    assert caption and "\n" not in caption and "<" not in caption
    assert fig.read_bytes()[:8] == PNG
    assert "attention of the first caption drawn to" in captured.err
    # several images: one "caption<TAB>file" line each
    other = run["folder"] / "shape_001.png"
    assert main(["caption", str(run["run"]), str(image), str(other), "--beam", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in lines] == [str(image), str(other)]


def test_evaluate_prints_bleu_1_to_4_on_the_images_the_run_held_out(run, capsys):
    assert main(["evaluate", str(run["run"]), "--data", str(run["folder"]), "--split",
                 "test"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith(f"{run['folder']} test (8 images, beam 3): BLEU-1 ")
    assert "2 references per image, lower-cased" in out
    # the same 8 images as the training run's own test score (its --held-out and --seed)
    test = json.loads((run["run"] / "scores.json").read_text())["test"]
    assert test["images"] == 8
    printed = out.split("BLEU-1 ")[1].split()[0]
    assert printed == f"{test['bleu1']:.3f}"
    assert f"BLEU-4 {test['bleu4']:.3f}" in out


def test_user_errors_end_in_one_line_with_exit_code_2(run, capsys, tmp_path):
    text = tmp_path / "note.jpg"
    text.write_text("not a picture", encoding="utf-8")
    assert main(["caption", str(run["run"]), str(text)]) == 2
    assert "note.jpg is not an image Pillow can read" in capsys.readouterr().err
    assert main(["caption", str(run["run"]), str(tmp_path / "absent.jpg")]) == 2
    assert "cannot read image" in capsys.readouterr().err
    assert main(["evaluate", str(run["run"]), "--data", "flickr9k"]) == 2
    assert "unknown captioning data 'flickr9k'" in capsys.readouterr().err
    assert main(["train", "caption", "--data", str(run["folder"]), "--channels", "8,x",
                 "--out", str(tmp_path / "r")]) == 2  # fmt: skip
    assert "--channels" in capsys.readouterr().err


def test_a_model_without_attention_resumes_and_has_no_attention_picture(run, capsys, tmp_path):
    out = tmp_path / "plain"
    assert main(["train", "caption", "--data", str(run["folder"]), "--no-attention", "--epochs",
                 "1", "--beam", "1", "--out", str(out), *TINY]) == 0  # fmt: skip
    # --resume goes on from the saved epoch
    argv = ["train", "caption", "--data", str(run["folder"]), "--no-attention", "--epochs", "2",
            "--beam", "1", "--out", str(out), *TINY]  # fmt: skip
    assert main([*argv, "--resume"]) == 0
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").open()]
    assert epochs == [1, 2]
    # a resume with another model is refused in one line
    assert main([*argv, "--hidden", "8", "--resume"]) == 2
    assert "resume" in capsys.readouterr().err
    image = run["folder"] / "shape_000.png"
    assert main(["caption", str(out), str(image), "--show-attention",
                 str(tmp_path / "x.png")]) == 2  # fmt: skip
    assert "no attention (trained with --no-attention)" in capsys.readouterr().err
