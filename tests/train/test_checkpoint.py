"""Checkpoints: a missing or corrupt file is a clear error naming it; stale files are removed."""

from __future__ import annotations

import json

import pytest

from rnnlab.train import CheckpointError, Trainer


@pytest.fixture
def stopped_run(make_model, train_set, make_loader, config, tmp_path):
    """A finished 1-epoch run in tmp_path; returns its checkpoint directory."""
    Trainer(make_model(), config(epochs=1), tmp_path).fit(make_loader(train_set))
    return tmp_path / "checkpoint"


def resume(make_model, train_set, make_loader, config, out):
    return Trainer(make_model(), config(epochs=2), out).fit(make_loader(train_set), resume=True)


def test_checkpoint_holds_one_set_of_files(stopped_run):
    names = sorted(p.name for p in stopped_run.iterdir())
    assert len(names) == 4 and names[-1] == "state.json"
    assert [n.split("-")[0] for n in names[:3]] == ["model", "optimizer", "rng"]


def test_resume_without_checkpoint_names_the_file(
    make_model, train_set, make_loader, config, tmp_path
):
    with pytest.raises(FileNotFoundError, match=r"checkpoint.*state\.json"):
        resume(make_model, train_set, make_loader, config, tmp_path)


@pytest.mark.parametrize("kind", ["model", "optimizer", "rng"])
def test_corrupt_file_is_caught_by_its_checksum(
    kind, stopped_run, make_model, train_set, make_loader, config
):
    (path,) = stopped_run.glob(f"{kind}-*")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"corrupt checkpoint file .*{path.name}"):
        resume(make_model, train_set, make_loader, config, stopped_run.parent)


def test_missing_file_is_named(stopped_run, make_model, train_set, make_loader, config):
    (path,) = stopped_run.glob("optimizer-*")
    path.unlink()
    with pytest.raises(FileNotFoundError, match=path.name):
        resume(make_model, train_set, make_loader, config, stopped_run.parent)


@pytest.mark.parametrize("text", ["{not json", '{"format": 1}', '{"format": 99}', ""])
def test_corrupt_state_is_named(text, stopped_run, make_model, train_set, make_loader, config):
    (stopped_run / "state.json").write_text(text)
    with pytest.raises(CheckpointError, match=r"corrupt checkpoint state .*state\.json"):
        resume(make_model, train_set, make_loader, config, stopped_run.parent)


@pytest.mark.parametrize("kind", ["model", "optimizer", "rng"])
def test_unreadable_file_with_matching_checksum_is_named(
    kind, stopped_run, make_model, train_set, make_loader, config
):
    """Garbage that passes the checksum (state.json rewritten to match) still fails clearly."""
    from rnnlab.train.files import sha256_file

    (path,) = stopped_run.glob(f"{kind}-*")
    path.write_bytes(b"PK\x03\x04 this is not a tensor file")
    record = json.loads((stopped_run / "state.json").read_text())
    record["files"][kind]["sha256"] = sha256_file(path)
    (stopped_run / "state.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match=path.name):
        resume(make_model, train_set, make_loader, config, stopped_run.parent)


def test_checkpoint_of_another_architecture_is_refused(
    stopped_run, make_model, train_set, make_loader, config
):
    model = make_model(hidden=5)
    with pytest.raises(CheckpointError, match=r"net\.0\.weight: shape \(16, 8\) in file, \(5, 8\)"):
        Trainer(model, config(epochs=2), stopped_run.parent).fit(
            make_loader(train_set), resume=True
        )


def test_resume_of_a_finished_run_trains_nothing(
    stopped_run, make_model, train_set, make_loader, config
):
    history = Trainer(make_model(), config(epochs=1), stopped_run.parent).fit(
        make_loader(train_set), resume=True
    )
    assert [r["epoch"] for r in history] == [1]


def test_fresh_fit_replaces_the_previous_run(
    stopped_run, make_model, train_set, make_loader, config, caplog
):
    out = stopped_run.parent
    history = Trainer(make_model(), config(epochs=2), out).fit(make_loader(train_set))
    assert len(history) == 2
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
    assert "starting afresh" in caplog.text
    assert len(list(stopped_run.iterdir())) == 4  # the first run's files were cleaned up
