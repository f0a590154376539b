"""One time budget for every task: TrainConfig.max_minutes stops train_classifier, train_lm,
train_tagger and train_translate alike inside an epoch, each keeps a model that loads, says so
(result.budget_spent) and resumes to the end; the language model anneals on the budget's clock;
the CLI's --max-minutes works for every `rnnlab train TASK`.

The budget's clock is the fake one (conftest.fake_clock: one second per reading)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

import rnnlab
from rnnlab.cli import main
from rnnlab.models.classifier import ClassifierConfig
from rnnlab.models.language_model import LMConfig
from rnnlab.models.seq2seq import Seq2SeqConfig
from rnnlab.models.tagger import TaggerConfig
from rnnlab.tasks.classify import ClassifyJob, train_classifier
from rnnlab.tasks.language_model import LMJob, train_lm
from rnnlab.tasks.tag import TagJob, train_tagger
from rnnlab.tasks.translate import TranslateJob, train_translate
from rnnlab.train import TrainConfig

WORDS = "ein hund katze rennt springt über das gras rot blau".split()


def write_data(root: Path) -> dict[str, Path]:
    """Small generated files for every task: texts with labels, tagged tokens, pairs, a text."""
    r = random.Random(0)
    sentences = [[r.choice(WORDS) for _ in range(r.randint(2, 6))] for _ in range(200)]
    files = {"classify": root / "texts.tsv", "tag": root / "tags.tsv", "lm": root / "text.txt",
             "src": root / "pairs.src", "tgt": root / "pairs.tgt"}  # fmt: skip
    files["classify"].write_text(
        "".join(f"{' '.join(s)}\t{'pos' if 'hund' in s else 'neg'}\n" for s in sentences),
        encoding="utf-8",
    )
    files["tag"].write_text(
        "\n".join("".join(f"{w}\t{'B-X' if w == 'hund' else 'O'}\n" for w in s)
                  for s in sentences),
        encoding="utf-8",
    )  # fmt: skip
    files["lm"].write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    files["src"].write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    files["tgt"].write_text("".join(" ".join(s[::-1]) + "\n" for s in sentences), "utf-8")
    return files


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return write_data(tmp_path_factory.mktemp("budget_data"))


def make_job(task: str, files: dict[str, Path], out: Path, train: TrainConfig):
    """A tiny job of ``task`` (batches of 8: about 20 steps per epoch)."""
    if task == "classify":
        model = ClassifierConfig(1, 2, embed_dim=8, hidden_size=8)
        return ClassifyJob(data=str(files["classify"]), out=str(out), batch_size=8, model=model,
                           train=replace(train, monitor="accuracy", mode="max"))  # fmt: skip
    if task == "tag":
        model = TaggerConfig(vocab_size=1, num_tags=1, embed_dim=8, hidden_size=8)
        return TagJob(data=str(files["tag"]), out=str(out), batch_size=8, model=model,
                      train=replace(train, monitor="f1", mode="max"))  # fmt: skip
    if task == "lm":
        model = LMConfig(1, embed_dim=8, hidden_size=8, num_layers=1)
        return LMJob(data=str(files["lm"]), out=str(out), batch_size=4, bptt=10, model=model,
                     train=train)  # fmt: skip
    model = Seq2SeqConfig(1, 1, cell="gru", attention="general", embed_dim=8, hidden_size=8)
    return TranslateJob(data=None, src_lang="xx", tgt_lang="yy", src_file=str(files["src"]),
                        tgt_file=str(files["tgt"]), out=str(out), min_freq=1, batch_size=8,
                        beam=1, eval_splits=("dev",), model=model, train=train)  # fmt: skip


TRAIN = {"classify": train_classifier, "tag": train_tagger, "lm": train_lm,
         "translate": train_translate}  # fmt: skip


@pytest.mark.parametrize("task", sorted(TRAIN))
def test_every_task_stops_on_its_budget_keeps_a_model_and_resumes(task, files, tmp_path,
                                                                  fake_clock):  # fmt: skip
    out = tmp_path / task
    budget = TrainConfig(epochs=3, lr=0.01, progress=False, max_minutes=0.5)  # 30 fake seconds
    result = TRAIN[task](make_job(task, files, out, budget))
    assert result.budget_spent and len(result.history) < 3
    state = json.loads((out / "checkpoint" / "state.json").read_text())["state"]
    assert state["epoch"] < 3 and state["step_in_epoch"] > 0  # stopped inside an epoch
    assert rnnlab.load(out) is not None  # the kept weights make a complete model directory
    assert (out / "scores.json").is_file()
    resumed = TRAIN[task](
        replace(make_job(task, files, out, replace(budget, max_minutes=None)), resume=True)
    )
    assert not resumed.budget_spent and len(resumed.history) == 3


def test_the_language_model_anneals_over_its_budget(files, tmp_path, fake_clock):
    train = TrainConfig(epochs=50, lr=0.01, anneal_to=0.05, warmup=2, max_minutes=100 / 60,
                        progress=False)  # fmt: skip
    result = train_lm(make_job("lm", files, tmp_path / "run", train))
    assert result.budget_spent and 1 <= len(result.history) < 50
    rates = [r["lr"] for r in result.history]  # the rate of each epoch's last step
    assert rates == sorted(rates, reverse=True) and len(set(rates)) == len(rates)
    assert 0.01 * 0.05 <= rates[-1] < rates[0] < 0.01
    # the 50 epochs' steps alone would have annealed far less by now
    steps = result.history[-1]["step"]
    assert rates[-1] < train.lr_at(steps - 1, steps_per_epoch=steps // len(rates)) - 1e-4
    config = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["config"]
    assert (config["anneal_to"], config["max_minutes"], config["warmup"]) == (0.05, 100 / 60, 2)


@pytest.mark.parametrize("task", ["classify", "tag", "lm", "translate"])
def test_max_minutes_on_every_train_command(task, files, tmp_path, fake_clock, capsys):
    data = {"classify": ["--data", files["classify"]], "tag": ["--data", files["tag"]],
            "lm": ["--data", files["lm"], "--bptt", "10"],
            "translate": ["--src-file", files["src"], "--tgt-file", files["tgt"], "--min-freq",
                          "1", "--beam", "1"]}[task]  # fmt: skip
    argv = ["train", task, *data, "--hidden", "8", "--epochs", "3", "--batch-size", "4",
            "--max-minutes", "0.5", "--no-progress", "--out", tmp_path / "run"]  # fmt: skip
    assert main([str(a) for a in argv]) == 0
    out = capsys.readouterr().out
    assert "the 0.5-minute budget is spent after" in out and "--resume" in out
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["config"]["max_minutes"] == 0.5
