"""Where a captioner looked for each word: the image, then one panel per generated token with the
attention weights alpha_t (G x G over the CNN's grid) upsampled to the image and laid over it,
as in Xu et al. (2015), figure 2 (PNG, headless).

Matplotlib's object API on an Agg canvas, as the other pictures of :mod:`rnnlab.inspect`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import torch

__all__ = ["attention_maps", "plot_caption_attention"]


def attention_maps(attention: torch.Tensor, size: int) -> torch.Tensor:
    """Attention grids (T, G, G) -> (T, size, size), bilinear, each map scaled to a maximum of
    1 (the picture shows where, not how sharply, the model looked)."""
    a = torch.as_tensor(attention, dtype=torch.float32).cpu()
    if a.dim() != 3 or a.shape[1] != a.shape[2]:
        raise ValueError(f"attention must be (T, G, G), got shape {tuple(a.shape)}")
    up = torch.nn.functional.interpolate(a.unsqueeze(1), size=(size, size), mode="bilinear",
                                         align_corners=False).squeeze(1)  # fmt: skip
    peak = up.flatten(1).max(dim=1).values.clamp_min(1e-12)  # (T,)
    return up / peak.view(-1, 1, 1)


def plot_caption_attention(
    image: torch.Tensor,
    attention: torch.Tensor,
    tokens: Sequence[str],
    path: str | os.PathLike,
    title: str = "",
    columns: int = 5,
) -> Path:
    """Draw ``image`` (3, S, S) uint8 and, for each of ``tokens``, its attention (T, G, G)
    over the image.

    Returns:
        The path written.

    Raises:
        ValueError: ``attention`` does not have one map per token, or the image is not
            (3, S, S).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    img = torch.as_tensor(image)
    if img.dim() != 3 or img.shape[0] != 3:
        raise ValueError(f"image must be (3, S, S), got shape {tuple(img.shape)}")
    if len(tokens) != attention.shape[0]:
        raise ValueError(f"{attention.shape[0]} attention maps for {len(tokens)} tokens")
    S = img.shape[1]
    maps = attention_maps(attention, S).numpy()  # (T, S, S)
    pixels = img.permute(1, 2, 0).cpu().numpy()  # (S, S, 3)
    panels = len(tokens) + 1
    cols = min(columns, panels)
    rows = math.ceil(panels / cols)
    fig = Figure(figsize=(2.0 * cols, 2.15 * rows + (0.4 if title else 0)))
    FigureCanvasAgg(fig)
    for k in range(rows * cols):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.set_axis_off()
        if k >= panels:
            continue
        ax.imshow(pixels)
        if k == 0:
            ax.set_title("image", fontsize=9)
            continue
        ax.imshow(maps[k - 1], cmap="gray", alpha=0.65, vmin=0.0, vmax=1.0)
        ax.set_title(tokens[k - 1], fontsize=10)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
