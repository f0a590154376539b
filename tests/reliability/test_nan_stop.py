"""A NaN or infinite loss stops training with one line naming the step (exit code 2 from the
CLI), writes nothing, and leaves the last good checkpoint to resume from: through the shared
trainer (every task but embeddings uses it; checked here through ``rnnlab train classify``, and
at the unit level for weights that go non-finite on a finite loss) and word2vec's own loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn.sgns
from embedding_files import planted_corpus
from order_task import order_task
from rnnlab.cli import main
from rnnlab.errors import DivergedError
from rnnlab.models.classifier import TextClassifier
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.weights import read_tensors
from run_files import current_weights

STEPS = 5  # per epoch: 72 training texts (80 less a 10% dev) in batches of 16


@pytest.fixture(scope="module")
def classify_argv(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("nan_classify")
    data = root / "train.tsv"
    data.write_text("".join(f"{t}\t{y}\n" for t, y in order_task(80, seed=3)), encoding="utf-8")
    return ["train", "classify", "--data", str(data), "--embed", "8", "--hidden", "8",
            "--batch-size", "16", "--epochs", "3", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def reference(classify_argv, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nan_reference") / "run"
    assert main([*classify_argv, "--out", str(out)]) == 0
    return out


def _files(out: Path) -> dict[str, bytes]:
    """Every file of the checkpoint folder and the saved weights, by name."""
    paths = [*(out / "checkpoint").iterdir(), out / "model.safetensors"]
    return {p.name: p.read_bytes() for p in paths}


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_checkpoint(
    bad, classify_argv, reference, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    assert main([*classify_argv, "--epochs", "1", "--out", str(out)]) == 0
    before = _files(out)
    capsys.readouterr()
    calls, original = [], TextClassifier.loss

    def loss(self, batch):  # step 3 of epoch 2 goes wrong
        calls.append(1)
        value = original(self, batch)
        return value * bad if len(calls) == 3 else value

    with monkeypatch.context() as mp:
        mp.setattr(TextClassifier, "loss", loss)
        code = main([*classify_argv, "--out", str(out), "--resume"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"the loss is {bad} at epoch 2, step 3 (global step {STEPS + 3})" in err
    assert f"its last checkpoint, in {out / 'checkpoint'}, is kept" in err and "--lr" in err
    assert _files(out) == before  # nothing written: the epoch-1 checkpoint and weights stay
    # and that checkpoint resumes to the uninterrupted run's weights
    assert main([*classify_argv, "--out", str(out), "--resume"]) == 0
    ref = current_weights(reference)
    assert all(torch.equal(v, ref[k]) for k, v in current_weights(out).items())


class NanUpdate(nn.Module):
    """A linear classifier whose last training step of epoch 2 writes NaN into its weights
    after a finite loss (as an overflowing update would)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.linear, self.steps, self.calls = nn.Linear(4, 2), steps, 0

    def loss(self, batch) -> torch.Tensor:
        x, y = batch
        self.calls += 1
        if self.calls == 2 * self.steps:
            self.linear.weight.register_hook(lambda g: torch.full_like(g, float("nan")))
        return F.cross_entropy(self.linear(x), y)

    def evaluate(self, loader) -> dict[str, float]:
        return {"loss": float(sum(F.cross_entropy(self.linear(x), y) for x, y in loader))}


def test_weights_gone_non_finite_on_a_finite_loss_are_never_saved(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g)
    batches = [(x[i : i + 8], (x[i : i + 8, 0] > 0).long()) for i in range(0, 32, 8)]
    seed_everything(0)
    model = NanUpdate(steps=len(batches))
    config = TrainConfig(epochs=3, lr=0.1, clip_norm=None, progress=False)
    trainer = Trainer(model, config, tmp_path)
    with pytest.raises(DivergedError, match="after epoch 2 .* linear.weight hold NaN"):
        trainer.fit(batches, batches)
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())["state"]
    assert state["epoch"] == 1
    for path in (tmp_path / "model.safetensors", *(tmp_path / "checkpoint").glob("model-*")):
        assert all(torch.isfinite(t).all() for t in read_tensors(path).values()), path


def test_a_non_finite_word2vec_loss_stops_with_the_epoch_checkpoint_kept(
    tmp_path, monkeypatch, capsys
):
    corpus = planted_corpus(tmp_path / "c.txt", sentences=200)
    argv = ["train", "embeddings", "--data", str(corpus), "--tokenizer", "whitespace", "--dim",
            "8", "--min-count", "1", "--engine", "torch", "--threads", "1", "--epochs", "2",
            "--no-progress", "--out"]  # fmt: skip
    assert main([*argv, str(tmp_path / "reference")]) == 0
    out = tmp_path / "run"
    train_chunk, calls = rnnlab.nn.sgns.train_chunk, []

    def diverging(*args, **kwargs):  # the first chunk of epoch 2
        loss, updates = train_chunk(*args, **kwargs)
        calls.append(1)
        return (float("nan") if len(calls) == 2 else loss), updates

    with monkeypatch.context() as mp:
        mp.setattr(rnnlab.nn.sgns, "train_chunk", diverging)
        capsys.readouterr()
        assert main([*argv, str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the loss is nan in epoch 2, chunk 1 of 1" in err, err
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["state"]["epoch"] == 1
    assert main([*argv, str(out), "--resume"]) == 0  # from the epoch-1 checkpoint
    ref = read_tensors(tmp_path / "reference" / "model.safetensors")
    assert all(torch.equal(v, ref[k]) for k, v in read_tensors(out / "model.safetensors").items())
