"""A confusion matrix as a picture: gold classes down, predicted classes across."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnlab.inspect.plots import _figure, _save

__all__ = ["plot_confusion_matrix"]


def plot_confusion_matrix(
    confusion: np.ndarray, names: Sequence[str], path: str | os.PathLike, title: str = ""
) -> Path:
    """Draw ``confusion`` (C, C), rows gold and columns predicted (as
    :func:`rnnlab.metrics.confusion_matrix` gives it), each cell coloured by its share of the
    row (the recall of that gold class) and labelled with its count. Returns the PNG's path.

    Raises:
        ValueError: ``confusion`` is not square or does not have one name per class.
    """
    m = np.asarray(confusion)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(names):
        raise ValueError(f"need a (C, C) matrix and C names, got {m.shape} and {len(names)}")
    C = m.shape[0]
    rows = m.sum(1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros(m.shape, dtype=float), where=rows > 0)  # (C, C)
    side = max(4.0, 0.45 * C + 2.0)
    fig, axes = _figure(side + 0.8, side)
    ax = axes[0, 0]
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    for i in range(C):
        for j in range(C):
            if m[i, j]:
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")  # fmt: skip
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xticklabels(names, rotation=60 if max(map(len, names)) > 2 else 0, fontsize=8)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    total = int(m.sum())
    acc = float(np.trace(m)) / total if total else 0.0
    ax.set_title(f"{title}{': ' if title else ''}accuracy {acc:.4f} ({total:,} examples)",
                 fontsize=10)  # fmt: skip
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the gold row")
    fig.tight_layout()
    return _save(fig, path)
