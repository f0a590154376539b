"""TrainConfig validation and lr_at; the schedules."""

from __future__ import annotations

import math

import pytest

from rnnlab.train import TrainConfig, warmup_cosine, warmup_linear


@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", 0),
        ("epochs", 2.5),
        ("epochs", True),
        ("lr", 0.0),
        ("lr", float("nan")),
        ("lr", "0.1"),
        ("optimizer", "rmsprop"),
        ("weight_decay", -0.1),
        ("momentum", 1.0),
        ("clip_norm", 0.0),
        ("clip_norm", float("inf")),
        ("monitor", ""),
        ("mode", "maximize"),
        ("patience", 0),
        ("min_delta", -1.0),
        ("seed", -1),
        ("device", "gpu7"),
        ("log_every", 0),
        ("schedule", 0.5),
        ("precision", "fp16"),
        ("anneal_to", 1.5),
        ("anneal_to", -0.1),
    ],
)
def test_bad_values_are_named(field, value):
    with pytest.raises(ValueError, match=field) as err:
        TrainConfig(**{field: value})
    assert repr(value) in str(err.value)


def test_momentum_needs_sgd():
    with pytest.raises(ValueError, match="momentum=0.9.*sgd"):
        TrainConfig(momentum=0.9)
    assert TrainConfig(optimizer="sgd", momentum=0.9).momentum == 0.9


def test_defaults_are_valid_and_json_able():
    cfg = TrainConfig(schedule=warmup_linear(2, 10))
    d = cfg.to_dict()
    assert d["optimizer"] == "adam" and d["schedule"].startswith("warmup_linear(")
    assert cfg.resolved_device().type == "cpu"


def test_lr_at_scales_by_the_schedule():
    cfg = TrainConfig(lr=0.1, schedule=lambda s: 1 / (s + 1))
    assert [cfg.lr_at(s) for s in range(3)] == [0.1, 0.05, 0.1 / 3]
    assert TrainConfig(lr=0.1).lr_at(10**6) == 0.1
    with pytest.raises(ValueError, match=r"schedule\(0\) returned -1.0"):
        TrainConfig(schedule=lambda s: -1.0).lr_at(0)


@pytest.mark.parametrize(
    "step, linear, cosine",
    [
        (0, 0.25, 0.25),  # warm-up: (s + 1) / 4
        (3, 1.0, 1.0),
        (4, 1.0, 1.0),  # top
        (9, 0.5, 0.5),  # half way through the decay (p = 5/10)
        (14, 0.0, 0.0),  # end
        (100, 0.0, 0.0),  # after the end
    ],
)
def test_schedules_table(step, linear, cosine):
    assert warmup_linear(4, 14)(step) == pytest.approx(linear)
    assert warmup_cosine(4, 14)(step) == pytest.approx(cosine)


def test_schedules_min_factor_and_shape():
    cos = warmup_cosine(0, 10, min_factor=0.1)
    assert cos(0) == 1.0 and cos(10) == pytest.approx(0.1)
    assert cos(2) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.2)))
    assert warmup_linear(0, 10, min_factor=0.2)(5) == pytest.approx(0.6)


@pytest.mark.parametrize("args", [(-1, 10), (5, 4), (0, 10, 1.5)])
def test_bad_schedule_arguments(args):
    with pytest.raises(ValueError):
        warmup_linear(*args)


def test_anneal_to_is_a_cosine_over_all_epochs_steps():
    cfg = TrainConfig(lr=0.1, epochs=4, anneal_to=0.05)  # 4 epochs x 25 steps = 100 steps
    expected = [0.1 * (0.05 + 0.95 * (1 + math.cos(math.pi * s / 100)) / 2) for s in range(101)]
    assert [cfg.lr_at(s, 25) for s in range(101)] == pytest.approx(expected, rel=1e-12)
    assert cfg.lr_at(0, 25) == 0.1 and cfg.lr_at(50, 25) == pytest.approx(0.0525)
    assert cfg.lr_at(100, 25) == cfg.lr_at(10**6, 25) == pytest.approx(0.005)
    assert cfg.to_dict()["anneal_to"] == 0.05
    with pytest.raises(ValueError, match="steps per epoch"):
        cfg.lr_at(3)
    with pytest.raises(ValueError, match="give schedule or anneal_to"):
        TrainConfig(anneal_to=0.1, schedule=lambda s: 1.0)
