"""The pictures of :mod:`rnnlab.inspect`, as PNG files written headless.

Matplotlib's object API on an Agg canvas (no pyplot, no display, no global state), as in
``rnnlab.train.plots``. Every function takes plain numbers (tensors or sequences), so the
measurements stay testable without a picture, and returns the path it wrote.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnlab.inspect.gate_activations import GateActivations

__all__ = [
    "Curve",
    "Panel",
    "plot_gates",
    "plot_gradient_flow",
    "plot_metric_vs_length",
    "plot_sensitivity",
]

CELL_COLORS = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}


@dataclass
class Curve:
    """One line: values at steps 1..T (or at ``x``), drawn in the colour of its cell."""

    label: str
    values: Sequence[float]
    color: str | None = None
    dashed: bool = False


@dataclass
class Panel:
    """One log-scale panel of :func:`plot_gradient_flow`, with an optional note in a corner."""

    title: str
    curves: list[Curve]
    note: str = ""
    ylabel: str = "||dL/dh_t|| (mean over the batch)"
    extra: list[str] = field(default_factory=list)  # lines of text under the note


def _figure(width: float, height: float, rows: int = 1, cols: int = 1, **kw):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False, **kw)
    return fig, axes


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path


def _color(label: str, given: str | None) -> str | None:
    return given or CELL_COLORS.get(label.split()[0].lower())


def plot_gradient_flow(panels: Sequence[Panel], path: str | os.PathLike) -> Path:
    """||dL/dh_t|| against the time step t, log scale, one panel per experiment, side by side."""
    fig, axes = _figure(6.0 * len(panels), 4.5, 1, len(panels))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.9, wspace=0.25)
    for ax, panel in zip(axes[0], panels, strict=True):
        for c in panel.curves:
            ys = [v if v > 0 and math.isfinite(v) else float("nan") for v in map(float, c.values)]
            ax.plot(range(1, len(ys) + 1), ys, label=c.label, color=_color(c.label, c.color),
                    linestyle="--" if c.dashed else "-", linewidth=1.8)  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel("time step t (the loss is at the last step)")
        ax.set_ylabel(panel.ylabel)
        ax.set_title(panel.title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        text = "\n".join([panel.note, *panel.extra]).strip()
        ax.legend(fontsize=8, loc="upper right" if text else "lower right")
        if text:
            ax.text(0.02, 0.02, text, transform=ax.transAxes, va="bottom", fontsize=8,
                    bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8})  # fmt: skip
    return _save(fig, path)


def plot_metric_vs_length(
    table: Mapping[str, Mapping[int, float]],
    path: str | os.PathLike,
    metric: str = "accuracy",
    chance: float | None = None,
    title: str = "",
) -> Path:
    """``table[cell][length]`` against the length (log scale), one line per cell."""
    fig, axes = _figure(6.5, 4.5)
    ax = axes[0][0]
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.12, top=0.9)
    lengths = sorted({n for row in table.values() for n in row})
    markers = "osD^v<>"
    for k, (cell, row) in enumerate(table.items()):
        xs = [n for n in lengths if n in row]
        # decreasing widths and marker sizes, so that lines lying on top of each other all show
        ax.plot(xs, [row[n] for n in xs], marker=markers[k % len(markers)], label=cell,
                color=_color(cell, None), linewidth=max(1.0, 4.0 - 1.2 * k),
                markersize=max(4.0, 10.0 - 2.5 * k), alpha=0.9)  # fmt: skip
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", label=f"chance ({chance:.3g})")
    ax.set_xscale("log")
    ax.set_xticks(lengths)
    ax.set_xticklabels([str(n) for n in lengths])
    ax.minorticks_off()
    ax.set_xlabel("length L (steps the answer depends on)")
    ax.set_ylabel(metric)
    if metric == "accuracy":
        ax.set_ylim(0, 1.04)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_sensitivity(
    maps: Mapping[str, torch.Tensor], path: str | os.PathLike, step: int = 0, floor: float = 1e-12
) -> Path:
    """Heatmaps of ``maps[label]`` (T, O) (units down, time across) on one log colour scale,
    and their per-step norms as lines below.

    Values below ``floor`` times the overall largest are drawn at that floor.
    """
    from matplotlib.colors import LogNorm

    n = len(maps)
    fig, axes = _figure(10, 2.2 * n + 2.6, n + 1, 1, height_ratios=[1.0] * n + [1.2])
    fig.subplots_adjust(left=0.08, right=0.9, bottom=0.08, top=0.95, hspace=0.45)
    top = max(float(m.max()) for m in maps.values()) or 1.0
    norm = LogNorm(vmin=top * floor, vmax=top)
    image = None
    for ax, (label, m) in zip(axes[:n, 0], maps.items(), strict=True):
        data = m.detach().t().clamp_min(top * floor).numpy()  # (O, T)
        image = ax.imshow(data, aspect="auto", cmap="magma", norm=norm, interpolation="nearest",
                          extent=(0.5, data.shape[1] + 0.5, data.shape[0] - 0.5, -0.5))  # fmt: skip
        ax.set_ylabel(f"{label}\nunit")
        ax.set_title(f"{label}: |d y_(t,unit) / d x_{step + 1}|", fontsize=9)
    cax = fig.add_axes((0.92, 0.35, 0.015, 0.55))
    fig.colorbar(image, cax=cax)
    ax = axes[n, 0]
    for label, m in maps.items():
        ys = [v if v > 0 else float("nan") for v in m.norm(dim=1).tolist()]
        ax.plot(range(1, len(ys) + 1), ys, label=label, color=_color(label, None))
    ax.set_yscale("log")
    ax.set_xlabel("output step t")
    ax.set_ylabel(f"||d y_t / d x_{step + 1}||")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_gates(acts: GateActivations, path: str | os.PathLike, units: int = 32) -> Path:
    """One heatmap per gate (and h_t): the first ``units`` units down, the tokens across."""
    panels = [*acts.gates.items(), ("hidden h_t", acts.hidden)]
    T = len(acts.tokens)
    height = 1.9 * len(panels) + 0.9
    fig, axes = _figure(max(6.0, 0.35 * T + 2.0), height, len(panels), 1)
    fig.subplots_adjust(left=0.1, right=0.9, bottom=0.7 / height, top=1 - 0.3 / height, hspace=0.5)
    for ax, (name, values) in zip(axes[:, 0], panels, strict=True):
        data = values[:, :units].t().numpy()  # (units, T)
        signed = name in ("candidate", "hidden h_t")  # tanh values in [-1, 1]
        image = ax.imshow(data, aspect="auto", interpolation="nearest",
                          cmap="RdBu_r" if signed else "viridis",
                          vmin=-1.0 if signed else 0.0, vmax=1.0)  # fmt: skip
        ax.set_title(f"{acts.cell.upper()} {name} (layer {acts.layer}, direction "
                     f"{acts.direction})", fontsize=9)  # fmt: skip
        ax.set_ylabel("unit")
        ax.set_xticks(range(T))
        ax.set_xticklabels(acts.tokens if ax is axes[-1, 0] else [], rotation=60, fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    return _save(fig, path)
