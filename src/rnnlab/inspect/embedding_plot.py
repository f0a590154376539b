"""Chosen words' vectors drawn in two dimensions: PCA, or t-SNE where scikit-learn is present.

Symbols: W chosen words, D dimensions. PCA projects the centred (W, D) vectors on their two
leading right singular vectors (X - mean = U S V^T, coordinates = (X - mean) V[:, :2]), so
straight lines stay straight: man -> woman and king -> queen come out as near-parallel arrows
when the vectors hold the analogy. t-SNE (scikit-learn's, perplexity min(30, (W - 1) / 3)) keeps
neighbourhoods instead, and draws no arrows. Pairs given with ``pairs`` are joined by arrows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnlab.errors import InputError
from rnnlab.inspect.plots import _figure, _save

__all__ = ["PROJECTIONS", "plot_embeddings", "project"]

PROJECTIONS = ("pca", "tsne")


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(W, 2) coordinates of ``vectors`` (W, D), W >= 2 (t-SNE: W >= 4).

    Raises:
        InputError: too few words, an unknown method, or t-SNE without scikit-learn.
    """
    X = np.asarray(vectors, dtype=np.float64)  # (W, D)
    W = X.shape[0]
    if method not in PROJECTIONS:
        raise InputError(f"method must be one of {', '.join(PROJECTIONS)}, got {method!r}")
    if W < (4 if method == "tsne" else 2):
        raise InputError(f"{W} words are too few to draw with {method}: give more --words")
    if method == "tsne":
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            raise InputError("t-SNE needs scikit-learn (pip install scikit-learn); "
                             "--method pca works without it") from None  # fmt: skip
        perplexity = min(30.0, (W - 1) / 3.0)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(X)
    centred = X - X.mean(0, keepdims=True)  # (W, D)
    # X - mean = U S V^T; the coordinates are (X - mean) V[:, :2]
    _, _, vt = np.linalg.svd(centred, full_matrices=False)  # vt (min(W, D), D)
    coords = centred @ vt[:2].T  # (W, <=2)
    if coords.shape[1] < 2:  # D == 1
        coords = np.concatenate([coords, np.zeros((W, 1))], 1)
    return coords


def plot_embeddings(
    words: Sequence[str],
    vectors: np.ndarray,
    path: str | os.PathLike,
    method: str = "pca",
    pairs: Sequence[tuple[str, str]] = (),
    title: str = "",
    seed: int = 0,
) -> Path:
    """Draw ``words`` at the 2-D projection of their ``vectors`` (W, D), each labelled, with an
    arrow for each (from, to) of ``pairs`` (PCA only); returns the PNG's path."""
    coords = project(vectors, method, seed)  # (W, 2)
    at = {w: coords[i] for i, w in enumerate(words)}
    fig, axes = _figure(7.0, 6.0)
    ax = axes[0, 0]
    ax.scatter(coords[:, 0], coords[:, 1], s=18, color="tab:blue")
    for w, (x, y) in zip(words, coords, strict=True):
        ax.annotate(w, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=10)
    arrow = {"arrowstyle": "->", "color": "tab:red", "lw": 1.2}
    for a, b in pairs if method == "pca" else ():
        if a in at and b in at:
            ax.annotate("", xy=at[b], xytext=at[a], arrowprops=arrow)
    ax.set_title(title or f"{len(words)} words, {method.upper()} of their vectors")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return _save(fig, path)
