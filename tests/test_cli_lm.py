"""The language-model side of the rnnlab command, in process through rnnlab.cli.main: train lm,
sample, score, evaluate on a language model, and user errors as one line with exit code 2."""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path

import pytest

import rnnlab
from rnnlab import saved
from rnnlab.cli import main
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.models.language_model import LanguageModel
from rnnlab.models.truncated_bptt import StreamLM
from rnnlab.text import Vocab
from rnnlab.train import save_weights

GRAMMAR = [["the"], ["cat", "dog"], ["sat", "ran"], ["on", "to"], ["the"], ["mat", "park"]]
TRAIN = ["--hidden", "32", "--layers", "1", "--lr", "0.01", "--seed", "0", "--no-progress"]


def run(argv: list) -> tuple[int, str, str]:
    """main(argv) with stdout and stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli_lm")
    r = random.Random(0)
    lines = [" ".join(r.choice(slot) for slot in GRAMMAR) for _ in range(300)]
    paths = {
        "grammar": root / "grammar.txt",
        "test": root / "test.txt",
        "hello": root / "hello.txt",
        "texts": root / "texts.txt",
        "split_dir": root / "corpus",
    }
    paths["grammar"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["test"].write_text("the cat sat on the mat\nthe dog ran to the park\n")
    paths["hello"].write_text("hello world. " * 40, encoding="utf-8")
    paths["texts"].write_text("the dog sat on the park\n\nmat the\n", encoding="utf-8")
    paths["split_dir"].mkdir()
    (paths["split_dir"] / "train.txt").write_text("\n".join(lines[:250]) + "\n")
    (paths["split_dir"] / "valid.txt").write_text("\n".join(lines[250:]) + "\n")
    return paths


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """Model directories trained through the CLI, with what training printed."""
    root = tmp_path_factory.mktemp("cli_lm_runs")
    runs = {
        "words": ["--data", files["grammar"], "--epochs", "6", "--batch-size", "8"],
        "chars": ["--data", files["grammar"], "--level", "char", "--epochs", "3"],
        "no_newline": [
            "--data",
            files["hello"],
            "--level",
            "char",
            "--epochs",
            "2",
            "--bptt",
            "10",
            "--batch-size",
            "4",
        ],  # fmt: skip
    }
    out = {}
    for name, args in runs.items():
        code, stdout, stderr = run(["train", "lm", *args, *TRAIN, "--out", root / name])
        assert code == 0, stderr
        out[name] = (root / name, stdout)
    return out


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory) -> Path:
    vocab = Vocab.build([["a", "b"]])
    model = TextClassifier(ClassifierConfig(len(vocab), 2, embed_dim=4, hidden_size=4), vocab,
                           ["neg", "pos"])  # fmt: skip
    out = tmp_path_factory.mktemp("classifier")
    saved.save_config(model, out)
    save_weights(model, out / "model.safetensors")
    return out


# --- train lm ---------------------------------------------------------------------------------


def test_train_lm_writes_a_model_directory(trained):
    out, stdout = trained["words"]
    for name in ("config.json", "vocab.json", "model.safetensors", "metrics.jsonl",
                 "scores.json", "learning_curve.png"):  # fmt: skip
        assert (out / name).is_file(), name
    assert stdout.startswith("dev: ") and "nats/word" in stdout and "perplexity" in stdout
    model = rnnlab.load(out)
    assert isinstance(model, LanguageModel) and model.level == "word"
    assert model.config.hidden_size == model.config.embed_dim == 32  # --embed defaults to it
    assert json.loads((out / "config.json").read_text())["task"] == "lm"
    dev_ppl = json.loads((out / "scores.json").read_text())["dev"]["perplexity"]
    # the grammar's best is 16 ** (1/7) = 1.49; 10 seeds x 1 thread, 3 x 2 threads: 1.492-1.524,
    # so the threshold 2.0 leaves >= 0.476
    assert dev_ppl < 2.0
    assert "nats/char" in trained["chars"][1]


def test_train_options_reach_the_model(files, tmp_path):
    args = ["train", "lm", "--data", files["hello"], "--level", "char", "--cell", "gru",
            "--layers", "2", "--hidden", "12", "--embed", "12", "--tie", "--dropout", "0.1",
            "--mode", "sentence", "--epochs", "1", "--no-progress", "--out", tmp_path]  # fmt: skip
    assert run(args)[0] == 0
    model = rnnlab.load(tmp_path)
    c = model.config
    assert (c.cell, c.num_layers, c.hidden_size, c.tie_weights, c.dropout) == (
        "gru",
        2,
        12,
        True,
        0.1,
    )
    assert model.out.weight is model.embedding.weight
    assert (model.text_format.start, model.text_format.end) == ("<bos>", "<eos>")


def test_adaptive_softmax_and_variational_dropout_reach_the_saved_model(files, tmp_path):
    args = ["train", "lm", "--data", files["grammar"], "--hidden", "16", "--layers", "2",
            "--adaptive-softmax", "6,9", "--variational-dropout", "--dropout", "0.2",
            "--epochs", "1", "--no-progress", "--out", tmp_path]  # fmt: skip
    assert run(args)[0] == 0
    model = rnnlab.load(tmp_path)
    assert model.config.adaptive_cutoffs == (6, 9) and model.config.variational_dropout
    assert model.rnn.variational_dropout
    code, stdout, _ = run(["score", tmp_path, "the cat sat on the mat"])
    assert code == 0 and "the cat sat on the mat" in stdout


def test_precision_bf16_reaches_the_trainer(files, tmp_path):
    args = ["train", "lm", "--data", files["grammar"], "--precision", "bf16", "--epochs", "1",
            *TRAIN, "--out", tmp_path]  # fmt: skip
    code, stdout, stderr = run(args)
    assert code == 0, stderr
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["config"]["precision"] == "bf16"
    assert isinstance(rnnlab.load(tmp_path), LanguageModel)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_, contextlib.redirect_stderr(err):
        main(["train", "lm", "--data", str(files["grammar"]), "--precision", "fp16"])
    assert exit_.value.code == 2 and "'fp16'" in err.getvalue()


def test_ctrl_c_exits_130_and_resume_finishes(files, tmp_path, monkeypatch):
    args = ["train", "lm", "--data", files["hello"], "--level", "char", "--epochs", "2",
            "--bptt", "10", "--batch-size", "4", *TRAIN, "--out", tmp_path]  # fmt: skip
    calls = []

    def interrupted(self, batch):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return original(self, batch)

    original = StreamLM.loss
    with monkeypatch.context() as mp:
        mp.setattr(StreamLM, "loss", interrupted)
        code, _, err = run(args)
    assert code == 130 and "--resume" in err
    code, out, err = run([*args, "--resume"])
    assert code == 0, err
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "lm", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for default in ("(default: stream)", "(default: 256)", "(default: 2)", "(default: 0.002)",
                    "(default: lstm)", "(default: runs/lm)", "(default: 0.1)"):  # fmt: skip
        assert default in out, default
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "sample" in out and "score" in out and "evaluate" in out


# --- sample, score, evaluate ------------------------------------------------------------------


def test_sample_is_reproducible_with_a_seed(trained):
    out = trained["chars"][0]
    argv = ["sample", out, "--prompt", "the ", "--max-tokens", "30", "--seed", "1"]
    code, first, err = run(argv)
    assert code == 0, err
    assert first.startswith("the ") and len(first.rstrip("\n")) <= 34
    assert run(argv)[1] == first
    code, three, _ = run([*argv, "--num", "3", "--temperature", "0.8", "--top-k", "5"])
    assert code == 0 and len(three.splitlines()) >= 3


def test_greedy_word_samples_follow_the_grammar(trained):
    code, out, err = run(["sample", trained["words"][0], "--temperature", "0"])
    assert code == 0, err
    words = out.split()
    assert len(words) == 6 and all(w in slot for w, slot in zip(words, GRAMMAR, strict=True))
    code, out, _ = run(["sample", trained["words"][0], "--prompt", "the dog", "--temperature", "0"])
    assert out.startswith("the dog ") and len(out.split()) == 6


def test_score_shows_log_prob_probability_and_perplexity(trained, files):
    code, out, err = run(["score", trained["words"][0], "the cat sat on the mat",
                          "mat the on sat cat the", "--file", files["texts"]])  # fmt: skip
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split() == ["log-prob", "probability", "ppl/token", "tokens", "text"]
    assert len(rows) == 4  # two arguments, two non-blank lines of the file
    good, bad = (row.split() for row in rows[:2])
    # 10 seeds x 1 thread, 3 x 2 threads: 29.6-36.1 nats apart
    assert float(good[0]) > float(bad[0]) and float(good[1]) > float(bad[1])
    assert good[3] == "7" and " ".join(good[4:]) == "the cat sat on the mat"
    model = rnnlab.load(trained["words"][0])
    s = model.score(["the cat sat on the mat"])[0]
    assert float(good[0]) == pytest.approx(s.log_prob, abs=1e-3)
    assert float(good[2]) == pytest.approx(s.perplexity, abs=1e-2)


def test_evaluate_a_language_model_on_a_file_and_a_folder(trained, files):
    code, out, err = run(["evaluate", trained["words"][0], "--data", files["test"]])
    assert code == 0, err
    assert out.startswith(f"{files['test']} (14 tokens): ") and "perplexity" in out
    model = rnnlab.load(trained["words"][0])
    from rnnlab.data.language_modeling import read_corpus_file
    from rnnlab.tasks.language_model import evaluate_lm

    ppl = evaluate_lm(model, read_corpus_file(files["test"], "word"))["perplexity"]
    assert f"perplexity {ppl:.2f}" in out
    code, out, err = run(["evaluate", trained["chars"][0], "--data", files["split_dir"],
                          "--split", "dev"])  # fmt: skip
    assert code == 0, err
    assert "valid.txt" in out and "characters" in out and "nats/char" in out


@pytest.mark.data
def test_evaluate_on_a_registered_corpus(trained, data_root, tmp_path):
    code, out, err = run(["evaluate", trained["words"][0], "--data", "ptb", "--split", "nope"])
    assert code == 2 and "ptb has splits ['train', 'dev', 'test'], not 'nope'" in err


# --- user errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["sample", "{classifier}"], ["a text classifier, not a language model", "rnnlab predict"]),
        (["score", "{classifier}", "x"], ["holds a text classifier", "use rnnlab predict"]),
        (["predict", "{words}", "x"], ["a language model, not a text classifier", "rnnlab sample"]),
        (
            ["sample", "{chars}", "--prompt", "ROMEO:"],
            ["outside the model's vocabulary", "':EMOR'"],
        ),
        (["sample", "{no_newline}"], ["empty prompt", "<bos>"]),
        (["sample", "{words}", "--max-tokens", "-1"], ["max_tokens"]),
        (["score", "{words}"], ["nothing to score"]),
        (["score", "{words}", "--file", "{tmp}/none.txt"], ["cannot read", "none.txt"]),
        (["score", "{chars}", ""], ["empty text"]),
        (["evaluate", "{words}", "--data", "{tmp}/none.txt"], ["none.txt", "neither a known"]),
        (
            ["evaluate", "{words}", "--data", "sst2"],
            ["'sst2' is neither a known corpus (imdb, ptb"],
        ),
        (["evaluate", "{words}", "--data", "{split_dir}"], ["has no test file"]),
        (["sample", "{tmp}/no_model"], ["no saved model"]),
        (["train", "lm", "--data", "{tmp}/none.txt"], ["neither a known corpus", "ptb"]),
        (["train", "lm", "--data", "{hello}", "--tie", "--embed", "8"], ["tie_weights needs"]),
        (
            ["train", "lm", "--data", "{hello}", "--level", "char", "--resume", "--out", "{tmp}"],
            ["nothing to resume"],
        ),
        (["train", "lm", "--data", "{hello}", "--bptt", "0"], ["bptt must be a positive int"]),
    ],
)
def test_user_errors(argv, fragments, trained, files, classifier_dir, tmp_path):
    names = {k: v[0] for k, v in trained.items()}
    names.update(classifier=classifier_dir, tmp=tmp_path, **files)
    code, out, err = run([a.format(**names) for a in argv])
    assert code == 2
    assert err.startswith("rnnlab: error: ") and len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_anneal_to_max_minutes_and_warmup_reach_the_trainer(files, tmp_path):
    args = ["train", "lm", "--data", files["grammar"], "--epochs", "1", *TRAIN]
    code, _, stderr = run([*args, "--max-minutes", "5", "--anneal-to", "0.05", "--warmup", "3",
                           "--out", tmp_path / "a"])  # fmt: skip
    assert code == 0, stderr
    config = json.loads((tmp_path / "a" / "checkpoint" / "state.json").read_text())["config"]
    assert (config["max_minutes"], config["anneal_to"], config["warmup"]) == (5, 0.05, 3)
    assert config["schedule"] is None  # the budget's clock is read by the trainer (lr_at)
    code, _, stderr = run([*args, "--anneal-to", "0.05", "--out", tmp_path / "b"])
    assert code == 0, stderr
    config = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())["config"]
    assert config["anneal_to"] == 0.05 and config["max_minutes"] is None
    code, _, stderr = run([*args, "--warmup", "3", "--out", tmp_path / "c"])
    assert code == 2 and "warmup is the start of the anneal_to schedule" in stderr
