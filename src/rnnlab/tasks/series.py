"""Series classification end to end: ``.ts``/``.npz`` series in, a saved model directory out.

The pipeline:

    basic_motions | japanese_vowels | FILE_TRAIN.ts (its FILE_TEST.ts beside it) | FILE.npz
    -> train / test (the archive's split; a file without a test file: a seeded, stratified
       ``test_fraction`` held out)
    -> a seeded, stratified ``valid_fraction`` of the training series for model selection
    -> per-channel statistics of the remaining training series only -> the model's buffers
    -> SeriesClassifier (normalise -> BiGRU/BiLSTM -> pool -> softmax) -> Trainer -> runs/NAME/
    -> accuracy and the confusion matrix on valid and test (scores.json)
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from rnnlab import saved
from rnnlab.data.series import SeriesSet, load_series, paired_test_file, series_names
from rnnlab.errors import InputError
from rnnlab.metrics import confusion_matrix
from rnnlab.models.series import SeriesClassifier, SeriesConfig
from rnnlab.text import bucket_loader
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.files import atomic_write_text

logger = logging.getLogger(__name__)


@dataclass
class SeriesJob:
    """Everything ``rnnlab train series`` takes."""

    data: str = "basic_motions"  # a registered name, a .ts/.npz file (a _TRAIN file: its _TEST)
    test: str | None = None  # a test file; default: the dataset's, or the _TEST file beside data
    out: str = "runs/series"
    # of the training series, stratified and seeded, to choose the epoch; 0: train on every
    # training series for all the epochs (monitoring the training loss)
    valid_fraction: float = 0.2
    test_fraction: float = 0.2  # held out as test when data has no test file
    batch_size: int = 16
    model: SeriesConfig | None = None  # num_classes and channels are filled in from the data
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(monitor="loss", mode="min", clip_norm=5.0)
    )
    resume: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) \
                or self.batch_size < 1:  # fmt: skip
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")
        if not 0.0 <= self.valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in [0, 1), got {self.valid_fraction!r}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction!r}")
        if self.valid_fraction == 0 and self.train.monitor != "loss":
            raise ValueError(f"valid_fraction 0 leaves no validation series to watch "
                             f"{self.train.monitor!r} on; monitor the training loss")  # fmt: skip


@dataclass
class SeriesResult:
    model: SeriesClassifier
    history: list[dict]
    scores: dict[str, dict]  # split -> {"loss", "accuracy", "confusion"}
    budget_spent: bool = False


# ---- data ------------------------------------------------------------------------------------
def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(kept, held)`` ids (sorted) of labels y (N,): from each class a seeded
    ``round(fraction * n_class)`` held out, at least one of a class with two or more and never
    a class's last.

    Raises:
        InputError: nothing would be held out (too few series).
    """
    rng = np.random.default_rng(seed)
    held = []
    for k in np.unique(y):
        ids = np.flatnonzero(y == k)
        n = min(max(1, round(fraction * len(ids))), len(ids) - 1)
        held += list(rng.permutation(ids)[:n])
    if not held:
        raise InputError(f"{len(y)} series are too few to hold {fraction:g} of them out "
                         "(each class needs two series or more)")  # fmt: skip
    held = np.sort(np.array(held, dtype=np.int64))
    kept = np.setdiff1d(np.arange(len(y)), held)
    return kept, held


def series_splits(job: SeriesJob) -> dict[str, SeriesSet]:
    """``{"train", "valid", "test"}`` of ``job.data``: test from the dataset's test split, the
    ``_TEST`` file beside a ``_TRAIN`` file or ``job.test``, else a stratified ``test_fraction``
    of the series; valid a stratified ``valid_fraction`` of the training series (absent with
    ``valid_fraction`` 0). Every split is labelled in the training series' class order.

    Raises:
        InputError: unlabelled training series, a single class, a test file with other
            channels or classes, or too few series to split.
    """
    train = load_series(job.data, "train")
    if train.y is None:
        raise InputError(f"{job.data}: the series have no class labels (@classLabel false, or "
                         "no y in the .npz); training needs them")  # fmt: skip
    if len(train.labels) < 2:
        raise InputError(f"{job.data}: one class only ({train.labels}); need two or more")
    if job.test is not None:
        test = load_series(job.test, "train")  # the file itself
    elif job.data in series_names() or paired_test_file(job.data) is not None:
        test = load_series(job.data, "test")
    else:
        seed = job.train.seed + 1
        kept, held = stratified_split(train.y, job.test_fraction, seed)
        logger.info("%s has no test file: %d series held out as test", job.data, len(held))
        train, test = train.subset(kept), train.subset(held)
    if test.channels != train.channels:
        raise InputError(f"the test series have {test.channels} channels, the training series "
                         f"{train.channels}")  # fmt: skip
    if test.y is None:
        raise InputError(f"{job.test or job.data}: the test series have no class labels")
    test = test.relabel(train.labels)
    if job.valid_fraction == 0:
        return {"train": train, "test": test}
    kept, held = stratified_split(train.y, job.valid_fraction, job.train.seed)
    return {"train": train.subset(kept), "valid": train.subset(held), "test": test}


class SeriesDataset(torch.utils.data.Dataset):
    """``(x (T_i, C) float32, class id)`` per series of a :class:`SeriesSet`."""

    def __init__(self, series: SeriesSet) -> None:
        if series.y is None:
            raise InputError(f"{series.name}: series without class labels cannot be scored")
        self.series = series
        self.lengths = [int(n) for n in series.lengths]

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, i: int):
        return torch.from_numpy(self.series.series(i)), int(self.series.y[i])


def collate(batch):
    """``[(x (T_i, C), y)]`` -> (x (B, T, C) zero-padded on the right, lengths (B,), y (B,))."""
    xs = [x for x, _ in batch]
    lengths = torch.tensor([len(x) for x in xs])
    x = torch.nn.utils.rnn.pad_sequence(xs, batch_first=True)  # (B, T, C)
    return x, lengths, torch.tensor([y for _, y in batch])


def loader(series: SeriesSet, batch_size: int, train: bool = False, seed: int = 0):
    """Batches of ``series``: shuffled in buckets of similar length (training, reseeded every
    epoch so a resumed run is exact) or shortest first (evaluation)."""
    return bucket_loader(SeriesDataset(series), batch_size, collate, train=train, seed=seed)


# ---- training --------------------------------------------------------------------------------
def train_series(job: SeriesJob) -> SeriesResult:
    """Train on ``job.data``, keep the best validation epoch, save to ``job.out``, score the
    validation and test series (accuracy and confusion matrix; ``scores.json``)."""
    splits = series_splits(job)
    train = splits["train"]
    base = job.model or SeriesConfig(num_classes=2, channels=1)
    config = SeriesConfig(**{**asdict(base), "num_classes": len(train.labels),
                             "channels": train.channels})  # fmt: skip
    seed_everything(job.train.seed)
    model = SeriesClassifier(config, train.labels)
    # statistics of the training series only: neither valid nor test values reach them
    model.fit_normalization(train.X, train.lengths)
    run = {"data": job.data, "test": job.test, "valid_fraction": job.valid_fraction,
           "test_fraction": job.test_fraction, "batch_size": job.batch_size,
           "seed": job.train.seed}  # fmt: skip
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    logger.info("%s: %d train / %d valid / %d test series, %d channels, %d classes, %d "
                "parameters", job.data, len(train), len(splits.get("valid", ())),
                len(splits["test"]),
                train.channels, len(train.labels),
                sum(p.numel() for p in model.parameters()))  # fmt: skip
    trainer = Trainer(model, job.train, job.out)
    valid = loader(splits["valid"], 256) if "valid" in splits else None
    history = trainer.fit(loader(train, job.batch_size, train=True, seed=job.train.seed), valid,
                          resume=job.resume)  # fmt: skip
    model.eval()
    scores = {name: score(model, splits[name]) for name in ("valid", "test") if name in splits}
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return SeriesResult(model, history, scores, trainer.budget_spent)


def score(model: SeriesClassifier, series: SeriesSet) -> dict:
    """``{"loss", "accuracy", "confusion"}`` of ``model`` on labelled ``series`` (already in the
    model's class order); the confusion matrix (K, K) as lists, rows gold, columns predicted."""
    probs = model.probabilities(series.X, series.lengths)  # (N, K), one pass in eval mode
    y = torch.as_tensor(series.y, dtype=torch.long)
    # loss = - mean_i log p(y_i | x_i)
    loss = float(-probs.gather(1, y[:, None]).clamp_min(1e-45).log().mean())
    cm = confusion_matrix(probs.argmax(-1), series.y, num_classes=len(model.labels))
    return {"loss": loss, "accuracy": float(cm.trace() / cm.sum()), "confusion": cm.tolist()}


def evaluate_series(model: SeriesClassifier, data: str, split: str = "test"):
    """Accuracy and the confusion matrix (K, K) of ``model`` on ``split`` of ``data`` (a
    registered name, or a labelled ``.ts``/``.npz`` file: the file itself, whatever the split).

    Raises:
        InputError: unlabelled series, other channels, or classes the model does not know.
    """
    series = load_series(data, split if data in series_names() else "train")
    if series.y is None:
        raise InputError(f"{data}: the series have no class labels to score against")
    if series.channels != model.config.channels:
        raise InputError(f"{data}: {series.channels} channels per step, the model reads "
                         f"{model.config.channels}")  # fmt: skip
    series = series.relabel(model.labels)
    s = score(model, series)
    return s["accuracy"], np.asarray(s["confusion"]), len(series)


__all__ = [
    "SeriesJob",
    "SeriesResult",
    "collate",
    "evaluate_series",
    "loader",
    "score",
    "series_splits",
    "stratified_split",
    "train_series",
]
