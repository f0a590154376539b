"""`TrainConfig`: every knob of the training loop, validated once.

The learning rate at optimizer step `s` (counted from 0 over the whole run) is

    lr_at(s) = lr * schedule(s)        (schedule None: lr_at(s) = lr)

so a schedule is a pure function of the step and a resumed run sees the same rates
(see `rnnlab.train.schedules` for ready-made ones). `anneal_to` is the built-in cosine schedule,
over the epochs' steps and, with `max_minutes`, over the time budget too (see `lr_at`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import torch

from rnnlab.train.schedules import cosine_factor

OPTIMIZERS = ("adam", "adamw", "sgd")
MODES = ("min", "max")
PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainConfig:
    """How to train; knows nothing of the task.

    Early stopping and best-model keeping watch `monitor` among the dev metrics that
    `model.evaluate` returns (or the epoch's train loss when there is no dev loader and
    `monitor == "loss"`). `mode="min"` means lower is better.
    """

    epochs: int = 10
    lr: float = 1e-3
    optimizer: str = "adam"  # "adam" | "adamw" | "sgd"
    weight_decay: float = 0.0
    momentum: float = 0.0  # sgd only
    clip_norm: float | None = 1.0  # max global L2 norm of the gradients; None disables clipping
    monitor: str = "loss"  # dev metric that picks the best epoch and drives early stopping
    mode: str = "min"  # "min" | "max": whether a lower or higher `monitor` is better
    patience: int | None = None  # epochs without improvement before stopping; None disables
    min_delta: float = 0.0  # an improvement must beat the best by more than this
    seed: int = 0
    device: str = "cpu"  # any torch.device string, or "auto" (cuda when available)
    log_every: int = 50  # log the running loss every this many steps
    progress: bool = True  # show a tqdm bar per epoch
    schedule: Callable[[int], float] | None = None  # step -> factor of lr; must be pure
    # cosine-anneal the lr over all `epochs` (their steps) down to this fraction of it; None: off
    anneal_to: float | None = None
    # with anneal_to: a linear warm-up from 0 over this many steps before the cosine
    warmup: int = 0
    # stop once this much training time is spent (a checkpoint is saved, as on Ctrl-C, and the
    # better on dev of the best epoch and the weights at the cut is kept); None: no budget
    max_minutes: float | None = None
    # "bf16": forward and loss under torch.autocast(bfloat16) (mixed precision: the weights,
    # the optimiser and the recurrent state stay float32); evaluation always runs in float32
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {self.epochs!r}")
        if not _positive(self.lr):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if not _nonnegative(self.weight_decay):
            raise ValueError(
                f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}"
            )
        if not _nonnegative(self.momentum) or self.momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if self.momentum and self.optimizer != "sgd":
            raise ValueError(f"momentum={self.momentum!r} applies to optimizer='sgd' only")
        if self.clip_norm is not None and not _positive(self.clip_norm):
            raise ValueError(
                f"clip_norm must be a finite number > 0 or None, got {self.clip_norm!r}"
            )
        if not isinstance(self.monitor, str) or not self.monitor:
            raise ValueError(f"monitor must be a metric name, got {self.monitor!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.patience is not None and (
            isinstance(self.patience, bool)
            or not isinstance(self.patience, int)
            or self.patience < 1
        ):
            raise ValueError(f"patience must be a positive int or None, got {self.patience!r}")
        if not _nonnegative(self.min_delta):
            raise ValueError(f"min_delta must be a finite number >= 0, got {self.min_delta!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {self.seed!r}")
        if self.device != "auto":
            try:
                torch.device(self.device)
            except (RuntimeError, TypeError) as e:
                raise ValueError(
                    f"device must be 'auto' or a torch device, got {self.device!r}"
                ) from e
        if (
            isinstance(self.log_every, bool)
            or not isinstance(self.log_every, int)
            or self.log_every < 1
        ):
            raise ValueError(f"log_every must be a positive int, got {self.log_every!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.schedule is not None and not callable(self.schedule):
            raise ValueError(f"schedule must be a callable step -> factor, got {self.schedule!r}")
        if self.anneal_to is not None:
            if not _nonnegative(self.anneal_to) or self.anneal_to > 1:
                raise ValueError(f"anneal_to must be in [0, 1] or None, got {self.anneal_to!r}")
            if self.schedule is not None:
                raise ValueError("anneal_to is a schedule of its own: give schedule or anneal_to")
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup must be an int >= 0, got {self.warmup!r}")
        if self.warmup and self.anneal_to is None:
            raise ValueError(
                "warmup is the start of the anneal_to schedule: set anneal_to too (--anneal-to)"
            )
        if self.max_minutes is not None and not _positive(self.max_minutes):
            raise ValueError(f"max_minutes must be a number > 0 or None, got {self.max_minutes!r}")

    def lr_at(
        self, step: int, steps_per_epoch: int | None = None, time_fraction: float | None = None
    ) -> float:
        """Learning rate for optimizer step `step` (0-based over the whole run).

        With `anneal_to` it needs `steps_per_epoch` (the trainer passes its loader's length) and,
        under a time budget, `time_fraction` (the share of `max_minutes` spent, in [0, 1]):

            lr_at(s) = lr * (s + 1) / w                                          for s < w
                     = lr * (a + (1 - a) * (1 + cos(pi * p)) / 2)                after
            p = max(min(1, (s - w) / (epochs * n - w)), time_fraction)

        with a = anneal_to, w = warmup and n = steps_per_epoch: a half cosine from lr to a * lr
        that reaches a * lr when the last epoch or the time budget ends, whichever comes first
        (so under a budget the rate does not depend on the step alone: a run resumed with a
        fresh budget anneals afresh).
        """
        if self.anneal_to is not None:
            if steps_per_epoch is None or steps_per_epoch < 1:
                raise ValueError(
                    "anneal_to needs the number of steps per epoch (a training loader with a "
                    f"length), got {steps_per_epoch!r}"
                )
            if step < self.warmup:
                return self.lr * (step + 1) / self.warmup
            total = self.epochs * steps_per_epoch - self.warmup
            p = min(1.0, (step - self.warmup) / max(1, total))
            if time_fraction is not None:
                p = max(p, min(1.0, time_fraction))
            return self.lr * cosine_factor(p, self.anneal_to)
        if self.schedule is None:
            return self.lr
        factor = float(self.schedule(step))
        if not math.isfinite(factor) or factor < 0:
            raise ValueError(
                f"schedule({step}) returned {factor!r}; it must be a finite number >= 0"
            )
        return self.lr * factor

    def resolved_device(self) -> torch.device:
        """The device to train on: `device`, with "auto" meaning cuda when available.

        Raises:
            InputError (a ValueError): a CUDA device this machine does not have.
        """
        from rnnlab.errors import InputError

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device = torch.device(self.device)
        if device.type == "cuda":
            if not torch.cuda.is_available():
                build = "" if torch.version.cuda else ", whose torch is a CPU-only build"
                raise InputError(
                    f"device {self.device!r}: this machine has no CUDA device{build}; train on "
                    "'cpu', or 'auto' to use a GPU where there is one"
                )
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise InputError(
                    f"device {self.device!r}: this machine has {torch.cuda.device_count()} CUDA "
                    f"device(s), cuda:0 to cuda:{torch.cuda.device_count() - 1}"
                )
        return device

    def autocast(self, device: torch.device) -> torch.autocast:
        """The ``torch.autocast`` context a training step runs in (disabled for "fp32")."""
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able fields (the schedule is recorded by name only)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "schedule":
                value = None if value is None else getattr(value, "__name__", repr(value))
            out[f.name] = value
        return out


def _positive(x: object) -> bool:
    return _number(x) and math.isfinite(x) and x > 0  # type: ignore[operator, arg-type]


def _nonnegative(x: object) -> bool:
    return _number(x) and math.isfinite(x) and x >= 0  # type: ignore[operator, arg-type]


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)
