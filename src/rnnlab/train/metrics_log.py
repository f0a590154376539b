"""The metrics log: one JSON object per finished epoch in `out_dir/metrics.jsonl`.

A record reads like
    {"epoch": 3, "step": 282, "lr": 0.001, "time": 4.1, "train_loss": 0.52,
     "dev_loss": 0.48, "dev_accuracy": 0.81, "best": true}
(`dev_*` are the dev metrics of `model.evaluate`, prefixed; `time` is the epoch's seconds).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rnnlab.train.files import atomic_write_text


def append_record(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append one record as a JSON line to `path` (created if missing)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def write_records(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> None:
    """Replace `path` atomically with one JSON line per record (used on resume)."""
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in records))


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a metrics log, in order; ValueError naming the file and line if one is bad."""
    records = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{i}: not a JSON record ({e})") from e
    return records
