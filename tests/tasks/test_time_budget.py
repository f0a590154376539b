"""TimeBudget: training time counted while batches are drawn, BudgetSpent once it is used up,
and the loader's reseedable parts passed through; train_lm stopped by max_minutes."""

from __future__ import annotations

import json

import pytest

import rnnlab
from rnnlab.models.language_model import LMConfig
from rnnlab.tasks import time_budget
from rnnlab.tasks.language_model import LMJob, train_lm
from rnnlab.tasks.time_budget import BudgetSpent, TimeBudget
from rnnlab.text.sentences import SentenceDataset, sentence_loader
from rnnlab.train import TrainConfig


class Clock:
    """A stand-in for the time module whose perf_counter advances one second per call."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time_budget, "time", fake)
    return fake


def test_the_budget_stops_the_batches_and_counts_across_passes(clock):
    budget = TimeBudget(range(5), seconds=8)
    assert list(budget) == [0, 1, 2, 3, 4]  # 6 clock reads inside: 6 s spent
    assert budget.spent == 6.0
    with pytest.raises(BudgetSpent, match="8 s is spent"):
        list(budget)
    assert isinstance(BudgetSpent(), KeyboardInterrupt)  # the trainer checkpoints, as on Ctrl-C


def test_len_and_the_reseedable_parts_pass_through():
    loader = sentence_loader(SentenceDataset([[2, 5, 3]] * 10), 3, train=True)
    budget = TimeBudget(loader, 60)
    assert len(budget) == len(loader) == 4
    assert budget.batch_sampler is loader.batch_sampler
    with pytest.raises(AttributeError):
        budget.no_such_thing  # noqa: B018
    with pytest.raises(ValueError, match="> 0 seconds"):
        TimeBudget(loader, 0)


def test_train_lm_stopped_by_its_budget_keeps_a_model_and_can_resume(tmp_path, clock):
    text = tmp_path / "text.txt"
    text.write_text("abcabd\n" * 80, encoding="utf-8")
    job = LMJob(data=str(text), out=str(tmp_path / "run"), level="char", batch_size=4, bptt=10,
                model=LMConfig(1, embed_dim=8, hidden_size=8, num_layers=1),
                train=TrainConfig(epochs=3, lr=0.01, progress=False),
                max_minutes=40 / 60)  # fmt: skip
    result = train_lm(job)  # 13 steps per epoch, about a clock second each: 40 s < 3 epochs
    assert result.budget_spent
    assert len(result.history) == 2
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["state"]
    assert (state["epoch"], state["step_in_epoch"]) == (2, 11)  # stopped inside epoch 3
    loaded = rnnlab.load(tmp_path / "run")
    assert loaded.log_prob("abc") == result.model.log_prob("abc")
    assert json.loads((tmp_path / "run" / "scores.json").read_text())["dev"]["tokens"] > 0
    resumed = train_lm(LMJob(**{**job.__dict__, "max_minutes": None, "resume": True}))
    assert not resumed.budget_spent and len(resumed.history) == 3
