"""The attention of a translation as a heatmap (PNG, headless): one row per output token, one
column per source token, darker where the decoder looked when it wrote that token.

Matplotlib's object API on an Agg canvas, as the other pictures of :mod:`rnnlab.inspect`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

__all__ = ["plot_attention"]


def plot_attention(
    weights: torch.Tensor | Sequence[Sequence[float]],
    src_tokens: Sequence[str],
    out_tokens: Sequence[str],
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Draw ``weights`` (len(out_tokens), len(src_tokens)), each row summing to 1, as a heatmap.

    Returns:
        The path written.

    Raises:
        ValueError: the shape of ``weights`` does not fit the token lists.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w = torch.as_tensor(weights, dtype=torch.float32).cpu()  # (T_out, S)
    if w.dim() != 2 or tuple(w.shape) != (len(out_tokens), len(src_tokens)):
        raise ValueError(
            f"weights of shape {tuple(w.shape)} for {len(out_tokens)} output and "
            f"{len(src_tokens)} source tokens"
        )
    fig = Figure(figsize=(1.0 + 0.45 * len(src_tokens), 1.0 + 0.4 * len(out_tokens)))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    image = ax.imshow(w.numpy(), cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(src_tokens)), list(src_tokens), rotation=60, ha="right")
    ax.set_yticks(range(len(out_tokens)), list(out_tokens))
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.04, label="attention")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
