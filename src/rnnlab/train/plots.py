"""The learning-curve picture: train loss and dev metrics against the epoch, as a PNG.

Draws with matplotlib's object API on an Agg canvas (no pyplot, no display, no global state),
so it works headless and inside threads.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

from rnnlab.train.files import atomic_write


def plot_learning_curve(
    history: Sequence[dict[str, Any]], path: str | os.PathLike, monitor: str | None = None
) -> None:
    """Write the learning curve of `history` (metrics-log records) to the PNG `path`, atomically.

    Left panel: train loss and dev loss (when present) per epoch. Right panel, when there are dev
    metrics other than the loss: each of them. The epoch with `"best": true` is marked on both.
    `monitor` (a dev metric name) is drawn bold.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in history]
    other = sorted({k for r in history for k in r if k.startswith("dev_") and k != "dev_loss"})
    fig = Figure(figsize=(10 if other else 5.5, 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2 if other else 1, squeeze=False)[0]
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.95, wspace=0.25)
    _line(axes[0], history, epochs, "train_loss", "train loss", bold=False)
    _line(axes[0], history, epochs, "dev_loss", "dev loss", bold=monitor == "loss")
    axes[0].set_ylabel("loss")
    for key in other:
        _line(axes[1], history, epochs, key, key[4:], bold=monitor == key[4:])
    if other:
        axes[1].set_ylabel("dev metric")
    best = [r["epoch"] for r in history if r.get("best")]
    for ax in axes:
        if best:
            ax.axvline(best[-1], color="grey", linestyle=":", label=f"best (epoch {best[-1]})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    atomic_write(path, lambda tmp: tmp.write_bytes(buf.getvalue()))


def _line(ax: Any, history: Sequence[dict], epochs: list, key: str, label: str, bold: bool) -> None:
    """Plot `key` against the epoch, skipping records that lack it."""
    points = [(e, r[key]) for e, r in zip(epochs, history, strict=True) if r.get(key) is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=2.5 if bold else 1.5, label=label)
