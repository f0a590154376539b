"""A forecast as a picture: the history before the origin, the truth after it (when known), the
point forecast and its prediction interval as a band, the seasonal-naive forecast dashed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rnnlab.data.timeseries import parse_time
from rnnlab.inspect.plots import _figure, _save

__all__ = ["plot_forecast"]


def _x(dates: Sequence[str]) -> list:
    """Dates as datetimes for the axis if they all parse, else their positions."""
    times = [parse_time(d) for d in dates]
    return times if all(t is not None for t in times) else list(range(len(dates)))


def plot_forecast(path: str | os.PathLike, history_dates: Sequence[str],
                  history: Sequence[float], dates: Sequence[str], point: Sequence[float],
                  lo: Sequence[float] | None = None, hi: Sequence[float] | None = None,
                  truth: Sequence[float] | None = None, naive: Sequence[float] | None = None,
                  coverage: float = 0.8, title: str = "", ylabel: str = "") -> Path:  # fmt: skip
    """Draw history (T,) at history_dates (T,), then point (H,) at dates (H,) with the band
    lo..hi (H,) labelled by its coverage, the truth (<= H,) and the seasonal-naive forecast
    (H,) if given. Returns the PNG's path."""
    n = len(point)
    if len(dates) != n or any(v is not None and len(v) != n for v in (lo, hi, naive)):
        raise ValueError(f"dates, point, lo, hi and naive must all have {n} entries")
    if len(history) != len(history_dates):
        raise ValueError("history and history_dates differ in length")
    x = _x([*history_dates, *dates])
    xh, xf = x[: len(history)], x[len(history) :]
    fig, axes = _figure(10.0, 4.5)
    ax = axes[0, 0]
    ax.plot(xh, list(history), color="black", lw=1.2, label="history")
    if truth is not None and len(truth):
        ax.plot(xf[: len(truth)], list(truth), color="tab:green", lw=1.2, label="truth")
    if lo is not None and hi is not None:
        ax.fill_between(xf, list(lo), list(hi), color="tab:blue", alpha=0.2, lw=0,
                        label=f"{coverage:.0%} interval")  # fmt: skip
    ax.plot(xf, list(point), color="tab:blue", lw=1.6, label="forecast")
    if naive is not None:
        ax.plot(xf, list(naive), color="tab:orange", lw=1.0, ls="--", label="seasonal naive")
    if xh:
        ax.axvline(xh[-1], color="grey", lw=0.8, ls=":")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _save(fig, path)
