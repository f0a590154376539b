"""train_classifier writes a complete model directory, and a run stopped (after fewer epochs, or by
Ctrl-C mid-epoch) and resumed ends bit-for-bit where an uninterrupted run does."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import rnnlab
from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier, TextClassifier
from rnnlab.tasks.classify import ClassifyJob, train_classifier
from rnnlab.train import TrainConfig
from run_files import current_weights, records

EPOCHS = 3
STEPS = 12  # 360 training texts (400 less a seeded 10% dev) in batches of 32


def job(order_files, out: Path, epochs: int = EPOCHS, resume: bool = False) -> ClassifyJob:
    """An LSTM with dropout (so every generator matters) on the order task, dev held out."""
    return ClassifyJob(
        data=str(order_files[0]),
        out=str(out),
        model=ClassifierConfig(1, 2, embed_dim=8, hidden_size=8, dropout=0.3),
        train=TrainConfig(epochs=epochs, lr=0.01, monitor="loss", mode="min", progress=False),
        resume=resume,
    )


@pytest.fixture(scope="module")
def reference(order_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    result = train_classifier(job(order_files, out))
    return out, result


def assert_same_run(out: Path, result, reference) -> None:
    ref_out, ref = reference
    assert (out / "model.safetensors").read_bytes() == (ref_out / "model.safetensors").read_bytes()
    ref_current = current_weights(ref_out)
    for k, v in current_weights(out).items():
        assert torch.equal(v, ref_current[k]), f"{k} of the last epoch differs"
    ref_state = ref.model.state_dict()
    for k, v in result.model.state_dict().items():
        assert torch.equal(v, ref_state[k]), f"{k} of the returned model differs"
    assert records(out) == records(ref_out)
    assert [{k: v for k, v in r.items() if k != "time"} for r in result.history] == records(out)
    assert result.scores == ref.scores
    assert json.loads((out / "scores.json").read_text()) == ref.scores


def test_the_model_directory_is_complete(reference):
    out, result = reference
    for name in ("config.json", "vocab.json", "model.safetensors", "metrics.jsonl", "scores.json"):
        assert (out / name).is_file(), f"{name} is missing"
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(records(out)) == EPOCHS == len(result.history)
    assert [r["step"] for r in records(out)] == [STEPS * (e + 1) for e in range(EPOCHS)]
    scores = json.loads((out / "scores.json").read_text())
    assert set(scores) == {"dev"} and set(scores["dev"]) == {"loss", "accuracy"}
    best = min(result.history, key=lambda r: r["dev_loss"])
    assert scores["dev"]["loss"] == pytest.approx(best["dev_loss"], rel=1e-6)


def test_the_saved_directory_is_the_returned_model(reference, order_files):
    out, result = reference
    loaded = rnnlab.load(out)
    assert isinstance(loaded, TextClassifier) and not loaded.training
    assert loaded.config == result.model.config
    assert loaded.vocab.itos == result.model.vocab.itos
    assert loaded.label_names == result.model.label_names == ["neg", "pos"]
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, result.model.state_dict()[k])
    texts = [line.split("\t")[0] for line in order_files[1].read_text().splitlines()[:50]]
    assert loaded.predict(texts) == result.model.eval().predict(texts)


def test_resume_after_fewer_epochs(reference, order_files, tmp_path):
    first = train_classifier(job(order_files, tmp_path, epochs=1))
    assert len(first.history) == 1
    result = train_classifier(job(order_files, tmp_path, resume=True))
    assert_same_run(tmp_path, result, reference)


@pytest.mark.parametrize("at_step", [STEPS + 5, 2 * STEPS])
def test_resume_after_ctrl_c(reference, order_files, tmp_path, monkeypatch, at_step):
    """KeyboardInterrupt raised inside the loss of training step `at_step` (0-based, overall)."""
    calls = []

    def interrupted_loss(self, batch):
        calls.append(1)
        if len(calls) == at_step + 1:
            raise KeyboardInterrupt
        return SequenceClassifier.loss(self, batch)

    with monkeypatch.context() as mp:
        mp.setattr(TextClassifier, "loss", interrupted_loss)
        with pytest.raises(KeyboardInterrupt):
            train_classifier(job(order_files, tmp_path))
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())["state"]
    assert (state["epoch"], state["step_in_epoch"]) == divmod(at_step, STEPS)
    assert not (tmp_path / "scores.json").exists()
    result = train_classifier(job(order_files, tmp_path, resume=True))
    assert_same_run(tmp_path, result, reference)


def test_resume_without_a_checkpoint_is_an_error(order_files, tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        train_classifier(job(order_files, tmp_path, resume=True))


def test_a_second_run_without_resume_starts_afresh(reference, order_files, tmp_path):
    train_classifier(job(order_files, tmp_path, epochs=1))
    result = train_classifier(replace(job(order_files, tmp_path), resume=False))
    assert_same_run(tmp_path, result, reference)


def test_a_failed_resume_leaves_the_saved_model_intact(order_files, tmp_path):
    first = train_classifier(job(order_files, tmp_path, epochs=1))
    texts = ["good film bad", "bad so good plot"]
    before = first.model.predict(texts)
    other = job(order_files, tmp_path, resume=True)
    other.model = replace(other.model, hidden_size=4)
    with pytest.raises(ValueError, match="cannot resume .* different model"):
        train_classifier(other)
    assert rnnlab.load(tmp_path).predict(texts) == before
