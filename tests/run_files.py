"""Reading a training run's directory in tests: the checkpoint's weights, the metrics log."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rnnlab.train.weights import read_tensors


def current_weights(out: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's latest (not best) weights (a stream LM's carried state among them)."""
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    return read_tensors(out / "checkpoint" / state["files"]["model"]["name"])


def records(out: Path) -> list[dict]:
    """metrics.jsonl's records without their wall-clock ``time``."""
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in lines]
