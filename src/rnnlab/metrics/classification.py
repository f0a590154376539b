"""Classification metrics: accuracy, confusion matrix, per-class precision/recall/F1.

Pure functions of predicted and gold class ids, given as equal-length 1-D sequences of ints
(lists, NumPy arrays, or torch tensors on any device). For a class c with
tp = #(pred = c and gold = c), predicted = #(pred = c), support = #(gold = c):

    precision = tp / predicted    recall = tp / support    F1 = 2 tp / (predicted + support)

(F1 = 2PR / (P + R) wherever that is defined). A ratio whose denominator is 0 is 0.0, as
scikit-learn's `zero_division=0`; so a class never predicted has precision 0, a class absent
from gold has recall 0, and a class absent from both scores 0 everywhere (and still counts in the
macro average when it was asked for via `labels`).

Averages over the report's labels: macro, the unweighted mean of the per-class scores; weighted,
their mean weighted by support; micro, the scores of the summed counts (over all labels micro
P = R = F1 = accuracy). These match `sklearn.metrics.precision_recall_fscore_support`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one class or one average, and the gold count behind them."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationReport:
    """Per-class scores (in the order of `labels`) and their macro, micro and weighted averages.

    `accuracy` is over all `num_examples` examples; the averages are over `labels` only (their
    support is the gold count of those labels).
    """

    labels: tuple[int, ...]
    per_class: tuple[Scores, ...]
    macro: Scores
    micro: Scores
    weighted: Scores
    accuracy: float
    num_examples: int

    def __getitem__(self, label: int) -> Scores:
        """The scores of class `label`."""
        try:
            return self.per_class[self.labels.index(label)]
        except ValueError:
            raise KeyError(
                f"label {label!r} is not in this report (labels {self.labels})"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: {"accuracy", "per_class": {label: scores}, "macro", "micro", "weighted"}."""
        return {
            "accuracy": self.accuracy,
            "num_examples": self.num_examples,
            "per_class": {
                str(c): asdict(s) for c, s in zip(self.labels, self.per_class, strict=True)
            },
            "macro": asdict(self.macro),
            "micro": asdict(self.micro),
            "weighted": asdict(self.weighted),
        }


def accuracy(pred: Any, gold: Any) -> float:
    """Fraction of positions where `pred` equals `gold`; both (N,) class ids, N >= 1."""
    p, g = _pair(pred, gold)
    return float(np.mean(p == g))


def confusion_matrix(pred: Any, gold: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts (C, C) int64: entry [i, j] is how many examples of gold class i were predicted j.

    Rows are gold, columns predicted (as `sklearn.metrics.confusion_matrix(gold, pred)`). Ids must
    lie in [0, C); `num_classes` None means C = the largest id seen + 1.
    """
    p, g = _pair(pred, gold)
    num_classes = _check_range(p, g, num_classes)
    cm = np.bincount(g * num_classes + p, minlength=num_classes * num_classes)
    return cm.reshape(num_classes, num_classes).astype(np.int64)


def classification_report(
    pred: Any, gold: Any, labels: int | Sequence[int] | None = None
) -> ClassificationReport:
    """Precision, recall, F1 and support per class, with macro, micro and weighted averages.

    `labels`: None for the sorted ids seen in `pred` or `gold`; an int C for classes 0..C-1
    (every id must lie in that range; classes absent from both still get a zero row); or a list
    of ids, which sets the rows and their order and restricts the averages to them.
    """
    p, g = _pair(pred, gold)
    if labels is None:
        ids = np.unique(np.concatenate([p, g]))
    elif isinstance(labels, (int, np.integer)) and not isinstance(labels, bool):
        ids = np.arange(_check_range(p, g, int(labels)))
    else:
        ids = _as_ids(labels, "labels")
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"labels must not repeat, got {list(labels)}")
    tp = _count(g[p == g], ids)  # (L,)
    predicted = _count(p, ids)  # (L,)
    support = _count(g, ids)  # (L,)
    precision, recall, f1 = _prf(tp, predicted, support)
    per_class = tuple(
        Scores(float(a), float(b), float(c), int(s))
        for a, b, c, s in zip(precision, recall, f1, support, strict=True)
    )
    total = int(support.sum())
    macro = Scores(float(precision.mean()), float(recall.mean()), float(f1.mean()), total)
    weights = support / total if total else np.zeros(len(ids))
    weighted = Scores(
        float(weights @ precision), float(weights @ recall), float(weights @ f1), total
    )
    sums = [a.sum(keepdims=True) for a in (tp, predicted, support)]  # (1,) each
    micro = Scores(*(float(x[0]) for x in _prf(*sums)), total)
    return ClassificationReport(
        labels=tuple(int(c) for c in ids),
        per_class=per_class,
        macro=macro,
        micro=micro,
        weighted=weighted,
        accuracy=float(np.mean(p == g)),
        num_examples=len(g),
    )


def _prf(tp: np.ndarray, predicted: np.ndarray, support: np.ndarray) -> tuple[np.ndarray, ...]:
    """Precision, recall, F1 (each like `tp`) from counts, 0.0 where a denominator is 0."""
    return (
        _ratio(tp, predicted),
        _ratio(tp, support),
        _ratio(2 * tp, predicted + support),
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den elementwise as float64, 0.0 where den == 0."""
    out = np.zeros(len(num), dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _count(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """How often each of `ids` occurs in `values`: (L,) int64."""
    order = np.argsort(ids)
    sorted_ids = ids[order]
    pos = np.searchsorted(sorted_ids, values)  # (N,)
    pos_clipped = np.minimum(pos, len(ids) - 1)
    hit = (pos < len(ids)) & (sorted_ids[pos_clipped] == values)
    counts_sorted = np.bincount(pos[hit], minlength=len(ids))
    counts = np.empty(len(ids), dtype=np.int64)
    counts[order] = counts_sorted
    return counts


def _pair(pred: Any, gold: Any) -> tuple[np.ndarray, np.ndarray]:
    """`pred` and `gold` as (N,) int64 arrays of equal, non-zero length."""
    p, g = _as_ids(pred, "pred"), _as_ids(gold, "gold")
    if len(p) != len(g):
        raise ValueError(
            f"pred and gold differ in length: {len(p)} predictions, {len(g)} gold labels"
        )
    return p, g


def _as_ids(x: Any, name: str) -> np.ndarray:
    """A non-empty 1-D sequence of integer class ids as an int64 array; ValueError otherwise."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim != 1:
        hint = " (take .argmax(-1) of scores first)" if arr.ndim == 2 else ""
        raise ValueError(f"{name} must be 1-D class ids, got shape {arr.shape}{hint}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: metrics need at least one example")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_range(p: np.ndarray, g: np.ndarray, num_classes: int | None) -> int:
    """The number of classes C (inferred when None), after checking every id is in [0, C)."""
    low, high = int(min(p.min(), g.min())), int(max(p.max(), g.max()))
    if low < 0:
        raise ValueError(f"class ids must be >= 0, got {low}")
    if num_classes is None:
        return high + 1
    if (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or num_classes < 1
    ):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if high >= num_classes:
        raise ValueError(f"class id {high} is out of range for num_classes={num_classes}")
    return int(num_classes)
