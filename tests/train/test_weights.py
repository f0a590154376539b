"""save_weights / load_weights: exact round trip, tied weights, all-or-nothing loading, and
files that cannot run code on load (weights and every file of a trainer checkpoint)."""

from __future__ import annotations

import io
import json
import math
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from rnnlab.train import CheckpointError, Trainer, load_weights, save_weights
from rnnlab.train.files import sha256_file


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


# --- no code on load ------------------------------------------------------------------------------

# bytes per element of every safetensors dtype
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
               "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8,
               "F64": 8}  # fmt: skip


def assert_only_tensors(path: Path) -> None:
    """`path` is an 8-byte header length, a JSON header in which every entry describes a tensor
    (dtype, shape, data_offsets) or is the str -> str __metadata__, and then exactly the bytes
    those tensors take, back to back: no room for anything a loader could run."""
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            assert all(isinstance(v, str) for v in entry.values()), entry
            continue
        assert set(entry) == {"dtype", "shape", "data_offsets"}, (name, entry)
        assert all(isinstance(d, int) and d >= 0 for d in entry["shape"]), (name, entry)
        begin, end = entry["data_offsets"]
        assert end - begin == math.prod(entry["shape"]) * DTYPE_BYTES[entry["dtype"]], name
        spans.append((begin, end))
    ends = [0] + [end for _, end in sorted(spans)]
    assert [begin for begin, _ in sorted(spans)] == ends[:-1], "gaps or overlaps between tensors"
    assert ends[-1] == len(data) - 8 - n, "bytes after the last tensor"


class Plant:
    """Unpickling this runs ``Path.touch(marker)``: any call could stand there (os.system,
    exec), this one leaves a trace the tests look for."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def plant(path: Path, marker: Path, how: str) -> None:
    """Write a pickle that creates `marker` when loaded, as torch.save or plain pickle does, and
    check that it does so (for a loader that unpickles it), so the tests below can fail."""
    payload = {"weight": Plant(marker), "bias": torch.zeros(3)}
    if how == "torch.save":
        torch.save(payload, path)
        # from the bytes: torch.load hands a path ending in .safetensors to safetensors
        torch.load(io.BytesIO(path.read_bytes()), weights_only=False)
    else:
        path.write_bytes(pickle.dumps(payload))
        pickle.loads(path.read_bytes())
    assert marker.exists(), "the planted pickle runs its code when unpickled"
    marker.unlink()


def test_file_holds_no_code(make_model, train_set, make_loader, config, tmp_path):
    """save_weights' files, and the trainer's (best weights, the checkpoint's model and RNG
    state), hold only tensors; the checkpoint's other files are JSON and the optimizer's pickle,
    read with weights_only=True (the tests below)."""
    save_weights(Tied(), tmp_path / "w.safetensors", metadata={"note": "hi"})
    assert_only_tensors(tmp_path / "w.safetensors")
    out = tmp_path / "run"
    Trainer(make_model(), config(epochs=1), out).fit(make_loader(train_set))
    files = sorted(out.rglob("*.safetensors"))
    assert len(files) == 3  # the checkpoint's model-* and rng-*, the best model.safetensors
    for path in files:
        assert_only_tensors(path)


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_a_pickle_named_safetensors_is_refused_unrun(tmp_path, how):
    path, marker = tmp_path / "w.safetensors", tmp_path / "code_ran"
    plant(path, marker, how)
    with pytest.raises(CheckpointError, match="w.safetensors"):
        load_weights(nn.Linear(2, 3), path)
    assert not marker.exists(), "loading the weights ran the code in the file"


@pytest.mark.parametrize("kind", ["model", "optimizer", "rng"])
def test_a_checkpoint_file_that_would_run_code_is_refused_unrun(
    kind, make_model, train_set, make_loader, config, tmp_path
):
    """Each checkpoint file replaced by a pickle with code, its checksum in state.json updated
    so that resuming reads it: the optimizer file too, a torch.save pickle by design, is read
    with weights_only=True."""
    Trainer(make_model(), config(epochs=1), tmp_path).fit(make_loader(train_set))
    (path,) = (tmp_path / "checkpoint").glob(f"{kind}-*")
    marker = tmp_path / "code_ran"
    plant(path, marker, "torch.save")
    record = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    record["files"][kind]["sha256"] = sha256_file(path)
    (tmp_path / "checkpoint" / "state.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match=path.name):
        Trainer(make_model(), config(epochs=2), tmp_path).fit(make_loader(train_set), resume=True)
    assert not marker.exists(), f"resuming ran the code in the {kind} file"
