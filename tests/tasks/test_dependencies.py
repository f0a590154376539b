"""The dependency bench and the demo: models, losses and scores per task, a run that learns,
the same budget for every cell, configuration errors, and the demo end to end on a tiny budget."""

from __future__ import annotations

import pytest
import torch

from rnnlab.data.synthetic import TASKS
from rnnlab.tasks.demo import DemoConfig, DemoResult, run_demo
from rnnlab.tasks.dependencies import (
    BenchConfig,
    DependencyModel,
    RunResult,
    build_model,
    format_table,
    held_out,
    result_table,
    run_bench,
    score,
    task_loss,
    train_run,
)


def test_lstm_forget_bias_and_readout_shapes():
    m = DependencyModel("lstm", 2, 4, 1, forget_bias=1.0)
    torch.testing.assert_close(m.rnn.bias_ih_l0[4:8] + m.rnn.bias_hh_l0[4:8], torch.ones(4))
    kept = DependencyModel("lstm", 2, 4, 1, forget_bias=None)
    assert not torch.equal(kept.rnn.bias_hh_l0[4:8], torch.zeros(4)), "PyTorch's init kept"
    copy = build_model("gru", TASKS["copy"], 6)
    b = held_out(TASKS["copy"], 3, 4, seed=0)
    assert copy(b.x, b.lengths).shape == (3, 5, 8)  # (B, K, A)
    with pytest.raises(ValueError, match="cell must be"):
        DependencyModel("transformer", 2, 4, 1)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_has_a_loss_and_a_score_near_chance_at_init(name):
    task = TASKS[name]
    model = build_model("gru", task, 8).eval()
    b = held_out(task, 400, 6, seed=1)
    loss = task_loss(task, model, b)
    assert loss.dim() == 0 and torch.isfinite(loss)
    s = score(task, model, b)
    assert 0.0 <= s["accuracy"] <= 1.0
    if task.metric == "mse":
        assert s["mse"] > 0.5 * task.chance, "an untrained model is no better than the mean"
    else:
        assert s["accuracy"] < task.chance + 0.25


def test_parity_held_out_strings_have_exactly_the_length():
    b = held_out(TASKS["parity"], 50, 7, seed=0)
    assert (b.lengths == 7).all()


def test_a_gated_cell_learns_short_parity_and_stops_once_solved():
    config = BenchConfig(cells=("gru",), lengths=(4,), steps=400, eval_every=25, eval_size=200,
                         progress=False)  # fmt: skip
    run = train_run("gru", 4, config)
    # 3 seeds x 1/2 threads: solved at step 75-100 with test accuracy 1.0; the step budget 400
    # and the threshold 0.95 (chance 0.5) leave >= 300 steps and 0.05
    assert run.solved_at is not None and run.steps == run.solved_at < 400
    assert run.scores["accuracy"] > 0.95


def test_same_budget_for_every_cell_and_the_table():
    config = BenchConfig(task="adding", cells=("rnn", "lstm"), lengths=(4, 6), steps=3,
                         eval_every=2, eval_size=16, progress=False)  # fmt: skip
    threads = torch.get_num_threads()
    results = run_bench(config)
    assert torch.get_num_threads() == threads, "thread count restored"
    assert [(r.cell, r.length) for r in results] == [("rnn", 4), ("lstm", 4), ("rnn", 6),
                                                     ("lstm", 6)]  # fmt: skip
    assert all(r.steps == 3 and r.solved_at is None for r in results)
    table = result_table(results, "mse")
    assert set(table) == {"rnn", "lstm"} and set(table["rnn"]) == {4, 6}
    text = format_table(results, "mse").splitlines()
    assert text[0].split() == ["cell", "L=4", "L=6"]
    assert text[1].split()[0] == "rnn" and text[1].split()[2] == "x"


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"task": "sort"}, "task must be"),
        ({"cells": ("rnn", "tcn")}, "cells must be"),
        ({"lengths": (0, 5)}, "lengths"),
        ({"task": "adding", "lengths": (1,)}, ">= 2"),
        ({"steps": 0}, "steps"),
        ({"lr": 0.0}, "lr"),
    ],
)
def test_bench_config_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        BenchConfig(**kw)


def test_demo_end_to_end_on_a_tiny_budget(tmp_path):
    config = DemoConfig(lengths=(3, 5), steps=30, flow_length=12, out=str(tmp_path / "demo"),
                        progress=False)  # fmt: skip
    result = run_demo(config)
    assert [(r.cell, r.length) for r in result.results][:3] == [("rnn", 3), ("lstm", 3),
                                                                ("gru", 3)]  # fmt: skip
    for path in result.pictures.values():
        assert path.is_file() and path.read_bytes()[:4] == b"\x89PNG"
    assert set(result.pictures) == {"accuracy_vs_length", "gradient_flow"}
    assert set(result.flow.flows) == {f"{c} {w}" for c in ("rnn", "lstm", "gru")
                                      for w in ("at init", "trained (L=5)")}  # fmt: skip
    assert all(f.curve().shape == (12,) for f in result.flow.flows.values())
    assert result.flow.exploding.clip_coef < 1.0
    learned = result.learned_up_to()
    assert set(learned) == {"rnn", "lstm", "gru"}
    assert all(v in (None, 3, 5) for v in learned.values())
    assert set(result.transfer) == {c for c, v in learned.items() if v is not None}
    assert all(learned[c] == n and 0 <= acc <= 1 for c, (n, acc) in result.transfer.items())
    assert result.seconds > 0


def run_result(cell: str, length: int, solved: bool) -> RunResult:
    return RunResult(cell, length, {"accuracy": 1.0 if solved else 0.5},
                     100 if solved else None, 100, 0.1, model=None)  # fmt: skip


def test_learned_up_to_needs_every_shorter_length():
    results = [run_result("rnn", 5, True), run_result("rnn", 10, True),
               run_result("rnn", 20, False), run_result("rnn", 50, True),
               run_result("gru", 5, False), run_result("gru", 10, True),
               run_result("lstm", 10, True), run_result("lstm", 5, True)]  # fmt: skip
    demo = DemoResult(results, flow=None)
    assert demo.learned_up_to() == {"rnn": 10, "gru": None, "lstm": 10}
