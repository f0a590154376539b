"""rnnlab.load: a saved model directory (config.json, vocab.json, model.safetensors) restores an
equal model on CPU; a missing or corrupt file is a clear error naming it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import rnnlab
from rnnlab import saved
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.text import Vocab, tokenize
from rnnlab.train import CheckpointError, save_weights

TEXTS = ["a fine , funny film", "dull and far too long", "not bad at all", "zzz unseen words"]


def make_model(level="word", num_classes=3, **kw) -> TextClassifier:
    vocab = Vocab.build([tokenize(t, level) for t in TEXTS[:3]])
    torch.manual_seed(0)
    config = ClassifierConfig(len(vocab), num_classes, embed_dim=6, hidden_size=5, **kw)
    names = ["neg", "pos"] if num_classes == 2 else [f"{k} stars" for k in range(num_classes)]
    return TextClassifier(config, vocab, names, level)


def save(model: TextClassifier, out: Path) -> Path:
    saved.save_config(model, out)
    save_weights(model, out / "model.safetensors")
    return out


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save(
        make_model(cell="gru", num_layers=2, bidirectional=True), tmp_path_factory.mktemp("m")
    )


@pytest.fixture
def broken(model_dir, tmp_path) -> Path:
    """A fresh copy of the saved model directory to damage."""
    return Path(shutil.copytree(model_dir, tmp_path / "model"))


def edit_config(path: Path, **changes) -> None:
    meta = json.loads((path / "config.json").read_text())
    for key, value in changes.items():
        if key.startswith("model."):
            meta["model"][key[len("model.") :]] = value
        else:
            meta[key] = value
    (path / "config.json").write_text(json.dumps(meta))


# --- round trip -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level, kw",
    [
        ("word", dict(cell="lstm")),
        ("char", dict(cell="rnn", padding="post")),
        ("word", dict(model="bow", num_classes=2)),
        ("word", dict(cell="gru", num_layers=2, bidirectional=True, num_classes=2)),
    ],
)
def test_load_restores_an_equal_model(tmp_path, level, kw):
    model = make_model(level, **kw).eval()
    loaded = rnnlab.load(save(model, tmp_path))
    assert type(loaded) is TextClassifier
    assert not loaded.training
    assert loaded.config == model.config
    assert loaded.vocab.itos == model.vocab.itos
    assert loaded.label_names == model.label_names
    assert loaded.level == level
    state = model.state_dict()
    assert loaded.state_dict().keys() == state.keys()
    for k, v in loaded.state_dict().items():
        assert v.device.type == "cpu"
        assert torch.equal(v, state[k]), k
    assert loaded.predict(TEXTS) == model.predict(TEXTS)


def test_load_is_saved_load(model_dir):
    a, b = rnnlab.load(model_dir), saved.load(model_dir, device="cpu")
    assert a.predict(TEXTS) == b.predict(TEXTS)
    assert rnnlab.load(str(model_dir)).predict(TEXTS) == a.predict(TEXTS)


def test_config_json_is_plain_data(model_dir):
    meta = json.loads((model_dir / "config.json").read_text())
    assert meta["format"] == "rnnlab-model" and meta["version"] == 1 and meta["task"] == "classify"
    assert meta["label_names"] == ["0 stars", "1 stars", "2 stars"]
    assert meta["model"]["cell"] == "gru" and meta["model"]["bidirectional"] is True
    assert Vocab.load(model_dir / "vocab.json").itos == make_model().vocab.itos


def test_save_config_overwrites_and_creates_the_directory(tmp_path):
    out = tmp_path / "deep" / "run"
    saved.save_config(make_model(num_classes=2), out)
    saved.save_config(make_model(num_classes=4), out)
    assert json.loads((out / "config.json").read_text())["model"]["num_classes"] == 4
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_model_trained_on_gpu_loads_on_cpu(tmp_path):
    model = make_model().cuda().eval()
    expected = model.predict(TEXTS)
    loaded = rnnlab.load(save(model, tmp_path))
    assert all(p.device.type == "cpu" for p in loaded.parameters())
    for p, q in zip(loaded.predict(TEXTS), expected, strict=True):
        assert p.label == q.label and p.probability == pytest.approx(q.probability, abs=1e-5)


# --- errors ---------------------------------------------------------------------------------------


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model at .*nowhere"):
        rnnlab.load(tmp_path / "nowhere")


def test_a_file_is_not_a_model_directory(model_dir):
    with pytest.raises(FileNotFoundError, match="expected a directory"):
        rnnlab.load(model_dir / "config.json")


@pytest.mark.parametrize("name", ["config.json", "vocab.json", "model.safetensors"])
def test_missing_file_is_named(broken, name):
    (broken / name).unlink()
    with pytest.raises(FileNotFoundError, match=name.replace(".", r"\.")):
        rnnlab.load(broken)


@pytest.mark.parametrize(
    "content",
    [b'{"format": "rnnlab-model", "vers', b"", b"\xff\xfe\x00garbage", b"{}"],
    ids=["truncated", "empty", "not-utf8", "no-format"],
)
def test_corrupt_config_json(broken, content):
    (broken / "config.json").write_bytes(content)
    with pytest.raises(CheckpointError, match=r"config\.json is not a valid rnnlab model config"):
        rnnlab.load(broken)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"format": "keras"}, "format"),
        ({"task": "parse"}, "unknown task 'parse'"),
        ({"model.hidden": 5}, "hidden"),
        ({"model.hidden_size": 0}, "hidden_size must be a positive int"),
        ({"model.cell": "tcn"}, "cell must be one of"),
        ({"model": None}, "model"),
    ],
)
def test_invalid_config_json(broken, changes, message):
    edit_config(broken, **changes)
    with pytest.raises(CheckpointError, match=message) as err:
        rnnlab.load(broken)
    assert "config.json" in str(err.value)


@pytest.mark.parametrize("content", ["[]", "null", '"rnnlab-model"'])
def test_config_json_that_is_not_an_object(broken, content):
    (broken / "config.json").write_text(content)
    with pytest.raises(CheckpointError, match=r"config\.json"):
        rnnlab.load(broken)


def test_config_that_disagrees_with_the_vocabulary(broken):
    edit_config(broken, **{"model.vocab_size": 7})
    with pytest.raises(CheckpointError, match="disagree"):
        rnnlab.load(broken)
    edit_config(broken, **{"model.vocab_size": len(make_model().vocab), "label_names": ["a"]})
    with pytest.raises(CheckpointError, match="disagree: 1 label names for 3 classes"):
        rnnlab.load(broken)


@pytest.mark.parametrize(
    "content",
    [b"{", b'{"format": "rnnlab.vocab", "version": 1, "itos": ["a"]}', b"\xff\xfe"],
    ids=["truncated", "no-specials", "not-utf8"],
)
def test_corrupt_vocab_json_names_the_file(broken, content):
    (broken / "vocab.json").write_bytes(content)
    with pytest.raises((ValueError, CheckpointError), match=r"vocab\.json"):
        rnnlab.load(broken)


def test_corrupt_vocab_json_is_a_checkpoint_error(broken):
    (broken / "vocab.json").write_text("{")
    with pytest.raises(CheckpointError, match=r"vocab\.json"):
        rnnlab.load(broken)


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty"])
def test_corrupt_safetensors(broken, how):
    path = broken / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(
        {"truncated": data[: len(data) // 2], "garbage": b"\x00" * 64, "empty": b""}[how]
    )
    with pytest.raises(CheckpointError, match=r"model\.safetensors"):
        rnnlab.load(broken)


def test_weights_that_do_not_fit_the_config(broken):
    edit_config(broken, **{"model.hidden_size": 6})
    with pytest.raises(CheckpointError, match=r"model\.safetensors do not fit .*shape"):
        rnnlab.load(broken)
    edit_config(broken, **{"model.hidden_size": 5, "model.cell": "lstm"})
    with pytest.raises(CheckpointError, match=r"model\.safetensors"):
        rnnlab.load(broken)
