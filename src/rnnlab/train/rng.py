"""Seeding and the random-number state of a run: Python's `random`, NumPy's and torch's (CPU, CUDA).

A run is reproducible because (1) every epoch starts from `epoch_seed(seed, epoch)` in all
generators, so an epoch's shuffling and dropout do not depend on how many numbers earlier epochs
or evaluations drew, and (2) a mid-epoch checkpoint stores the exact generator states after its
last step (`capture_rng`), written as tensors in a safetensors file so loading runs no code.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from rnnlab.train.files import CheckpointError, atomic_write, require_file
from rnnlab.train.weights import read_tensors


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A 32-bit seed for epoch `epoch` (0-based) of a run seeded with `seed`.

    `stream` tells independent uses apart (0: training, 1: the dev loader's own generator).
    Mixed with NumPy's SeedSequence rather than `seed + epoch`, so (seed 0, epoch 1) and
    (seed 1, epoch 0) do not share their randomness.
    """
    entropy = [seed, epoch, stream]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


@dataclass
class RngState:
    """A snapshot of every global generator.

    torch_cpu: (5056,) uint8, torch.get_rng_state(); cuda: one uint8 state per CUDA device;
    numpy: np.random.get_state() (a ('MT19937', (624,) uint32, pos, has_gauss, gauss) tuple);
    python: random.getstate() (version, 625 ints, gauss_next).
    """

    torch_cpu: torch.Tensor
    cuda: list[torch.Tensor]
    numpy: tuple
    python: tuple


def capture_rng() -> RngState:
    """The current state of every global generator."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []
    return RngState(torch.get_rng_state(), cuda, np.random.get_state(), random.getstate())


def restore_rng(state: RngState) -> None:
    """Put every global generator back in `state`."""
    torch.set_rng_state(state.torch_cpu)
    if state.cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state.cuda)
    np.random.set_state(state.numpy)
    random.setstate(state.python)


def save_rng(state: RngState, path: str | os.PathLike) -> None:
    """Write `state` to the safetensors file `path` atomically (tensors + JSON in the header)."""
    name, keys, pos, has_gauss, gauss = state.numpy
    version, internal, gauss_next = state.python
    tensors = {
        "torch_cpu": state.torch_cpu.contiguous(),
        "numpy_keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "python_internal": torch.tensor(internal, dtype=torch.int64),
    }
    for i, s in enumerate(state.cuda):
        tensors[f"cuda.{i}"] = s.contiguous()
    meta = {
        "numpy": json.dumps({"name": name, "pos": pos, "has_gauss": has_gauss, "gauss": gauss}),
        "python": json.dumps({"version": version, "gauss_next": gauss_next}),
        "cuda_devices": str(len(state.cuda)),
    }
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def load_rng(path: str | os.PathLike) -> RngState:
    """Read an `RngState` written by `save_rng`; CheckpointError naming the file if it is bad."""
    path = require_file(path, "RNG state file")
    tensors = read_tensors(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        np_meta = json.loads(meta["numpy"])
        py_meta = json.loads(meta["python"])
        n_cuda = int(meta["cuda_devices"])
        numpy_state = (
            np_meta["name"],
            tensors["numpy_keys"].numpy().astype(np.uint32),
            int(np_meta["pos"]),
            int(np_meta["has_gauss"]),
            float(np_meta["gauss"]),
        )
        internal = tuple(int(x) for x in tensors["python_internal"].tolist())
        python_state = (int(py_meta["version"]), internal, py_meta["gauss_next"])
        cuda = [tensors[f"cuda.{i}"] for i in range(n_cuda)]
        return RngState(tensors["torch_cpu"], cuda, numpy_state, python_state)
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"cannot read RNG state from {Path(path)}: {e!r}") from e


def reseed_loader(loader: Any, seed: int, epoch: int) -> None:
    """Reseed the torch.Generators of a DataLoader and of its samplers; call their `set_epoch`.

    A DataLoader with `shuffle=True` draws its order from its own `generator` if it has one and
    from the global torch generator otherwise; either way, after `seed_everything(seed)` and this
    call, epoch `epoch`'s order depends on `seed` alone.
    """
    seen: set[int] = set()
    for obj in (
        loader,
        getattr(loader, "sampler", None),
        getattr(loader, "batch_sampler", None),
        getattr(getattr(loader, "batch_sampler", None), "sampler", None),
    ):
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        generator = getattr(obj, "generator", None)
        if isinstance(generator, torch.Generator):
            generator.manual_seed(seed)
        if obj is not loader and callable(getattr(obj, "set_epoch", None)):
            obj.set_epoch(epoch)
