"""Trainer: it learns, keeps the best weights, stops early, logs, clips and schedules."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnnlab.train import (
    TrainConfig,
    Trainer,
    read_records,
    seed_everything,
)
from rnnlab.train.trainer import make_optimizer

CHANCE_LOSS = math.log(2)  # cross-entropy of a uniform guess over the 2 classes


def test_tiny_model_learns(make_model, train_set, dev_set, make_loader, config, tmp_path):
    model = make_model()
    cfg = config(epochs=4, monitor="accuracy", mode="max")
    history = Trainer(model, cfg, tmp_path).fit(make_loader(train_set), make_loader(dev_set))

    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    # 3 seeds x 1/2 threads: last train loss 0.093-0.101 and best dev loss 0.081-0.100 of the
    # chance loss, best dev accuracy 0.980-0.992; thresholds 0.5, 0.4 and 0.9 leave >= 0.399,
    # 0.3 and 0.08
    assert history[-1]["train_loss"] < 0.5 * CHANCE_LOSS
    assert min(r["dev_loss"] for r in history) < 0.4 * CHANCE_LOSS
    assert max(r["dev_accuracy"] for r in history) > 0.9
    # the model in hand after fit is the best one, and evaluates as logged
    best = max(history, key=lambda r: r["dev_accuracy"])
    model.eval()
    with torch.no_grad():
        again = model.evaluate(make_loader(dev_set))
    assert again["accuracy"] == best["dev_accuracy"]


def test_metrics_log_and_learning_curve(
    make_model, train_set, dev_set, make_loader, config, tmp_path
):
    history = Trainer(make_model(), config(epochs=2), tmp_path).fit(
        make_loader(train_set), make_loader(dev_set)
    )
    records = read_records(tmp_path / "metrics.jsonl")
    assert records == history
    assert set(records[0]) == {
        "epoch", "step", "lr", "time", "train_loss", "dev_loss", "dev_accuracy", "best",
    }  # fmt: skip
    assert records[1]["step"] == 2 * math.ceil(len(train_set) / 32)
    png = (tmp_path / "learning_curve.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert (tmp_path / "model.safetensors").is_file()


class ScriptedDev(nn.Module):
    """A model whose dev metric follows a script, and which remembers its weights at each eval."""

    def __init__(self, script: list[float]) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 1)
        self.script = script
        self.snapshots: list[dict[str, torch.Tensor]] = []

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        return (self.lin(batch) - 1.0).pow(2).mean()

    def evaluate(self, loader) -> dict[str, float]:
        self.snapshots.append({k: v.clone() for k, v in self.state_dict().items()})
        return {"score": self.script[len(self.snapshots) - 1]}


@pytest.mark.parametrize("mode", ["min", "max"])
def test_early_stopping_and_best_weights_restored(mode, tmp_path):
    sign = 1.0 if mode == "max" else -1.0
    script = [sign * v for v in (0.5, 0.6, 0.55, 0.58, 0.9, 0.9)]  # best at epoch 2
    seed_everything(0)
    model = ScriptedDev(script)
    data = [torch.randn(4, 2) for _ in range(3)]
    cfg = TrainConfig(epochs=6, lr=0.1, monitor="score", mode=mode, patience=2, progress=False)
    history = Trainer(model, cfg, tmp_path).fit(data, dev_loader=[None])

    assert len(history) == 4  # epochs 3 and 4 did not improve: stop before epoch 5's 0.9
    assert [r["best"] for r in history] == [True, True, False, False]
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, model.snapshots[1][k], rtol=0, atol=0)
        assert not torch.equal(v, model.snapshots[3][k])


def test_min_delta_needs_a_real_improvement(tmp_path):
    seed_everything(0)
    model = ScriptedDev([1.0, 0.99, 0.5])
    cfg = TrainConfig(epochs=3, monitor="score", mode="min", min_delta=0.05, progress=False)
    history = Trainer(model, cfg, tmp_path).fit([torch.randn(4, 2)], dev_loader=[None])
    assert [r["best"] for r in history] == [True, False, True]


def test_without_dev_loader_monitors_train_loss(
    make_model, train_set, make_loader, config, tmp_path
):
    history = Trainer(make_model(), config(epochs=2), tmp_path).fit(make_loader(train_set))
    assert all(not any(k.startswith("dev_") for k in r) for r in history)
    assert history[1]["best"] == (history[1]["train_loss"] < history[0]["train_loss"])
    with pytest.raises(ValueError, match="'accuracy'.*no dev_loader"):
        Trainer(make_model(), config(monitor="accuracy"), tmp_path).fit(make_loader(train_set))


def test_missing_monitored_metric_is_a_clear_error(
    make_model, train_set, make_loader, config, tmp_path
):
    trainer = Trainer(make_model(), config(monitor="f1"), tmp_path)
    with pytest.raises(ValueError, match=r"\['accuracy', 'loss'\].*'f1'"):
        trainer.fit(make_loader(train_set), make_loader(train_set))


class Linear(nn.Module):
    """One linear layer with a steep loss: its gradient norm is far above 1."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        return 100.0 * self.lin(batch).sum()

    def evaluate(self, loader) -> dict[str, float]:
        return {"loss": 0.0}


@pytest.mark.parametrize("clip_norm", [0.5, None])
def test_clip_norm_clips(clip_norm, tmp_path):
    """With plain SGD at lr 1 one step moves the parameters by exactly the (clipped) gradient."""
    seed_everything(0)
    model = Linear()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    batch = torch.randn(8, 4)
    raw = torch.cat(
        [g.flatten() for g in torch.autograd.grad(model.loss(batch), model.parameters())]
    )
    cfg = TrainConfig(epochs=1, lr=1.0, optimizer="sgd", clip_norm=clip_norm, progress=False)
    Trainer(model, cfg, tmp_path).fit([batch])
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    step = (before - after).norm().item()

    assert raw.norm().item() > 100
    if clip_norm is None:
        assert step == pytest.approx(raw.norm().item(), rel=1e-5)
    else:
        assert step <= clip_norm * (1 + 1e-5)
        assert step == pytest.approx(clip_norm, rel=1e-4)


def test_schedule_sets_the_lr_of_every_step(make_model, train_set, make_loader, config, tmp_path):
    def halve_each_step(step: int) -> float:
        return 0.5**step

    cfg = config(epochs=2, schedule=halve_each_step)
    history = Trainer(make_model(), cfg, tmp_path).fit(make_loader(train_set))
    steps = [r["step"] for r in history]
    assert [r["lr"] for r in history] == [cfg.lr * 0.5 ** (s - 1) for s in steps]


def test_anneal_to_sets_the_cosine_rate_of_every_step(
    make_model, train_set, make_loader, config, tmp_path
):
    loader = make_loader(train_set)
    cfg = config(epochs=3, anneal_to=0.1)
    history = Trainer(make_model(), cfg, tmp_path).fit(loader)
    n = len(loader)
    for r in history:  # the rate of each epoch's last step, by the cosine over 3 * n steps
        p = (r["step"] - 1) / (3 * n)
        assert r["lr"] == pytest.approx(cfg.lr * (0.1 + 0.9 * (1 + math.cos(math.pi * p)) / 2))
    assert history[0]["lr"] > history[1]["lr"] > history[2]["lr"] > cfg.lr * 0.1
    with pytest.raises(ValueError, match="must have a length"):
        Trainer(make_model(), cfg, tmp_path / "b").fit(iter(list(loader)))


def test_zero_schedule_leaves_weights_alone(make_model, train_set, make_loader, config, tmp_path):
    model = make_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    Trainer(model, config(epochs=1, schedule=lambda step: 0.0), tmp_path).fit(
        make_loader(train_set)
    )
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_same_seed_same_run_other_seed_other_run(
    make_model, train_set, make_loader, config, tmp_path
):
    def run(seed: int, sub: str) -> torch.Tensor:
        model = make_model()
        Trainer(model, config(epochs=1, seed=seed), tmp_path / sub).fit(make_loader(train_set))
        return model.net[0].weight.detach().clone()

    a, b, c = run(7, "a"), run(7, "b"), run(8, "c")
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_non_finite_loss_stops_with_a_clear_error(
    make_model, train_set, make_loader, config, tmp_path
):
    model = make_model()
    model.loss = lambda batch: torch.tensor(float("nan"), requires_grad=True)
    with pytest.raises(FloatingPointError, match="nan at epoch 1, step 1"):
        Trainer(model, config(), tmp_path).fit(make_loader(train_set))


def test_loss_must_be_a_scalar(make_model, train_set, make_loader, config, tmp_path):
    model = make_model()
    model.loss = lambda batch: torch.ones(3, requires_grad=True)
    with pytest.raises(TypeError, match=r"scalar.*\(3,\)"):
        Trainer(model, config(), tmp_path).fit(make_loader(train_set))


def test_rejects_a_model_without_the_protocol(config, tmp_path):
    with pytest.raises(TypeError, match="loss.*evaluate"):
        Trainer(nn.Linear(2, 2), config(), tmp_path)


def test_empty_training_loader_is_an_error(make_model, config, tmp_path):
    with pytest.raises(ValueError, match="no batches"):
        Trainer(make_model(), config(), tmp_path).fit([])


@pytest.mark.parametrize(
    "name, cls",
    [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)],
)
def test_make_optimizer(name, cls, make_model):
    opt = make_optimizer(make_model(), TrainConfig(optimizer=name, lr=0.5, weight_decay=0.1))
    assert type(opt) is cls
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["weight_decay"] == 0.1


class AutocastProbe(nn.Module):
    """Records whether each loss and each evaluation ran under autocast, and in which dtype its
    product came out."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 1)
        self.seen: list[tuple[str, bool, torch.dtype]] = []

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        y = self.lin(batch)
        self.seen.append(("loss", torch.is_autocast_enabled("cpu"), y.dtype))
        return y.float().pow(2).mean()

    def evaluate(self, loader) -> dict[str, float]:
        y = self.lin(torch.ones(1, 4))
        self.seen.append(("eval", torch.is_autocast_enabled("cpu"), y.dtype))
        return {"loss": 0.0}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_precision_bf16_trains_under_autocast_and_evaluates_in_float32(precision, tmp_path):
    model = AutocastProbe()
    cfg = TrainConfig(epochs=1, lr=0.1, optimizer="sgd", precision=precision, progress=False)
    Trainer(model, cfg, tmp_path).fit([torch.randn(8, 4) for _ in range(3)], [None])
    low = precision == "bf16"
    expected = torch.bfloat16 if low else torch.float32
    assert [s for s in model.seen if s[0] == "loss"] == [("loss", low, expected)] * 3
    assert [s for s in model.seen if s[0] == "eval"] == [("eval", False, torch.float32)]
    assert all(p.dtype == torch.float32 for p in model.parameters())
