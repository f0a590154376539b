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


# --- every task through the registry --------------------------------------------------------------


def other_models() -> dict:
    """An untrained language model, tagger (with characters) and translator."""
    from rnnlab.models.language_model import LanguageModel, LMConfig, TextFormat
    from rnnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
    from rnnlab.models.tagger import SequenceTagger, TaggerConfig

    words, chars = Vocab.build([t.split() for t in TEXTS]), Vocab.build([list("abcdefz ")])
    torch.manual_seed(0)
    return {
        "lm": LanguageModel(LMConfig(len(words), embed_dim=4, hidden_size=4, num_layers=1), words,
                            TextFormat("word", "<eos>", "<eos>")),
        "tag": SequenceTagger(TaggerConfig(len(words), 3, num_chars=len(chars), embed_dim=4,
                                           hidden_size=4, char_dim=2, char_hidden=2), words,
                              ["O", "B-X", "I-X"], chars, "IOB2"),
        "translate": Seq2Seq(Seq2SeqConfig(len(words), len(chars), embed_dim=4, hidden_size=4),
                             words, chars, ("xx", "yy")),
    }  # fmt: skip


def old_format(task: str, model) -> dict[str, str]:
    """The files (beside the weights) that rnnlab wrote for ``model`` before the registry, by
    hand: a directory saved then must load now, and save_config must still write it."""
    from dataclasses import asdict

    def vocab(v):
        return json.dumps({"format": "rnnlab.vocab", "version": 1, "itos": v.itos},
                          ensure_ascii=False, indent=0) + "\n"  # fmt: skip

    head = {"format": "rnnlab-model", "version": 1, "task": task, "model": asdict(model.config)}
    if task == "lm":
        config = {**head, "text_format": asdict(model.text_format)}
        return {"config.json": json.dumps(config, indent=2), "vocab.json": vocab(model.vocab)}
    if task == "tag":
        tags = json.dumps({"format": "rnnlab-model", "tags": model.tag_names}, indent=0)
        return {"config.json": json.dumps({**head, "scheme": model.scheme}, indent=2),
                "vocab.json": vocab(model.vocab), "tags.json": tags,
                "chars.json": vocab(model.chars)}  # fmt: skip
    config = {**head, "languages": list(model.languages)}
    return {"config.json": json.dumps(config, indent=2), "src_vocab.json": vocab(model.src_vocab),
            "tgt_vocab.json": vocab(model.tgt_vocab)}  # fmt: skip


@pytest.mark.parametrize("task", ["lm", "tag", "translate"])
def test_a_directory_written_before_the_registry_loads_and_is_written_the_same(tmp_path, task):
    model = other_models()[task].eval()
    for name, text in old_format(task, model).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    save_weights(model, tmp_path / "model.safetensors")
    loaded = rnnlab.load(tmp_path)
    assert type(loaded) is type(model) and loaded.task == task and not loaded.training
    assert saved.config_of(loaded) == json.loads((tmp_path / "config.json").read_text())
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    fresh = tmp_path / "fresh"
    saved.save_config(loaded, fresh)
    for name in old_format(task, model):
        assert json.loads((fresh / name).read_text()) == json.loads((tmp_path / name).read_text())
    saved.check_same_run(loaded, tmp_path)  # the old directory is the same run


def test_the_registry_maps_every_task_to_its_class():
    from rnnlab.models import LanguageModel, Seq2Seq, SequenceTagger
    from rnnlab.models.caption import Captioner
    from rnnlab.models.forecast import Forecaster
    from rnnlab.models.music import MusicModel
    from rnnlab.models.series import SeriesClassifier
    from rnnlab.models.speech import SpeechModel
    from rnnlab.models.word2vec import Word2Vec

    assert saved.MODELS == {"classify": TextClassifier, "lm": LanguageModel,
                            "tag": SequenceTagger, "translate": Seq2Seq,
                            "speech": SpeechModel, "music": MusicModel,
                            "forecast": Forecaster, "series": SeriesClassifier,
                            "embeddings": Word2Vec, "caption": Captioner}  # fmt: skip
    for task, model in {"classify": make_model(), **other_models()}.items():
        assert saved.config_of(model)["task"] == task == model.task


def test_a_tagger_without_characters_removes_a_stale_chars_json(tmp_path):
    from dataclasses import replace

    tagger = other_models()["tag"]
    saved.save_config(tagger, tmp_path)
    assert (tmp_path / "chars.json").is_file()
    tagger.chars, tagger.config = None, replace(tagger.config, num_chars=0)
    saved.save_config(tagger, tmp_path)
    assert not (tmp_path / "chars.json").exists()


@pytest.mark.parametrize(
    "name, content, error, message",
    [
        ("tags.json", None, FileNotFoundError, r"tags\.json is missing"),
        ("chars.json", None, FileNotFoundError, r"chars\.json is missing"),
        ("tags.json", "{", CheckpointError, r"tags\.json is not valid"),
        ("tags.json", '{"tags": ["O"]}', CheckpointError, r"tags\.json is not valid: .*format"),
        ("tags.json", '{"format": "rnnlab-model", "tags": "O"}', CheckpointError,
         r"config\.json and vocab\.json, tags\.json disagree: tags\.json: 'tags' must be a list"),
        ("src_vocab.json", None, FileNotFoundError, r"src_vocab\.json is missing"),
    ],
)  # fmt: skip
def test_a_missing_or_corrupt_file_of_a_task_is_named(tmp_path, name, content, error, message):
    task = "translate" if name.startswith("src") else "tag"
    model = other_models()[task]
    saved.save_config(model, tmp_path)
    save_weights(model, tmp_path / "model.safetensors")
    if content is None:
        (tmp_path / name).unlink()
    else:
        (tmp_path / name).write_text(content)
    with pytest.raises(error, match=message):
        rnnlab.load(tmp_path)
