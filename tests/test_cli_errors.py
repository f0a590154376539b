"""The rnnlab command tells the user's errors from its own bugs: a user error is one line and exit
code 2 (``-v`` adds its traceback), a bug shows its traceback (exit code 1). Also: a command given
the wrong kind of model names what it holds and the command to use, ``--device cuda`` without
CUDA is a user error, ``rnnlab evaluate --help`` lists every kind of model it takes, and the
translator's length normalisation has one default everywhere."""

from __future__ import annotations

import contextlib
import inspect
import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnlab import saved
from rnnlab.cli import main
from rnnlab.cli.common import TASKS
from rnnlab.errors import InputError
from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier, TextClassifier
from rnnlab.models.language_model import LanguageModel, LMConfig
from rnnlab.models.seq2seq import DEFAULT_ALPHA, Seq2Seq, Seq2SeqConfig
from rnnlab.models.tagger import SequenceTagger, TaggerConfig
from rnnlab.text import Vocab
from rnnlab.train import TrainConfig, save_weights


def run(argv: list) -> tuple[int, str, str]:
    """main(argv) with stdout and stderr captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_user_error(code: int, stderr: str, *fragments: str) -> None:
    assert code == 2, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith("rnnlab: error: "), stderr
    for fragment in fragments:
        assert fragment in stderr, (fragment, stderr)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """An untrained saved model of every task, by task name."""
    root = tmp_path_factory.mktemp("kinds")
    words = Vocab.build([["a", "b", "c"]])
    V = len(words)
    torch.manual_seed(0)
    made = {
        "classify": TextClassifier(ClassifierConfig(V, 2, embed_dim=4, hidden_size=4), words,
                                   ["neg", "pos"]),
        "lm": LanguageModel(LMConfig(V, embed_dim=4, hidden_size=4, num_layers=1), words),
        "tag": SequenceTagger(TaggerConfig(V, 3, embed_dim=4, hidden_size=4), words,
                              ["O", "B-X", "I-X"], scheme="IOB2"),
        "translate": Seq2Seq(Seq2SeqConfig(V, V, embed_dim=4, hidden_size=4), words, words,
                             ("xx", "yy")),
    }  # fmt: skip
    for task, model in made.items():
        saved.save_config(model, root / task)
        save_weights(model, root / task / saved.WEIGHTS)
    return {task: root / task for task in made}


@pytest.fixture
def tsv(tmp_path) -> Path:
    path = tmp_path / "train.tsv"
    path.write_text("".join(f"{w} film\t{w}\n" for w in ["good", "bad"] * 20), encoding="utf-8")
    return path


# ---- a bug is not the user's error -------------------------------------------------------------


def test_a_value_error_of_a_bug_propagates_with_its_traceback(models, monkeypatch):
    def bug(self, texts, batch_size=256):
        raise ValueError("an internal bug")

    monkeypatch.setattr(TextClassifier, "predict", bug)
    with pytest.raises(ValueError, match="an internal bug"):
        main(["predict", str(models["classify"]), "a b"])


def test_a_value_error_deep_inside_training_is_a_bug(tsv, tmp_path, monkeypatch):
    def bug(self, batch):
        raise ValueError("a shape went wrong")

    monkeypatch.setattr(SequenceClassifier, "loss", bug)
    with pytest.raises(ValueError, match="a shape went wrong"):
        main(["train", "classify", "--data", str(tsv), "--out", str(tmp_path / "run"),
              "--epochs", "1", "--no-progress"])  # fmt: skip


def test_a_runtime_error_propagates(models, monkeypatch):
    def bug(self, texts, batch_size=64):
        raise RuntimeError("CUDA kernel failed")

    monkeypatch.setattr(SequenceTagger, "tag", bug)
    with pytest.raises(RuntimeError, match="CUDA kernel failed"):
        main(["tag", str(models["tag"]), "a b"])


def test_the_command_shows_a_bugs_traceback_and_exits_1(models):
    code = (
        "import sys\n"
        "from rnnlab.models.classifier import TextClassifier\n"
        "def bug(*args, **kw):\n"
        "    raise ValueError('an internal bug')\n"
        "TextClassifier.predict = bug\n"
        "from rnnlab.cli import main\n"
        f"sys.exit(main(['predict', {str(models['classify'])!r}, 'a b']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.rstrip().endswith("ValueError: an internal bug")
    assert "rnnlab: error" not in proc.stderr


def test_verbose_shows_the_traceback_of_a_user_error(models):
    code, out, err = run(["-v", "predict", models["classify"], ""])
    assert code == 2 and out == ""
    assert "Traceback (most recent call last)" in err and "InputError" in err
    last = err.rstrip().splitlines()[-1]
    assert last.startswith("rnnlab: error: text 0 cannot be classified")
    code, _, err = run(["predict", models["classify"], ""])  # without -v: the line alone
    assert_user_error(code, err, "text 0 cannot be classified")


def test_a_bad_option_is_one_line_naming_it(tsv, tmp_path):
    code, _, err = run(["train", "classify", "--data", tsv, "--lr", "-1", "--out", tmp_path])
    assert_user_error(code, err, "lr must be a finite number > 0, got -1.0")


# ---- --device ----------------------------------------------------------------------------------


def test_device_cuda_without_cuda_is_one_line_before_the_data_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _, err = run(["train", "classify", "--data", "no_such_dataset", "--device", "cuda",
                        "--out", tmp_path])  # fmt: skip
    assert_user_error(code, err, "device 'cuda': this machine has no CUDA device", "'cpu'")
    assert "no_such_dataset" not in err  # the device was checked first


def test_resolved_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert TrainConfig(device="auto").resolved_device() == torch.device("cpu")
    assert TrainConfig(device="cpu").resolved_device() == torch.device("cpu")
    with pytest.raises(InputError, match="no CUDA device"):
        TrainConfig(device="cuda").resolved_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert TrainConfig(device="cuda:1").resolved_device() == torch.device("cuda:1")
    with pytest.raises(InputError, match=r"2 CUDA device\(s\), cuda:0 to cuda:1"):
        TrainConfig(device="cuda:2").resolved_device()


# ---- the wrong kind of model -------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, holds, expected, use",
    [
        (["predict", "{tag}", "a"], "a sequence tagger", "a text classifier", "rnnlab tag"),
        (["predict", "{translate}", "a"], "a translator", "a text classifier", "rnnlab translate"),
        (["predict", "{lm}", "a"], "a language model", "a text classifier",
         "rnnlab sample or rnnlab score"),
        (["tag", "{classify}", "a"], "a text classifier", "a sequence tagger", "rnnlab predict"),
        (["tag", "{translate}", "a"], "a translator", "a sequence tagger", "rnnlab translate"),
        (["translate", "{tag}", "a"], "a sequence tagger", "a translator", "rnnlab tag"),
        (["translate", "{lm}", "a"], "a language model", "a translator", "rnnlab sample"),
        (["sample", "{tag}"], "a sequence tagger", "a language model", "rnnlab tag"),
        (["sample", "{translate}"], "a translator", "a language model", "rnnlab translate"),
        (["score", "{classify}", "a"], "a text classifier", "a language model", "rnnlab predict"),
        (["score", "{translate}", "a"], "a translator", "a language model", "rnnlab translate"),
    ],
)  # fmt: skip
def test_the_wrong_kind_of_model_names_its_kind_and_command(models, argv, holds, expected, use):
    argv = [a.format(**models) for a in argv]
    code, _, err = run(argv)
    task = next(t for t in TASKS.values() if t.kind == expected).name
    assert_user_error(code, err, f"{argv[1]} holds {holds}, not {expected}", f"use {use}",
                      f"rnnlab train {task}")  # fmt: skip


def test_evaluate_picks_the_evaluator_of_the_models_task(models, tmp_path):
    (tmp_path / "s.txt").write_text("a b\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("b a\n", encoding="utf-8")
    code, out, err = run(["evaluate", models["translate"], "--data",
                          f"{tmp_path / 's.txt'},{tmp_path / 't.txt'}"])  # fmt: skip
    assert code == 0, err
    assert "greedy: BLEU" in out
    code, out, err = run(["evaluate", models["lm"], "--data", tmp_path / "s.txt"])
    assert code == 0 and "perplexity" in out, err


@pytest.mark.parametrize("kind", ["classify", "lm", "tag", "translate"])
def test_evaluate_without_data_names_what_data_the_kind_takes(models, kind):
    code, _, err = run(["evaluate", models[kind]])
    assert_user_error(code, err, "rnnlab evaluate needs --data for", TASKS[kind].kind,
                      TASKS[kind].evaluate_data[:30])  # fmt: skip


# ---- rnnlab evaluate --help --------------------------------------------------------------------


def test_evaluate_help_lists_every_kind_of_model(capsys):
    assert set(TASKS) == set(saved.MODELS)  # the CLI knows every kind rnnlab.load restores
    assert all(cls.task == name for name, cls in saved.MODELS.items())
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for task in TASKS.values():
        assert f"{task.kind} (rnnlab train {task.name}): {task.evaluate_data}" in text
    for corpus in ("sst2", "ptb", "conll2003", "multi30k", "SRC_FILE,TGT_FILE"):
        assert corpus in text
    with pytest.raises(SystemExit):
        main(["--help"])
    summary = " ".join(capsys.readouterr().out.split())
    assert "text classifier, language model, sequence tagger, translator, speech model" in summary


# ---- the translator's length normalisation -----------------------------------------------------


def test_one_default_alpha_in_the_api_the_tasks_and_the_cli(models, tmp_path, monkeypatch, capsys):
    from rnnlab.tasks import translate as task

    assert inspect.signature(Seq2Seq.translate).parameters["alpha"].default == DEFAULT_ALPHA
    assert inspect.signature(task.evaluate_bleu).parameters["alpha"].default == DEFAULT_ALPHA
    assert task.TranslateJob().alpha == DEFAULT_ALPHA
    alphas = []
    original = Seq2Seq.translate

    def recording(self, texts, beam=1, max_len=None, alpha=DEFAULT_ALPHA, batch_size=64):
        alphas.append(alpha)
        return original(self, texts, beam, max_len, alpha, batch_size)

    monkeypatch.setattr(Seq2Seq, "translate", recording)
    assert run(["translate", models["translate"], "a b", "--beam", "2"])[0] == 0
    assert run(["translate", models["translate"], "a b", "--beam", "2", "--alpha", "0.5"])[0] == 0
    (tmp_path / "s.txt").write_text("a b\n", encoding="utf-8")
    pair = f"{tmp_path / 's.txt'},{tmp_path / 's.txt'}"
    assert run(["evaluate", models["translate"], "--data", pair])[0] == 0
    assert alphas == [DEFAULT_ALPHA, 0.5, DEFAULT_ALPHA, DEFAULT_ALPHA]  # evaluate: greedy, beam

    jobs = []

    def train(job):
        jobs.append(job)
        raise KeyboardInterrupt  # stop before any data is read

    monkeypatch.setattr(task, "train_translate", train)
    assert run(["train", "translate", "--out", tmp_path / "mt"])[0] == 130
    assert jobs[0].alpha == DEFAULT_ALPHA
    for argv in (["translate", "--help"], ["train", "translate", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert f"(default: {DEFAULT_ALPHA:g}," in " ".join(capsys.readouterr().out.split())
