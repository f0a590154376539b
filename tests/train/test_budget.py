"""The time budget: TimeBudget counts training time while batches are drawn and raises BudgetSpent
once it is used up, passing the loader's reseedable parts through; the Trainer stops a run with
TrainConfig.max_minutes, keeps the better of the best epoch and the cut, and can resume; the
learning rate of anneal_to follows the budget's clock (lr_at's time_fraction) and a warm-up.

Every clock here is the fake one (conftest.fake_clock: one second per reading), so no assertion
depends on the machine's speed."""

from __future__ import annotations

import json
import math

import pytest

from rnnlab.text.sentences import SentenceDataset, sentence_loader
from rnnlab.train import BudgetSpent, TimeBudget, TrainConfig, Trainer, read_records


def test_the_budget_stops_the_batches_and_counts_across_passes(fake_clock):
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
    for bad in (0, -1, True, "5"):
        with pytest.raises(ValueError, match="> 0 seconds"):
            TimeBudget(loader, bad)


def test_fraction_counts_the_running_pass_and_the_ended_ones(fake_clock):
    budget = TimeBudget(range(3), seconds=10)
    assert budget.fraction() == 0.0  # nothing drawn yet, and no clock read
    seen = []
    for _ in budget:  # each fraction() reads the clock once: one second per call
        seen.append(budget.fraction())
    assert seen == [0.2, 0.4, 0.6]  # started at t=1; reads at t=3, 5, 7 (loop checks between)
    assert budget.spent == 7.0 and budget.fraction() == 0.7
    budget.spent = 25.0
    assert budget.fraction() == 1.0  # clipped


def cosine(p: float, a: float) -> float:
    return a + (1 - a) * (1 + math.cos(math.pi * p)) / 2


def test_lr_at_warms_up_then_anneals_over_the_steps_or_the_time_whichever_ends_first():
    cfg = TrainConfig(epochs=2, lr=0.1, anneal_to=0.1, warmup=4)
    n = 12  # steps per epoch: the cosine runs over 2 * 12 - 4 = 20 steps after the warm-up
    assert [cfg.lr_at(s, n) for s in range(4)] == pytest.approx([0.025, 0.05, 0.075, 0.1])
    assert cfg.lr_at(4, n) == pytest.approx(0.1)
    assert cfg.lr_at(14, n) == pytest.approx(0.1 * cosine(0.5, 0.1))
    assert cfg.lr_at(24, n) == cfg.lr_at(500, n) == pytest.approx(0.01)
    # under a budget the further along of the two clocks sets the rate
    assert cfg.lr_at(14, n, time_fraction=0.25) == pytest.approx(0.1 * cosine(0.5, 0.1))
    assert cfg.lr_at(14, n, time_fraction=0.75) == pytest.approx(0.1 * cosine(0.75, 0.1))
    assert cfg.lr_at(5, n, time_fraction=1.0) == pytest.approx(0.01)
    assert cfg.lr_at(2, n, time_fraction=0.9) == pytest.approx(0.075)  # warm-up is by step
    plain = TrainConfig(epochs=2, lr=0.1, anneal_to=0.1)  # no warm-up: the old formula
    assert plain.lr_at(6, n) == pytest.approx(0.1 * cosine(6 / 24, 0.1))
    assert TrainConfig(lr=0.1).lr_at(7, n, time_fraction=0.5) == 0.1  # constant: no annealing


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"warmup": 10}, "set anneal_to too"),
        ({"warmup": -1, "anneal_to": 0.1}, "warmup must be"),
        ({"warmup": 1.5, "anneal_to": 0.1}, "warmup must be"),
        ({"max_minutes": 0}, "max_minutes must be"),
        ({"max_minutes": -2.0}, "max_minutes must be"),
        ({"max_minutes": float("inf")}, "max_minutes must be"),
    ],
)
def test_config_checks(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw)


def test_a_budget_stops_the_fit_keeps_a_model_and_resume_goes_on(
    make_model, train_set, dev_set, make_loader, config, tmp_path, fake_clock
):
    # 12 steps per epoch; each step reads the budget's clock twice (the next batch, the lr):
    # a 30-second budget ends inside epoch 2
    cfg = config(epochs=3, max_minutes=0.5, anneal_to=0.1, monitor="accuracy", mode="max")
    model = make_model()
    trainer = Trainer(model, cfg, tmp_path)
    history = trainer.fit(make_loader(train_set), make_loader(dev_set))
    assert trainer.budget_spent and len(history) == 1
    assert read_records(tmp_path / "metrics.jsonl") == history
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["state"]["epoch"] == 1 and 0 < state["state"]["step_in_epoch"] < 12
    assert state["config"]["max_minutes"] == 0.5 and state["config"]["anneal_to"] == 0.1
    assert (tmp_path / "model.safetensors").is_file()
    assert history[0]["lr"] < 0.02  # annealed on the clock, not only over the 36 steps
    # resumed without a budget (max_minutes may change on resume): the run finishes
    resumed = Trainer(make_model(), config(epochs=3, anneal_to=0.1, monitor="accuracy",
                                           mode="max"), tmp_path)  # fmt: skip
    history = resumed.fit(make_loader(train_set), make_loader(dev_set), resume=True)
    assert not resumed.budget_spent and len(history) == 3


def test_the_better_of_the_best_epoch_and_the_cut_is_kept(
    make_model, train_set, dev_set, make_loader, config, tmp_path, fake_clock
):
    def fit(max_minutes, out):
        cfg = config(epochs=5, max_minutes=max_minutes, monitor="accuracy", mode="max")
        model = make_model()
        trainer = Trainer(model, cfg, out)
        history = trainer.fit(make_loader(train_set), make_loader(dev_set))
        dev = trainer._evaluate(make_loader(dev_set))["accuracy"]
        return trainer, history, dev

    trainer, history, dev = fit(45 / 60, tmp_path / "a")  # cut inside epoch 4 (12 steps each)
    assert trainer.budget_spent and len(history) == 3
    assert dev >= max(r["dev_accuracy"] for r in history)  # never worse than the best epoch
    trainer, history, _ = fit(1 / 60, tmp_path / "b")  # cut before the first step
    assert trainer.budget_spent and history == []
    assert (tmp_path / "b" / "model.safetensors").is_file()  # the initial weights are a model
