"""One recording as a person looks at it: the waveform, its log-mel spectrogram, and what a
speech model makes of it over time (CTC posteriors, or the class probabilities)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from rnnlab.inspect.plots import _figure, _save

__all__ = ["plot_speech"]


def plot_speech(
    wave: torch.Tensor,
    sample_rate: int,
    log_mel: torch.Tensor,
    hop_seconds: float,
    posteriors: torch.Tensor,
    symbols: Sequence[str],
    path: str | os.PathLike,
    title: str = "",
    frame_seconds: float | None = None,
) -> Path:
    """Three panels sharing the time axis: waveform, log-mel spectrogram, posteriors.

    Args:
        wave: (N,) samples at ``sample_rate``.
        log_mel: (T, F) log-mel frames every ``hop_seconds``.
        posteriors: (T', V) per-frame probabilities of ``symbols`` (V names: a CTC model's blank
            first), one frame every ``frame_seconds`` (default ``hop_seconds``); or (C,) class
            probabilities of a many-to-one model, drawn as bars.
        path: the PNG to write. Returns it.
    """
    wave, log_mel, posteriors = wave.detach().cpu(), log_mel.detach().cpu(), posteriors.cpu()
    if posteriors.shape[-1] != len(symbols):
        raise ValueError(f"{posteriors.shape[-1]} posterior columns for {len(symbols)} symbols")
    fig, axes = _figure(10.0, 8.0, 3, 1)
    duration = len(wave) / sample_rate
    t = torch.arange(len(wave)) / sample_rate
    ax = axes[0, 0]
    ax.plot(t.numpy(), wave.numpy(), lw=0.5, color="tab:blue")
    ax.set_xlim(0, duration)
    ax.set_ylabel("amplitude")
    ax.set_title(title or "waveform", fontsize=10)
    ax = axes[1, 0]
    T = log_mel.shape[0]
    image = ax.imshow(log_mel.t().numpy(), origin="lower", aspect="auto", cmap="magma",
                      extent=(0, T * hop_seconds, 0, log_mel.shape[1]))  # fmt: skip
    ax.set_xlim(0, duration)
    ax.set_ylabel("mel band")
    ax.set_title("log-mel spectrogram", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, location="right")
    ax = axes[2, 0]
    if posteriors.dim() == 2:
        step = frame_seconds or hop_seconds
        times = (torch.arange(posteriors.shape[0]) + 0.5) * step
        for v, name in enumerate(symbols):
            p = posteriors[:, v]
            if v == 0 and name.startswith("<"):  # the blank: dashed grey
                ax.plot(times.numpy(), p.numpy(), color="0.6", ls="--", lw=1, label=name)
            elif float(p.max()) > 0.2:  # symbols that ever matter get a line and a label
                ax.plot(times.numpy(), p.numpy(), lw=1.5, label=name)
                k = int(p.argmax())
                ax.annotate(name, (float(times[k]), float(p[k])), fontsize=9, ha="center",
                            va="bottom")  # fmt: skip
        ax.set_xlim(0, duration)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("P(symbol | frame)")
        ax.set_title("CTC posteriors", fontsize=10)
        ax.legend(fontsize=7, ncol=6, loc="upper right")
    else:
        ax.bar(range(len(symbols)), posteriors.numpy(), color="tab:blue")
        ax.set_xticks(range(len(symbols)))
        ax.set_xticklabels(symbols)
        ax.set_ylabel("P(class | recording)")
        ax.set_title("class probabilities", fontsize=10)
    ax.set_ylim(0, 1.05)
    fig.tight_layout()
    return _save(fig, path)
