"""Labelled texts, the common currency of the classification loaders, and dev-split holding out."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from rnnlab.errors import InputError

__all__ = ["LabelledTexts", "split_dev"]


@dataclass
class LabelledTexts:
    """``N`` texts with integer labels indexing ``label_names``.

    Attributes:
        texts: ``N`` raw (untokenised) texts.
        labels: ``N`` ints in ``[0, len(label_names))``.
        label_names: the class names, id order (``label_names[y]`` names class ``y``); the full
            label set of the task, even where this split lacks a class.
    """

    texts: list[str]
    labels: list[int]
    label_names: list[str]

    def __post_init__(self) -> None:
        self.texts, self.labels = list(self.texts), list(self.labels)
        self.label_names = list(self.label_names)
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")
        if not self.label_names or len(set(self.label_names)) != len(self.label_names):
            raise ValueError(f"label_names must be non-empty and unique, got {self.label_names}")
        C = len(self.label_names)
        for i, y in enumerate(self.labels):
            if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < C:
                raise ValueError(f"label {y!r} of example {i} is not an int in [0, {C})")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int]) -> LabelledTexts:
        """The examples at ``indices``, in that order, with the same ``label_names``."""
        return LabelledTexts(
            [self.texts[i] for i in indices], [self.labels[i] for i in indices], self.label_names
        )

    def class_counts(self) -> list[int]:
        """Number of examples per class, ``len(label_names)`` ints."""
        counts = [0] * len(self.label_names)
        for y in self.labels:
            counts[y] += 1
        return counts


def split_dev(
    examples: LabelledTexts, fraction: float = 0.1, seed: int = 0
) -> tuple[LabelledTexts, LabelledTexts]:
    """Hold out a seeded random ``fraction`` of ``examples`` as a dev set.

    ``round(fraction * N)`` examples, drawn uniformly without replacement by
    ``random.Random(seed)`` (not stratified), go to dev; the rest stay in train. Both keep the
    original order, so the split depends only on ``N``, ``fraction`` and ``seed``.

    Returns:
        ``(train, dev)``, sizes ``N - round(fraction * N)`` and ``round(fraction * N)``.

    Raises:
        InputError (a ValueError): ``fraction`` outside ``(0, 1)``, or too few examples for both
            splits to be non-empty.
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"fraction must be in (0, 1), got {fraction}")
    N = len(examples)
    n_dev = round(fraction * N)
    if not 0 < n_dev < N:
        raise InputError(
            f"cannot hold out {fraction:.0%} of {N} examples as a dev set: "
            "give more training data or an explicit dev set"
        )
    dev_idx = sorted(random.Random(seed).sample(range(N), n_dev))
    dev_set = set(dev_idx)
    train_idx = [i for i in range(N) if i not in dev_set]
    return examples.subset(train_idx), examples.subset(dev_idx)
