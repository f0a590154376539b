"""save_weights / load_weights: exact round trip, tied weights, all-or-nothing loading."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnlab.train import CheckpointError, load_weights, save_weights


class Tied(nn.Module):
    """An embedding and an output layer sharing one weight, plus a buffer."""

    def __init__(self, v: int = 7, h: int = 3) -> None:
        super().__init__()
        self.emb = nn.Embedding(v, h)
        self.out = nn.Linear(h, v)
        self.out.weight = self.emb.weight
        self.register_buffer("count", torch.zeros(2, dtype=torch.long))


def test_round_trip_is_exact_and_keeps_ties(tmp_path):
    torch.manual_seed(0)
    a, b = Tied(), Tied()
    a.count += 3
    save_weights(a, tmp_path / "w.safetensors", metadata={"note": "hi"})
    assert load_weights(b, tmp_path / "w.safetensors") is b
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    assert b.out.weight is b.emb.weight
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temp file left


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load_weights(nn.Linear(2, 2), tmp_path / "nope.safetensors")


def test_garbage_file_is_named(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        load_weights(nn.Linear(2, 2), path)


def test_truncated_file_is_named(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(nn.Linear(20, 20), path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="w.safetensors"):
        load_weights(nn.Linear(20, 20), path)


@pytest.mark.parametrize(
    "other, message",
    [
        (nn.Linear(2, 4), r"weight: shape \(3, 2\) in file, \(4, 2\)"),
        (nn.Linear(2, 3, bias=False), r"unexpected keys \['bias'\]"),
        (nn.Sequential(nn.Linear(2, 3)), r"missing keys \['0.bias', '0.weight'\]"),
    ],
)
def test_mismatch_is_refused_and_leaves_the_model_alone(other, message, tmp_path):
    save_weights(nn.Linear(2, 3), tmp_path / "w.safetensors")
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(CheckpointError, match=message):
        load_weights(other, tmp_path / "w.safetensors")
    for k, v in other.state_dict().items():
        assert torch.equal(v, before[k])


def test_file_holds_no_code(tmp_path):
    """A safetensors file is a JSON header plus raw bytes: no pickle opcodes."""
    save_weights(nn.Linear(2, 3), tmp_path / "w.safetensors")
    data = (tmp_path / "w.safetensors").read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    assert data[8 : 8 + header_len].lstrip().startswith(b"{")
    assert b"\x80\x04" not in data[:2]  # not a pickle protocol-4 stream
