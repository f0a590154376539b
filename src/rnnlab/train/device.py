"""Moving batches to a device: `to_device` for one batch, `OnDevice` for a whole loader."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import torch


def to_device(batch: Any, device: torch.device | str) -> Any:
    """`batch` with every tensor in it moved to `device`, its structure unchanged.

    Handles tensors, dicts (any Mapping, rebuilt as dict), lists, tuples, namedtuples and
    dataclass instances, recursively; anything else (ints, strings, None...) is returned as is.
    Tensors already on `device` are returned without a copy.
    """
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(to_device(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    if dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        changes = {
            f.name: to_device(getattr(batch, f.name), device)
            for f in dataclasses.fields(batch)
            if f.init
        }
        return dataclasses.replace(batch, **changes)
    return batch


class OnDevice:
    """A loader whose batches arrive on `device` (wraps any iterable; keeps `len` if it has one)."""

    def __init__(self, loader: Iterable[Any], device: torch.device | str) -> None:
        self.loader = loader
        self.device = device

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            yield to_device(batch, self.device)

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]
