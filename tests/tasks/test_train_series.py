"""rnnlab.tasks.series end to end on generated series: a tiny model learns which frequency a noisy
sine has, statistics come from the training series only, and a stopped run resumes exactly."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from rnnlab.errors import InputError
from rnnlab.models.series import SeriesConfig, channel_statistics
from rnnlab.tasks.series import SeriesJob, series_splits, stratified_split, train_series
from rnnlab.train import TrainConfig
from run_files import current_weights
from series_files import waves, write_ts


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("series")
    train = write_ts(root / "Waves_TRAIN.ts", *waves(60, seed=1, min_len=8, max_len=20))
    write_ts(root / "Waves_TEST.ts", *waves(60, seed=2, min_len=8, max_len=20))
    return root, train


def job(data, out, epochs=20, seed=0, **kw) -> SeriesJob:
    model = SeriesConfig(num_classes=2, channels=1, hidden_size=16, num_layers=1,
                         dropout=kw.pop("dropout", 0.0), scale=kw.pop("scale", 0.0))  # fmt: skip
    train = TrainConfig(epochs=epochs, lr=0.02, seed=seed, progress=False, clip_norm=5.0,
                        monitor="loss", mode="min")  # fmt: skip
    return SeriesJob(data=str(data), out=str(out), batch_size=16, model=model, train=train, **kw)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_tiny_model_learns_which_frequency_a_sine_has(files, tmp_path, seed):
    root, train = files
    result = train_series(job(train, tmp_path / "run", seed=seed))
    test = result.scores["test"]
    # chance is 1/3 (loss ln 3 = 1.10); measured at 1 and 2 threads: 0.933, 0.95, 0.95
    assert test["accuracy"] >= 0.85, result.scores
    assert test["loss"] < 0.5 and result.history[0]["train_loss"] > 0.9
    cm = np.array(test["confusion"])
    assert cm.shape == (3, 3) and cm.sum() == 60 and np.trace(cm) == round(60 * test["accuracy"])
    assert (tmp_path / "run" / "learning_curve.png").is_file()
    saved_scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert saved_scores["test"]["accuracy"] == test["accuracy"]


def test_statistics_come_from_the_training_part_only(files, tmp_path):
    root, train = files
    j = job(train, tmp_path / "run", epochs=1)
    splits = series_splits(j)
    assert len(splits["train"]) == 48 and len(splits["valid"]) == 12  # 4 of each class' 20
    assert len(splits["test"]) == 60
    result = train_series(j)
    mean, std = channel_statistics(splits["train"].X, splits["train"].lengths)
    torch.testing.assert_close(result.model.mean, torch.from_numpy(mean))
    torch.testing.assert_close(result.model.std, torch.from_numpy(std))
    for other in ("valid", "test"):  # any of their values would move the statistics
        part = splits[other]
        both = np.concatenate([splits["train"].series(i) for i in range(48)]
                              + [part.series(i) for i in range(len(part))])  # fmt: skip
        assert not np.allclose(both.mean(0), mean, atol=1e-4)


def test_stratified_split_holds_out_a_share_of_every_class():
    y = np.array([0] * 10 + [1] * 5 + [2] * 2 + [3])
    kept, held = stratified_split(y, 0.2, seed=3)
    assert np.bincount(y[held], minlength=4).tolist() == [2, 1, 1, 0]  # never a class's last
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(18))
    again = stratified_split(y, 0.2, seed=3)
    assert np.array_equal(again[1], held)
    assert not np.array_equal(stratified_split(y, 0.2, seed=4)[1], held)
    with pytest.raises(InputError, match="too few"):
        stratified_split(np.array([0, 1]), 0.2, seed=0)


def test_a_stopped_run_resumes_to_the_uninterrupted_weights(files, tmp_path):
    root, train = files
    kw = {"dropout": 0.3, "scale": 0.1}  # both draw from the generators a checkpoint restores
    train_series(job(train, tmp_path / "full", epochs=3, **kw))
    train_series(job(train, tmp_path / "cut", epochs=1, **kw))
    train_series(replace(job(train, tmp_path / "cut", epochs=3, **kw), resume=True))
    a, b = current_weights(tmp_path / "full"), current_weights(tmp_path / "cut")
    for k in a:
        assert torch.equal(a[k], b[k]), k
    with pytest.raises(InputError, match="cannot resume"):
        train_series(replace(job(train, tmp_path / "cut", epochs=3, seed=5), resume=True))


def test_npz_without_a_test_file_and_training_on_every_series(tmp_path):
    series, labels = waves(30, seed=3, min_len=6, max_len=6)
    np.savez(tmp_path / "w.npz", X=np.stack(series), y=np.array(labels))
    j = replace(job(tmp_path / "w.npz", tmp_path / "run", epochs=2), valid_fraction=0.0)
    splits = series_splits(j)
    assert set(splits) == {"train", "test"} and len(splits["test"]) == 6  # 2 of each 10
    result = train_series(j)
    assert set(result.scores) == {"test"} and math.isfinite(result.scores["test"]["loss"])
    with pytest.raises(ValueError, match="valid_fraction 0"):
        replace(j, train=TrainConfig(monitor="accuracy", mode="max"))


def test_training_data_that_cannot_be_used(files, tmp_path):
    root, _ = files
    series, labels = waves(6, seed=4)
    unlabelled = write_ts(tmp_path / "u.ts", series, None)
    with pytest.raises(InputError, match="no class labels"):
        train_series(job(unlabelled, tmp_path / "o"))
    one = write_ts(tmp_path / "one.ts", series[:3], ["slow"] * 3, classes=["slow"])
    with pytest.raises(InputError, match="one class"):
        train_series(job(one, tmp_path / "o"))
    wide = write_ts(tmp_path / "wide.ts", [np.ones((5, 3))] * 3, ["slow", "mid", "fast"])
    with pytest.raises(InputError, match="3 channels"):
        train_series(replace(job(root / "Waves_TRAIN.ts", tmp_path / "o"), test=str(wide)))
