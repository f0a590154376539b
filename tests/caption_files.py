"""Generated captioning data for the tests: coloured shapes on a dark background, each captioned
with what it shows ("a red square"), and a folder of such images with a captions.txt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (50, 80, 230)}
SHAPES = ("square", "bar", "pole")


def draw(colour: str, shape: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One (size, size, 3) uint8 image: ``shape`` in ``colour`` at a random place and scale."""
    img = np.full((size, size, 3), 20, dtype=np.uint8)
    img += rng.integers(0, 15, img.shape, dtype=np.uint8)  # a little noise
    r = int(rng.integers(size // 5, size // 3 + 1))  # half the side
    cy, cx = (int(v) for v in rng.integers(r, size - r, 2))
    yy, xx = np.mgrid[:size, :size]
    if shape == "square":
        mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
    elif shape == "bar":  # thin and horizontal
        mask = (abs(yy - cy) <= max(1, r // 3)) & (abs(xx - cx) <= r)
    else:  # a pole: thin and vertical
        mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= max(1, r // 3))
    img[mask] = COLOURS[colour]
    return img


def shapes(n: int, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, list[list[str]]]:
    """``n`` images (n, 3, size, size) uint8, cycling through every colour and shape, and their
    captions (two wordings each: "a red square", "a red square on black")."""
    rng = np.random.default_rng(seed)
    kinds = [(c, s) for c in COLOURS for s in SHAPES]
    images, captions = [], []
    for i in range(n):
        colour, shape = kinds[i % len(kinds)]
        images.append(draw(colour, shape, size, rng))
        captions.append([f"a {colour} {shape}", f"a {colour} {shape} on black ."])
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(), captions


def write_folder(root: Path, n: int, size: int = 16, seed: int = 0) -> Path:
    """``n`` shape images as PNG files in ``root`` and their ``captions.txt``; returns ``root``."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    images, captions = shapes(n, size, seed)
    lines = []
    for i, (img, caps) in enumerate(zip(images, captions, strict=True)):
        name = f"shape_{i:03d}.png"
        Image.fromarray(img.permute(1, 2, 0).numpy()).save(root / name)
        lines += [f"{name}#{k}\t{c}" for k, c in enumerate(caps)]
    (root / "captions.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
