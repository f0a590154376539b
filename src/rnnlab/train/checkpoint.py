"""The trainer's checkpoint: everything needed to continue a stopped run exactly.

Layout of `out_dir/checkpoint/`:

    state.json               the commit record: `TrainerState`, the config, and the name and
                             SHA-256 of each file below; written last, atomically
    model-<tag>.safetensors  current (not best) weights              -> `save_weights`
    optimizer-<tag>.pt       optimizer.state_dict(), torch.save; read back with weights_only=True
    rng-<tag>.safetensors    every generator's state after the last step  -> `save_rng`

Each save writes fresh `<tag>` files and then replaces state.json, so a run killed at any moment
leaves the previous checkpoint whole; files no longer named by state.json are deleted afterwards.
Nothing here unpickles arbitrary objects: weights and RNG states are safetensors, the state is
JSON, and the optimizer file is loaded with `torch.load(..., weights_only=True)`.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from rnnlab.train.files import (
    CheckpointError,
    atomic_write,
    atomic_write_text,
    require_file,
    sha256_file,
)
from rnnlab.train.rng import RngState, load_rng, save_rng
from rnnlab.train.weights import load_weights, save_weights

logger = logging.getLogger(__name__)

FORMAT = 1
STATE_FILE = "state.json"


@dataclass
class TrainerState:
    """The loop's bookkeeping, JSON-able. Epochs and steps count from 0."""

    epoch: int = 0  # epochs completed; the current epoch is `epoch`
    step_in_epoch: int = 0  # optimizer steps done in the current, unfinished epoch
    global_step: int = 0  # optimizer steps done in the whole run
    loss_sum: float = 0.0  # sum of the batch losses of the current epoch so far
    elapsed: float = 0.0  # seconds spent in the current epoch so far
    best_value: float | None = None  # best monitored value so far
    best_epoch: int | None = None  # 1-based epoch that reached it
    bad_epochs: int = 0  # epochs since the last improvement
    early_stopped: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per finished epoch


def save_checkpoint(
    directory: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: TrainerState,
    rng: RngState,
    config: dict[str, Any],
) -> None:
    """Write a complete checkpoint to `directory` (see the module docstring for the layout)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tag = f"{state.global_step:09d}-{uuid.uuid4().hex[:8]}"
    names = {
        "model": f"model-{tag}.safetensors",
        "optimizer": f"optimizer-{tag}.pt",
        "rng": f"rng-{tag}.safetensors",
    }
    save_weights(model, directory / names["model"])
    atomic_write(
        directory / names["optimizer"], lambda tmp: torch.save(optimizer.state_dict(), tmp)
    )
    save_rng(rng, directory / names["rng"])
    record = {
        "format": FORMAT,
        "state": asdict(state),
        "config": config,
        "files": {k: {"name": v, "sha256": sha256_file(directory / v)} for k, v in names.items()},
    }
    atomic_write_text(directory / STATE_FILE, json.dumps(record, indent=1) + "\n")
    _remove_stale(directory, keep=set(names.values()) | {STATE_FILE})
    logger.debug(
        "checkpoint saved to %s (epoch %d, step %d)", directory, state.epoch, state.step_in_epoch
    )


def discard_checkpoint(directory: str | os.PathLike) -> None:
    """Delete the checkpoint in `directory`, its commit record (state.json) first: a run started
    afresh there must not leave the previous run's checkpoint for a later resume to pair with
    its own new weights (if it is killed before its first checkpoint)."""
    directory = Path(directory)
    (directory / STATE_FILE).unlink(missing_ok=True)
    if directory.is_dir():
        _remove_stale(directory, keep=set())


def has_checkpoint(directory: str | os.PathLike) -> bool:
    """Whether `directory` holds a checkpoint's commit record."""
    return (Path(directory) / STATE_FILE).is_file()


def load_checkpoint(
    directory: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
) -> tuple[TrainerState, RngState, dict[str, Any]]:
    """Restore `model` and `optimizer` in place from `directory`; return (state, rng, config).

    MissingFileError (a FileNotFoundError) if state.json or a file it names is missing;
    CheckpointError naming the file if anything is corrupt (bad JSON, checksum mismatch,
    unreadable tensors, wrong shapes).
    """
    directory = Path(directory)
    state_path = require_file(
        directory / STATE_FILE,
        "checkpoint to resume (a run writes one after each epoch and on Ctrl-C; "
        "without one, start without resuming)",
    )
    try:
        record = json.loads(state_path.read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            raise ValueError(f"unknown format {record.get('format')!r}, expected {FORMAT}")
        known = {f.name for f in fields(TrainerState)}
        state = TrainerState(**{k: v for k, v in record["state"].items() if k in known})
        files = {k: directory / record["files"][k]["name"] for k in ("model", "optimizer", "rng")}
        digests = {k: record["files"][k]["sha256"] for k in files}
        config = record.get("config", {})
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"corrupt checkpoint state {state_path}: {e}") from e
    for key, path in files.items():
        require_file(path, f"checkpoint {key} file (named in {state_path})")
        if sha256_file(path) != digests[key]:
            raise CheckpointError(
                f"corrupt checkpoint file {path}: its SHA-256 does not match {state_path}"
            )
    load_weights(model, files["model"])
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        optimizer.load_state_dict(
            torch.load(files["optimizer"], map_location=device, weights_only=True)
        )
    except pickle.UnpicklingError as e:  # torch's message suggests weights_only=False: never
        raise CheckpointError(
            f"refused the optimizer state {files['optimizer']}: it holds objects other than "
            "tensors and plain data (a pickle that could run code when loaded), so it was not "
            "loaded"
        ) from e
    except (RuntimeError, ValueError, KeyError, EOFError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"cannot restore the optimizer from {files['optimizer']}: {first}"
        ) from e
    rng = load_rng(files["rng"])
    return state, rng, config


def _remove_stale(directory: Path, keep: set[str]) -> None:
    """Delete checkpoint files of earlier saves (and temp files of interrupted ones)."""
    for path in directory.iterdir():
        if path.name in keep or not path.is_file():
            continue
        if path.name.startswith((".", "model-", "optimizer-", "rng-")):
            path.unlink(missing_ok=True)
