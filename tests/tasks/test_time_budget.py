"""TimeBudget: training time counted while batches are drawn, BudgetSpent once it is used up,
and the loader's reseedable parts passed through; train_lm stopped by max_minutes; the
learning rate annealed on the budget's clock (budget_cosine; TrainConfig.anneal_to with
max_minutes)."""

from __future__ import annotations

import json
import math

import pytest

import rnnlab
from rnnlab.models.language_model import LMConfig
from rnnlab.tasks import time_budget
from rnnlab.tasks.language_model import LMJob, train_lm
from rnnlab.tasks.time_budget import BudgetSpent, TimeBudget, budget_cosine
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


def tiny_job(tmp_path, train: TrainConfig, **kw) -> LMJob:
    """A character LM job on a 560-character text: 13 stream steps per epoch."""
    text = tmp_path / "text.txt"
    text.write_text("abcabd\n" * 80, encoding="utf-8")
    return LMJob(data=str(text), out=str(tmp_path / "run"), level="char", batch_size=4, bptt=10,
                 model=LMConfig(1, embed_dim=8, hidden_size=8, num_layers=1), train=train,
                 **kw)  # fmt: skip


def test_train_lm_stopped_by_its_budget_keeps_a_model_and_can_resume(tmp_path, clock):
    job = tiny_job(tmp_path, TrainConfig(epochs=3, lr=0.01, progress=False), max_minutes=40 / 60)
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


def test_fraction_counts_the_running_pass_and_the_ended_ones(clock):
    budget = TimeBudget(range(3), seconds=10)
    assert budget.fraction() == 0.0  # nothing drawn yet, and no clock read
    seen = []
    for _ in budget:  # each fraction() reads the clock once: one second per call
        seen.append(budget.fraction())
    assert seen == [0.2, 0.4, 0.6]  # started at t=1; reads at t=3, 5, 7 (loop checks between)
    assert budget.spent == 7.0 and budget.fraction() == 0.7
    budget.spent = 25.0
    assert budget.fraction() == 1.0  # clipped


def test_budget_cosine_follows_the_clock_not_the_step():
    budget = TimeBudget(range(3), seconds=100)
    schedule = budget_cosine(budget, min_factor=0.1, warmup=2)
    assert [schedule(0), schedule(1)] == [0.5, 1.0]  # linear warm-up, by step
    for spent, expected in [(0, 1.0), (25, 0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2),
                            (50, 0.55), (100, 0.1), (400, 0.1)]:  # fmt: skip
        budget.spent = spent
        assert schedule(2) == pytest.approx(expected) == schedule(10_000)
    assert "budget_cosine(seconds=100" in schedule.__name__
    with pytest.raises(TypeError, match="TimeBudget"):
        budget_cosine(range(3))
    with pytest.raises(ValueError, match="min_factor"):
        budget_cosine(budget, min_factor=1.5)
    with pytest.raises(ValueError, match="warmup"):
        budget_cosine(budget, warmup=-1)


def test_train_lm_anneals_over_its_budget(tmp_path, clock):
    train = TrainConfig(epochs=50, lr=0.01, anneal_to=0.05, progress=False)
    result = train_lm(tiny_job(tmp_path, train, max_minutes=100 / 60))
    # 13 steps per epoch, ~2 clock seconds a step (one clock read is the lr's)
    assert result.budget_spent and 2 <= len(result.history) <= 4
    rates = [r["lr"] for r in result.history]  # the rate of each epoch's last step
    assert rates == sorted(rates, reverse=True) and len(set(rates)) == len(rates)
    assert 0.01 * 0.05 <= rates[-1] < rates[0] < 0.01
    config = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["config"]
    assert config["schedule"].startswith("budget_cosine(seconds=100")  # not over the 50 epochs
    assert config["anneal_to"] is None


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"warmup": 10}, "set max_minutes and train.anneal_to"),
        ({"warmup": 10, "max_minutes": 1}, "set max_minutes and train.anneal_to"),
        ({"warmup": 10, "train": TrainConfig(anneal_to=0.1)}, "set max_minutes and"),
        ({"warmup": -1}, "warmup must be"),
        ({"lr_decay": 0.5, "train": TrainConfig(anneal_to=0.1)}, "two schedules"),
    ],
)
def test_anneal_job_checks(kw, match):
    with pytest.raises(ValueError, match=match):
        LMJob(**kw)
