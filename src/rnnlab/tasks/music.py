"""Polyphonic music end to end: piano rolls in, a saved model directory out.

JSB chorales (train / valid / test as published) or a JSON file in the same layout, or a folder
of MIDI files (a seeded 10% valid, 10% test) -> (T, 88) rolls -> batches of whole pieces of
similar length -> MusicModel (RNN/LSTM/GRU -> 88 sigmoids) -> Trainer (early stopping on the
valid NLL per time step) -> runs/NAME/.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnlab import saved
from rnnlab.data.music import (
    STEPS_PER_QUARTER,
    load_midi_folder,
    load_music_splits,
    music_names,
)
from rnnlab.errors import InputError
from rnnlab.models.music import MusicConfig, MusicModel
from rnnlab.text import bucket_loader
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.files import atomic_write_text


@dataclass
class MusicJob:
    """Everything ``rnnlab train music`` takes."""

    data: str = "jsb_chorales"  # a registered dataset, a JSON file of that layout, or a MIDI folder
    out: str = "runs/music"
    resolution: str = "quarter"  # jsb_chorales: "quarter" (as published), "8th" or "16th"
    steps_per_quarter: int = 1  # a MIDI folder's grid
    batch_size: int = 16
    # training pieces moved by a random whole number of semitones in [-transpose, transpose]
    # each time they are drawn (never past the 88 keys); 0: as written
    transpose: int = 0
    model: MusicConfig = field(default_factory=MusicConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(monitor="loss", mode="min", clip_norm=5.0)
    )
    resume: bool = False

    def __post_init__(self) -> None:
        if self.resolution not in STEPS_PER_QUARTER:
            raise ValueError(f"resolution must be one of {tuple(STEPS_PER_QUARTER)}, got "
                             f"{self.resolution!r}")  # fmt: skip
        for name in ("batch_size", "steps_per_quarter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        t = self.transpose
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t <= 12:
            raise ValueError(f"transpose must be an int in [0, 12] semitones, got {t!r}")


@dataclass
class MusicResult:
    model: MusicModel
    history: list[dict]
    scores: dict[str, dict]  # split -> {"loss", "nll"}
    budget_spent: bool = False


def music_splits(job: MusicJob) -> tuple[dict[str, list[torch.Tensor]], int]:
    """``({"train", "valid"[, "test"]}: lists of (T, 88) rolls, steps per quarter note)``."""
    path = Path(job.data)
    if job.data not in music_names() and path.is_dir():
        pieces = load_midi_folder(path, job.steps_per_quarter)
        if len(pieces) < 3:
            raise InputError(f"{path} holds {len(pieces)} MIDI files: at least 3 are needed "
                             "(train, valid, test)")  # fmt: skip
        order = list(range(len(pieces)))
        random.Random(job.train.seed).shuffle(order)
        n = max(1, len(pieces) // 10)
        splits = {"valid": [pieces[i] for i in order[:n]],
                  "test": [pieces[i] for i in order[n : 2 * n]],
                  "train": [pieces[i] for i in order[2 * n :]]}  # fmt: skip
        return splits, job.steps_per_quarter
    splits = load_music_splits(job.data, resolution=job.resolution)
    for name in ("train", "valid"):
        if not splits.get(name):
            raise InputError(f"{job.data} has no {name} pieces (it has "
                             f"{', '.join(k for k, v in splits.items() if v)})")  # fmt: skip
    return splits, STEPS_PER_QUARTER[job.resolution]


def collate(pieces: list[torch.Tensor]):
    """``[(T_i, 88)]`` -> (rolls (B, T, 88) zero-padded on the right, lengths (B,))."""
    lengths = torch.tensor([len(p) for p in pieces])
    return torch.nn.utils.rnn.pad_sequence(pieces, batch_first=True), lengths


def transpose(roll: torch.Tensor, semitones: int) -> torch.Tensor:
    """``roll`` (T, 88) moved ``semitones`` keys up (down if negative), clipped to the range the
    piece allows: no note leaves the 88 keys. Returns a new (T, 88) roll."""
    keys = roll.any(dim=0).nonzero().flatten()
    if len(keys) == 0:
        return roll.clone()
    shift = max(-int(keys[0]), min(semitones, roll.shape[1] - 1 - int(keys[-1])))
    return torch.roll(roll, shift, dims=1)  # no wrap-around: the shift keeps every note inside


class RandomTranspose:
    """A training collate that moves each piece by a uniform random shift in [-k, k] semitones,
    drawn from torch's global generator (which checkpoints save, so a resumed run draws the same
    shifts), then pads the batch as :func:`collate` does."""

    def __init__(self, k: int) -> None:
        self.k = k

    def __call__(self, pieces: list[torch.Tensor]):
        shifts = torch.randint(-self.k, self.k + 1, (len(pieces),)).tolist()
        return collate([transpose(p, s) for p, s in zip(pieces, shifts, strict=True)])


def loader(pieces: list[torch.Tensor], batch_size: int, train: bool, seed: int,
           transpose_by: int = 0):  # fmt: skip
    """Batches of whole pieces of similar length (reshuffled each epoch when training; with
    ``transpose_by`` > 0 each training piece is moved by a random shift, see RandomTranspose)."""
    fn = RandomTranspose(transpose_by) if train and transpose_by else collate
    return bucket_loader(pieces, batch_size, fn, train=train, seed=seed,
                         lengths=[len(p) for p in pieces])  # fmt: skip


def train_music(job: MusicJob) -> MusicResult:
    """Train on ``job.data``, keep the best valid epoch, save to ``job.out``, score valid/test."""
    splits, spq = music_splits(job)
    seed_everything(job.train.seed)
    model = MusicModel(job.model, steps_per_quarter=spq)
    run = {"data": job.data, "resolution": job.resolution, "steps_per_quarter": spq,
           "batch_size": job.batch_size, "seed": job.train.seed,
           "transpose": job.transpose}  # fmt: skip
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    loaders = {name: loader(p, job.batch_size, name == "train", job.train.seed, job.transpose)
               for name, p in splits.items() if p}  # fmt: skip
    trainer = Trainer(model, job.train, job.out)
    history = trainer.fit(loaders["train"], loaders["valid"], resume=job.resume)
    model.eval()
    scores = {name: model.evaluate(loaders[name]) for name in ("valid", "test") if name in loaders}
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return MusicResult(model, history, scores, trainer.budget_spent)


__all__ = [
    "MusicJob",
    "MusicResult",
    "RandomTranspose",
    "collate",
    "music_splits",
    "train_music",
    "transpose",
]
