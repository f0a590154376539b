"""The task-agnostic training loop, its checkpoints, metrics log and learning curve.

from rnnlab.train import Trainer, TrainConfig, seed_everything

seed_everything(0)
model = MyModel(...)  # an nn.Module with loss(batch) and evaluate(loader): TrainableModel
history = Trainer(model, TrainConfig(epochs=10, monitor="accuracy", mode="max"), "runs/x").fit(
    train_loader, dev_loader
)
"""

from rnnlab.train.budget import BudgetSpent, TimeBudget
from rnnlab.train.checkpoint import TrainerState, load_checkpoint, save_checkpoint
from rnnlab.train.config import TrainConfig
from rnnlab.train.device import OnDevice, to_device
from rnnlab.train.files import CheckpointError
from rnnlab.train.metrics_log import read_records
from rnnlab.train.plots import plot_learning_curve
from rnnlab.train.protocol import TrainableModel
from rnnlab.train.rng import epoch_seed, seed_everything
from rnnlab.train.schedules import warmup_cosine, warmup_linear
from rnnlab.train.trainer import Trainer, make_optimizer
from rnnlab.train.weights import load_weights, save_weights

__all__ = [
    "BudgetSpent",
    "CheckpointError",
    "OnDevice",
    "TrainConfig",
    "TrainableModel",
    "Trainer",
    "TrainerState",
    "TimeBudget",
    "epoch_seed",
    "load_checkpoint",
    "load_weights",
    "make_optimizer",
    "plot_learning_curve",
    "read_records",
    "save_checkpoint",
    "save_weights",
    "seed_everything",
    "to_device",
    "warmup_cosine",
    "warmup_linear",
]
