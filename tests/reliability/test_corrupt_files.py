"""A model directory or checkpoint whose files are truncated, corrupted, or replaced by a pickle
carrying a payload is refused with one clear error (rnnlab.train.CheckpointError; from the CLI,
one line and exit code 2), and the payload never runs: it would create a file, which must never
appear."""

from __future__ import annotations

import json
import pathlib
import pickle
import shutil
from pathlib import Path

import pytest
import torch

import rnnlab
from order_task import order_task
from rnnlab.cli import main
from rnnlab.train import CheckpointError
from rnnlab.train.files import sha256_file

ARGV = ["--embed", "8", "--hidden", "8", "--batch-size", "16", "--epochs", "1", "--no-progress"]


class Payload:
    """Unpickling this creates the file ``marker``: code execution, made visible."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, list[str]]:
    """(a classify run of one epoch, its training argv without --out)."""
    root = tmp_path_factory.mktemp("corrupt")
    data = root / "train.tsv"
    data.write_text("".join(f"{t}\t{y}\n" for t, y in order_task(80, seed=3)), encoding="utf-8")
    argv = ["train", "classify", "--data", str(data), *ARGV]
    assert main([*argv, "--out", str(root / "run")]) == 0
    return root / "run", argv


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A fresh copy of the trained run, to damage."""
    return Path(shutil.copytree(trained[0], tmp_path / "run"))


def _one_line_error(capsys, argv: list[str], *words: str) -> str:
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("rnnlab: error:"), err
    for word in words:
        assert word in err, err
    return err


def _checkpoint_file(run: Path, key: str) -> Path:
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    return run / "checkpoint" / state["files"][key]["name"]


def _update_digest(run: Path, key: str) -> None:
    """Make state.json vouch for the (damaged) file ``key``: only its content is then checked."""
    path = run / "checkpoint" / "state.json"
    record = json.loads(path.read_text())
    record["files"][key]["sha256"] = sha256_file(_checkpoint_file(run, key))
    path.write_text(json.dumps(record))


def test_the_payload_runs_when_unpickled(tmp_path):
    """The control: the payload does create its file when unpickled, so its absence below
    means it never ran."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.is_file()


def _damage(path: Path, how: str, marker: Path) -> None:
    data = path.read_bytes()
    header = 8 + int.from_bytes(data[:8], "little")
    if how == "empty":
        path.write_bytes(b"")
    elif how == "cut in the header":
        path.write_bytes(data[: header // 2])
    elif how == "cut in the tensors":
        path.write_bytes(data[: (header + len(data)) // 2])
    elif how == "last byte missing":
        path.write_bytes(data[:-1])
    elif how == "a tensor byte flipped":
        i = (header + len(data)) // 2
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1 :])
    elif how == "a huge header length":
        path.write_bytes((2**62).to_bytes(8, "little") + data[8:])
    elif how == "garbage header":
        path.write_bytes(data[:8] + b"{not json" + data[17:])
    elif how == "a torch pickle with a payload":
        torch.save({"weight": Payload(marker)}, path)
    elif how == "a raw pickle with a payload":
        path.write_bytes(pickle.dumps(Payload(marker)))
    else:
        raise AssertionError(how)


DAMAGE = ["empty", "cut in the header", "cut in the tensors", "last byte missing",
          "a tensor byte flipped", "a huge header length", "garbage header",
          "a torch pickle with a payload", "a raw pickle with a payload"]  # fmt: skip


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_model_file_is_refused(run, tmp_path, capsys, how):
    marker = tmp_path / "payload-ran"
    _damage(run / "model.safetensors", how, marker)
    with pytest.raises(CheckpointError, match="model.safetensors"):
        rnnlab.load(run)
    _one_line_error(capsys, ["predict", str(run), "good film"], "model.safetensors")
    assert not marker.exists()


@pytest.mark.parametrize("how", ["truncated", "a pickle with a payload", "not a zip"])
def test_a_damaged_optimizer_state_is_refused_on_resume(trained, run, tmp_path, capsys, how):
    """The optimizer state is the one pickle (torch.save) rnnlab reads: weights_only=True, and
    here state.json is made to vouch for the damaged file, so only the loader stands guard."""
    marker, path = tmp_path / "payload-ran", _checkpoint_file(run, "optimizer")
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif how == "not a zip":
        path.write_bytes(b"\x80\x04K\x01.")  # the pickle of 1
    else:
        torch.save({"state": {}, "param_groups": [Payload(marker)]}, path)
    _update_digest(run, "optimizer")
    _one_line_error(capsys, [*trained[1], "--out", str(run), "--resume"], "optimizer")
    assert not marker.exists()


@pytest.mark.parametrize("key", ["model", "optimizer", "rng"])
def test_a_checkpoint_file_that_changed_is_refused_by_its_digest(trained, run, capsys, key):
    path = _checkpoint_file(run, key)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    _one_line_error(capsys, [*trained[1], "--out", str(run), "--resume"], "SHA-256", path.name)


@pytest.mark.parametrize("how", ["a tensor byte flipped", "cut in the tensors"])
def test_damaged_checkpoint_weights_are_refused_even_when_vouched_for(
    trained, run, tmp_path, capsys, how
):
    """The weights' own digest (in their header) catches what state.json is made to miss."""
    path = _checkpoint_file(run, "model")
    _damage(path, how, tmp_path / "unused")
    _update_digest(run, "model")
    _one_line_error(capsys, [*trained[1], "--out", str(run), "--resume"], path.name)


@pytest.mark.parametrize("name", ["checkpoint/state.json", "config.json", "vocab.json"])
def test_truncated_json_is_refused(trained, run, capsys, name):
    path = run / name
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    _one_line_error(capsys, [*trained[1], "--out", str(run), "--resume"], path.name)
