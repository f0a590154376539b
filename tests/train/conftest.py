"""A tiny task for the trainer tests: a dropout MLP classifying generated points."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from rnnlab.train import TrainConfig, seed_everything

N_IN = 8


class TinyClassifier(nn.Module):
    """Linear -> tanh -> dropout -> linear; implements rnnlab.train.TrainableModel."""

    def __init__(self, hidden: int = 16, p: float = 0.3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(N_IN, hidden), nn.Tanh(), nn.Dropout(p), nn.Linear(hidden, 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, 2)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(self(x), y)

    def evaluate(self, loader) -> dict[str, float]:
        n, loss_sum, correct = 0, 0.0, 0
        for x, y in loader:
            logits = self(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(-1) == y).sum().item()
            n += len(y)
        return {"loss": loss_sum / n, "accuracy": correct / n}


def make_data(n: int, seed: int) -> TensorDataset:
    """Points x ~ N(0, I) labelled by a fixed hyperplane: y = [x . w > 0]."""
    g = torch.Generator().manual_seed(seed)
    w = torch.linspace(-1.0, 1.0, N_IN)
    x = torch.randn(n, N_IN, generator=g)  # (n, N_IN)
    return TensorDataset(x, (x @ w > 0).long())


@pytest.fixture(scope="session")
def make_model():
    """make_model(init_seed=0) -> a freshly initialised TinyClassifier."""

    def make(init_seed: int = 0, **kwargs) -> TinyClassifier:
        seed_everything(init_seed)
        return TinyClassifier(**kwargs)

    return make


@pytest.fixture(scope="session")
def train_set() -> TensorDataset:
    return make_data(384, seed=1)


@pytest.fixture(scope="session")
def dev_set() -> TensorDataset:
    return make_data(256, seed=2)


@pytest.fixture(scope="session")
def config():
    """config(**overrides) -> a fast TrainConfig for the tiny task."""

    def make(**overrides) -> TrainConfig:
        base = dict(epochs=3, lr=0.02, seed=7, progress=False, clip_norm=1.0)
        return TrainConfig(**{**base, **overrides})

    return make


def loader(dataset, generator: bool = False, batch_size: int = 32) -> DataLoader:
    """A shuffling DataLoader, with or without a torch.Generator of its own."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator() if generator else None,
    )


@pytest.fixture(scope="session")
def make_loader():
    return loader
