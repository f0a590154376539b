"""The contract between a task model and the task-agnostic `Trainer`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class TrainableModel(Protocol):
    """What the trainer needs of a model, besides being a `torch.nn.Module`.

    The trainer owns the loop (optimizer, clipping, seeding, checkpoints, logging); the model owns
    everything task-specific, so one loop trains a classifier, a tagger or a language model.

    - `loss(batch)`: the training objective on one batch, a scalar tensor (the mean over the batch)
      on which the trainer calls `backward()`. The batch is whatever the training loader yields,
      already moved by `rnnlab.train.to_device`. Called in `model.train()` mode.
    - `evaluate(loader)`: metrics over a whole loader, e.g. `{"loss": 0.41, "accuracy": 0.83}`,
      as plain floats. The trainer calls it on the dev loader once per epoch inside
      `torch.no_grad()` and `model.eval()`, with batches already moved to the model's device; the
      result must hold `TrainConfig.monitor`.

    Optional, found by name:

    - `optimizer_groups()`: the model's own parameter groups, ``[{"params": [...], "lr_scale":
      s}, ...]``, each trained at ``s`` times the run's learning rate (discriminative rates).
    - `start_epoch(epoch)`: called before each epoch's steps (also the resumed one), with the
      0-based epoch; e.g. gradual unfreezing, which must depend on the epoch only so that a
      resumed run trains the same parameters.
    """

    def loss(self, batch: Any) -> torch.Tensor:
        """Mean training loss over `batch`, a 0-d tensor with a graph back to the parameters."""
        ...

    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Metrics (name -> float) over every batch of `loader`."""
        ...
