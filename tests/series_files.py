"""Series for the series-classification tests: a ``.ts`` writer and a generated task that only a
model reading the values in order can solve (which of three frequencies a noisy sine has)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

FREQUENCIES = (0.25, 0.8, 1.6)  # radians per step, one per class
CLASSES = ("slow", "mid", "fast")


def write_ts(path: Path, series: Sequence[np.ndarray], labels: Sequence[str] | None,
             classes: Sequence[str] = CLASSES, name: str = "Waves") -> Path:  # fmt: skip
    """A UEA ``.ts`` file of ``series`` ((T_i, C) arrays, NaN written as '?'), labelled with
    ``labels`` (None: ``@classLabel false``)."""
    lengths = {len(s) for s in series}
    missing = any(np.isnan(s).any() for s in series)
    head = [f"@problemName {name}", "@timeStamps false", f"@missing {str(missing).lower()}",
            f"@univariate {str(series[0].shape[1] == 1).lower()}",
            f"@dimensions {series[0].shape[1]}",
            f"@equalLength {str(len(lengths) == 1).lower()}"]  # fmt: skip
    if len(lengths) == 1:
        head.append(f"@seriesLength {lengths.pop()}")
    head.append("@classLabel " + ("false" if labels is None else "true " + " ".join(classes)))
    head.append("@data")
    rows = []
    for i, s in enumerate(series):
        chans = [",".join("?" if np.isnan(v) else repr(float(v)) for v in s[:, c])
                 for c in range(s.shape[1])]  # fmt: skip
        rows.append(":".join(chans + ([] if labels is None else [labels[i]])))
    path.write_text("\n".join(head + rows) + "\n", encoding="utf-8")
    return path


def waves(n: int, seed: int, min_len: int = 10, max_len: int = 30,
          offset: float = 5.0) -> tuple[list[np.ndarray], list[str]]:  # fmt: skip
    """``n`` series of 2 channels (sin and cos of one frequency, random phase and amplitude,
    noise 0.1, plus ``offset`` so that normalisation matters), balanced over the classes."""
    rng = np.random.default_rng(seed)
    series, labels = [], []
    for i in range(n):
        k = i % len(FREQUENCIES)
        T = int(rng.integers(min_len, max_len + 1))
        t = np.arange(T)
        phase, amp = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 2.0)
        x = np.stack([np.sin(FREQUENCIES[k] * t + phase), np.cos(FREQUENCIES[k] * t + phase)], 1)
        series.append(offset + amp * x + 0.1 * rng.standard_normal((T, 2)))
        labels.append(CLASSES[k])
    return series, labels
