"""rnnlab demo, rnnlab inspect gradient-flow|sensitivity|gates|summary, rnnlab bench
dependencies: in process through rnnlab.cli.main, tiny budgets; user errors exit 2 in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnnlab import saved
from rnnlab.cli import main
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.text import Vocab
from rnnlab.train import save_weights


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:4] == b"\x89PNG"


def test_demo_with_a_tiny_budget(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--steps", "20", "--lengths", "3", "--out",
                       str(tmp_path), "--no-progress")  # fmt: skip
    assert code == 0
    assert "1000010101 -> YES" in out and "at most 20 steps" in out
    assert "cell" in out and "L=3" in out
    for cell in ("rnn", "lstm", "gru"):
        assert f"{cell}: learned" in out
    assert "||dL/dh_t|| on strings of 100 bits" in out and "t=100" in out
    assert "clip_grad_norm_(1) scales every step" in out
    for name in ("accuracy_vs_length.png", "gradient_flow.png"):
        assert str(tmp_path / name) in out and is_png(tmp_path / name)


def test_inspect_gradient_flow(capsys, tmp_path):
    png = tmp_path / "flow.png"
    code, out, _ = run(capsys, "inspect", "gradient-flow", "--length", "30", "--hidden", "8",
                       "--batch-size", "4", "--out", str(png))  # fmt: skip
    assert code == 0 and is_png(png)
    lines = out.splitlines()
    assert lines[1].split() == ["t=1", "t=3", "t=15", "t=30"]
    assert [line.split()[0] for line in lines[2:5]] == ["rnn", "lstm", "gru"]
    found = re.search(r"large init: (\S+), after clip_grad_norm_\(1\): (\S+)", out)
    before, after = float(found[1]), float(found[2])
    assert after == pytest.approx(min(before, 1.0), rel=1e-5)


def test_inspect_sensitivity(capsys, tmp_path):
    png = tmp_path / "sens.png"
    code, out, _ = run(capsys, "inspect", "sensitivity", "--length", "12", "--hidden", "6",
                       "--cells", "rnn,lstm", "--out", str(png))  # fmt: skip
    assert code == 0 and is_png(png)
    assert [line.split()[0] for line in out.splitlines()[2:4]] == ["rnn", "lstm"]


def test_inspect_gates_of_a_parity_model(capsys, tmp_path):
    png = tmp_path / "gates.png"
    code, out, _ = run(capsys, "inspect", "gates", "10010", "--cell", "gru", "--out", str(png))
    assert code == 0 and is_png(png)
    lines = out.splitlines()
    assert lines[0].startswith("trained a gru on parity")
    assert lines[1].split()[:3] == ["token", "reset", "update"]
    assert [line.split()[0] for line in lines[2:7]] == list("10010")


def test_inspect_gates_and_summary_of_a_saved_model(capsys, tmp_path):
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "a", "witty", "movie"])
    config = ClassifierConfig(vocab_size=len(vocab), num_classes=2, embed_dim=4, hidden_size=3)
    model = TextClassifier(config, vocab, ["neg", "pos"])
    saved.save_config(model, tmp_path / "m")
    save_weights(model, tmp_path / "m" / "model.safetensors")
    png = tmp_path / "g.png"
    code, out, _ = run(capsys, "inspect", "gates", "a witty movie", "--model",
                       str(tmp_path / "m"), "--out", str(png))  # fmt: skip
    assert code == 0 and is_png(png)
    assert out.splitlines()[0].split()[:4] == ["token", "input", "forget", "output"]
    assert [line.split()[0] for line in out.splitlines()[1:4]] == ["a", "witty", "movie"]
    code, out, _ = run(capsys, "inspect", "summary", "--model", str(tmp_path / "m"),
                       "--max-len", "7")  # fmt: skip
    assert code == 0 and "(1, 7, 4)" in out
    assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in out


def test_inspect_summary_lecture_example(capsys):
    code, out, _ = run(capsys, "inspect", "summary")
    assert code == 0
    assert "(1, 600, 32)" in out and "320,000" in out and "53,600" in out and "53,200" in out
    assert "Total params: 373,701" in out
    code, out, _ = run(capsys, "inspect", "summary", "--cell", "gru", "--bidirectional",
                       "--max-len", "5")  # fmt: skip
    assert code == 0 and "layer 0 (each direction)" in out


def test_bench_dependencies_tiny(capsys, tmp_path):
    png = tmp_path / "b.png"
    argv = [
        "--cells",
        "lstm",
        "--lengths",
        "4,6",
        "--steps",
        "3",
        "--no-progress",
        "--out",
        str(png),
    ]
    code, out, _ = run(capsys, "bench", "dependencies", "--task", "adding", *argv)
    assert code == 0 and is_png(png)
    assert "adding:" in out and "L=4" in out and "L=6" in out
    assert "within 0.04" in out and f"wrote {png}" in out


@pytest.mark.parametrize(
    "argv,match",
    [
        (["inspect", "gates", "10a1"], "must be a bit string"),
        (["inspect", "gates", "a b", "--model", "/nonexistent/model"], "nonexistent"),
        (["inspect", "gates", "1010", "--cell", "gru", "--layer", "3"], "does not exist"),
        (["inspect", "gradient-flow", "--gain", "-1", "--length", "5"], "gain must be positive"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(capsys, tmp_path, argv, match):
    code, out, err = run(capsys, *argv, "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert err.startswith("rnnlab: error:") and match in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv,match",
    [
        (["bench", "dependencies", "--lengths", "0,5"], "positive integers"),
        (["bench", "dependencies", "--cells", "rnn,tcn"], "cells are rnn, lstm, gru"),
        (["demo", "--lengths", "five"], "comma-separated integers"),
    ],
)
def test_bad_lists_are_argparse_errors(capsys, argv, match):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,defaults",
    [
        (["demo"], ["(default: 1000)", "5,10,20,50)", "(default: runs/demo)"]),
        (["bench", "dependencies"], ["(default: rnn,lstm,gru)", "10,20,50,100,200)",
                                     "(default: parity)"]),
        (["inspect", "gradient-flow"], ["(default: 3.0)", "(default: 100)"]),
        (["inspect", "summary"], ["(default: 600)", "(default: 10000)"]),
    ],
)  # fmt: skip
def test_help_shows_defaults(capsys, argv, defaults):
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    out = capsys.readouterr().out
    for default in defaults:  # lists may wrap after "(default:"
        assert default in out, default
