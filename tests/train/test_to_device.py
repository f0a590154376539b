"""to_device keeps a batch's structure and moves every tensor in it."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import torch

from rnnlab.train import OnDevice, to_device

Pair = namedtuple("Pair", "x y")


@dataclass
class Batch:
    tokens: torch.Tensor
    lengths: list
    name: str = "b"


def test_nested_structures_move_and_keep_their_types():
    t = torch.ones(2)
    batch = {"a": (t, [t, 3]), "p": Pair(t, "s"), "d": Batch(t, [t]), "none": None}
    moved = to_device(batch, "meta")  # a device every build has; tensors change device
    assert moved["a"][0].device.type == "meta" and isinstance(moved["a"], tuple)
    assert moved["a"][1][1] == 3 and isinstance(moved["a"][1], list)
    assert isinstance(moved["p"], Pair) and moved["p"].x.is_meta and moved["p"].y == "s"
    assert (
        isinstance(moved["d"], Batch)
        and moved["d"].tokens.is_meta
        and moved["d"].lengths[0].is_meta
    )
    assert moved["none"] is None
    assert t.device.type == "cpu"  # the input is untouched


def test_same_device_is_no_copy():
    t = torch.ones(2)
    assert to_device(t, "cpu") is t


def test_on_device_wraps_a_loader():
    loader = [(torch.ones(1), torch.zeros(1))] * 3
    wrapped = OnDevice(loader, "meta")
    assert len(wrapped) == 3
    assert all(x.is_meta and y.is_meta for x, y in wrapped)
