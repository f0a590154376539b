"""A piano roll as a picture: time across, the 88 keys up, the primed steps shaded."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from rnnlab.inspect.plots import _figure, _save

__all__ = ["plot_piano_roll"]

LOWEST_PITCH = 21  # A0, the roll's key 0


def plot_piano_roll(roll: torch.Tensor, path: str | os.PathLike, steps_per_quarter: int = 1,
                    prime_steps: int = 0, title: str = "") -> Path:  # fmt: skip
    """Draw ``roll`` (T, 88) (key k = MIDI pitch 21 + k), only the pitch range it uses (with a
    margin), bar lines every 4 quarter notes, the first ``prime_steps`` shaded. Returns the
    PNG's path."""
    roll = roll.detach().float().cpu()
    if roll.dim() != 2 or roll.shape[1] != 88:
        raise ValueError(f"roll must be (T, 88), got {tuple(roll.shape)}")
    T = roll.shape[0]
    used = roll.any(0).nonzero().flatten()
    lo, hi = (int(used.min()) - 2, int(used.max()) + 3) if len(used) else (27, 61)
    lo, hi = max(lo, 0), min(hi, 88)
    fig, axes = _figure(max(6.0, min(20.0, 0.12 * T + 2.0)), 4.5)
    ax = axes[0, 0]
    ax.imshow(roll[:, lo:hi].t().numpy(), origin="lower", aspect="auto", cmap="Greys",
              interpolation="nearest", extent=(0, T, LOWEST_PITCH + lo - 0.5,
                                               LOWEST_PITCH + hi - 0.5))  # fmt: skip
    bar = 4 * steps_per_quarter
    for t in range(bar, T, bar):
        ax.axvline(t, color="tab:blue", lw=0.4, alpha=0.5)
    if prime_steps:
        ax.axvspan(0, prime_steps, color="tab:orange", alpha=0.15, label="prime")
        ax.legend(loc="upper right", fontsize=8)
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    ticks = [p for p in range(LOWEST_PITCH + lo, LOWEST_PITCH + hi) if p % 12 == 0]
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"{names[p % 12]}{p // 12 - 1}" for p in ticks])
    ax.set_xlabel(f"step ({steps_per_quarter} per quarter note; bar lines every 4 quarters)")
    ax.set_ylabel("pitch")
    ax.set_title(title or "piano roll", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
