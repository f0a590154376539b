"""Model weights as safetensors: `save_weights` / `load_weights`.

safetensors holds raw tensors and a JSON header, so loading a file can never run code (unlike
pickle). Parameters that share storage (tied embeddings) are stored once and restored into
every alias. Used by the trainer for checkpoints and best weights, and by `rnnlab.load`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_model

from rnnlab.train.files import CheckpointError, atomic_write, require_file

logger = logging.getLogger(__name__)


def save_weights(
    model: torch.nn.Module, path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Write `model.state_dict()` (parameters and buffers) to the safetensors `path`, atomically.

    `metadata` is an optional str -> str map stored in the file header.
    """
    atomic_write(path, lambda tmp: save_model(model, str(tmp), metadata=metadata))
    logger.debug("saved weights to %s", path)


def load_weights(model: torch.nn.Module, path: str | os.PathLike) -> torch.nn.Module:
    """Load the safetensors file `path` into `model` in place (onto its current devices); return it.

    All or nothing: the file is checked against the model first, and a missing key, an unexpected
    key or a shape mismatch raises `CheckpointError` naming the file and the keys, leaving the
    model untouched. A missing file raises FileNotFoundError; an unreadable one CheckpointError.
    """
    path = require_file(path, "weights file")
    state = read_tensors(path)
    own = model.state_dict()
    problems = []
    unexpected = sorted(set(state) - set(own))
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    loaded_storage = {_alias(own[k]) for k in state if k in own}
    missing = sorted(k for k in own if k not in state and _alias(own[k]) not in loaded_storage)
    if missing:
        problems.append(f"missing keys {missing}")
    for k in sorted(set(state) & set(own)):
        if state[k].shape != own[k].shape:
            problems.append(
                f"{k}: shape {tuple(state[k].shape)} in file, {tuple(own[k].shape)} in model"
            )
    if problems:
        raise CheckpointError(
            f"weights in {path} do not fit {type(model).__name__}: " + "; ".join(problems)
        )
    model.load_state_dict(state, strict=False)
    logger.debug("loaded weights from %s", path)
    return model


def read_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """All tensors of the safetensors file `path`, on CPU; CheckpointError if it is unreadable."""
    path = Path(path)
    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"cannot read {path}: not a valid safetensors file ({e})") from e


def _alias(t: torch.Tensor) -> tuple:
    """A key equal for tensors that view the same memory the same way (tied weights)."""
    return (
        t.device,
        t.untyped_storage().data_ptr(),
        t.storage_offset(),
        tuple(t.shape),
        t.stride(),
    )
