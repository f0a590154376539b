"""Model weights as safetensors: `save_weights` / `load_weights`.

safetensors holds raw tensors and a JSON header, so loading a file can never run code (unlike
pickle). Parameters that share storage (tied embeddings) are stored once and restored into
every alias. Used by the trainer for checkpoints and best weights, and by `rnnlab.load`.

The header's metadata holds a SHA-256 of the tensors (`tensor_digest`, key "rnnlab.sha256"), so a
file whose bytes changed after it was written (a flipped bit, a block of zeros) is refused by
`read_tensors`, not loaded as wrong weights; files without it (written before) are read as
they are.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import _remove_duplicate_names, save_file

from rnnlab.train.files import CheckpointError, atomic_write, require_file

logger = logging.getLogger(__name__)

DIGEST_KEY = "rnnlab.sha256"  # header metadata: tensor_digest of the file's tensors


def save_weights(
    model: torch.nn.Module, path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Write `model.state_dict()` (parameters and buffers) to the safetensors `path`, atomically.

    `metadata` is an optional str -> str map stored in the file header, beside the tensors'
    digest (`DIGEST_KEY`). Tensors that share memory are written once, as
    `safetensors.torch.save_model` does (the names dropped map to the name kept).
    """
    state = model.state_dict()
    meta = dict(metadata or {})
    for kept, dropped in _remove_duplicate_names(state).items():
        for name in dropped:
            meta.setdefault(name, kept)
            del state[name]
    state = {k: v.contiguous() for k, v in state.items()}
    meta[DIGEST_KEY] = tensor_digest(state)
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=meta))
    logger.debug("saved weights to %s", path)


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """Hex SHA-256 of named tensors: each name, dtype, shape and raw bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach()
        digest.update(f"{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        digest.update(t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


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
    """All tensors of the safetensors file `path`, on CPU; CheckpointError if it is unreadable
    (not safetensors, truncated) or its tensors do not match the digest in its header."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            expected = (f.metadata() or {}).get(DIGEST_KEY)
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"cannot read {path}: not a valid safetensors file ({e})") from e
    if expected is not None and tensor_digest(tensors) != expected:
        raise CheckpointError(
            f"cannot read {path}: its tensors do not match the SHA-256 written with them "
            "(the file is corrupt)"
        )
    return tensors


def _alias(t: torch.Tensor) -> tuple:
    """A key equal for tensors that view the same memory the same way (tied weights)."""
    return (
        t.device,
        t.untyped_storage().data_ptr(),
        t.storage_offset(),
        tuple(t.shape),
        t.stride(),
    )
