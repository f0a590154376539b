import dataclasses
import hashlib
import urllib.error

import pytest

from rnnlab import data
from rnnlab.data import DatasetSpec, MissingDataError, RemoteFile
from rnnlab.data.registry import _REGISTRY
from rnnlab.data.sentiment import parse_sst


def test_registered_names_and_specs():
    assert data.names() == ["imdb", "review_polarity", "sst2", "sst5"]
    sst2 = data.get("sst2")
    assert [f.name for f in sst2.files] == ["train.txt.gz", "dev.txt", "test.txt"]
    assert sst2.subdir == data.get("sst5").subdir == "sentiment/sst_trees"
    assert {name: data.get(name).extra_splits for name in data.names()} == {
        "imdb": ("unsup",),
        "review_polarity": (),
        "sst2": ("phrases",),
        "sst5": ("phrases",),
    }
    with pytest.raises(MissingDataError, match="unknown dataset 'sst3'.*sst2"):
        data.get("sst3")
    with pytest.raises(ValueError, match="already registered"):
        data.register(sst2)


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A registered 'toy' dataset served from file:// URLs, with an empty cache, no mirror."""
    server = tmp_path / "server"
    server.mkdir()
    files = []
    for split, lines in (("train", "1 good\n0 bad\n1 fine\n"), ("test", "0 awful\n1 nice\n")):
        path = server / f"toy.{split}"
        path.write_text(lines, encoding="utf-8")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        files.append(RemoteFile(path.name, (path.as_uri(),), sha))

    def parse(paths):
        return {s: parse_sst(paths[f"toy.{s}"], ["neg", "pos"]) for s in ("train", "test")}

    spec = DatasetSpec("toy", "sentiment/toy", tuple(files), parse, ("train", "test"))
    monkeypatch.setitem(_REGISTRY._specs, "toy", spec)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNLAB_DATA", raising=False)
    return server


def test_load_downloads_verifies_and_parses(toy, tmp_path):
    train = data.load("toy", "train", progress=False)
    assert train.texts == ["good", "bad", "fine"] and train.labels == [1, 0, 1]
    assert sorted(p.name for p in (tmp_path / "cache" / "sentiment" / "toy").iterdir()) == [
        "toy.test",
        "toy.train",
    ]
    with pytest.raises(ValueError, match="splits"):
        data.load("toy", "dev")


def test_load_with_a_missing_file_fails_whole(toy, tmp_path, monkeypatch):
    (toy / "toy.test").unlink()  # one of two files cannot be had
    with pytest.raises(MissingDataError, match="toy.test"):
        data.load("toy", "train", progress=False)


def test_load_sst2_offline_says_where_to_put_files(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNLAB_DATA", raising=False)
    with pytest.raises(MissingDataError, match=r"train\.txt\.gz cannot be downloaded.*RNNLAB_DATA"):
        data.load("sst2", "train")


def test_load_splits_registered_name_with_dev_override(toy, tmp_path):
    dev = tmp_path / "dev.tsv"
    dev.write_text("so good\tpos\n", encoding="utf-8")
    splits = data.load_splits("toy", dev=dev, progress=False)
    assert set(splits) == {"train", "test", "dev"}
    assert splits["dev"].labels == [1] and splits["dev"].label_names == ["neg", "pos"]


def test_extra_splits_come_from_load_only(toy, monkeypatch):
    spec = _REGISTRY.get("toy")
    parse = spec.parse

    def with_extra(paths):
        return {**parse(paths), "unsup": ["no label here"]}

    extra = dataclasses.replace(spec, parse=with_extra, extra_splits=("unsup",))
    monkeypatch.setitem(_REGISTRY._specs, "toy", extra)
    assert list(data.load_splits("toy", progress=False)) == ["train", "test"]
    assert data.load("toy", "unsup", progress=False) == ["no label here"]
    with pytest.raises(ValueError, match=r"toy has splits \['train', 'test', 'unsup'\]"):
        data.load("toy", "dev")
    with pytest.raises(ValueError, match="cannot be an extra split too"):
        dataclasses.replace(spec, extra_splits=("test",))
    monkeypatch.setitem(_REGISTRY._specs, "toy", dataclasses.replace(extra, parse=parse))
    with pytest.raises(RuntimeError, match="parser of toy returned splits"):
        data.load("toy", "train", progress=False)  # a parser must give the extra splits too


def test_load_splits_user_file_holds_out_dev(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text("".join(f"text {i}\t{'pos' if i % 2 else 'neg'}\n" for i in range(40)))
    splits = data.load_splits(path)
    assert set(splits) == {"train", "dev"}
    assert (len(splits["train"]), len(splits["dev"])) == (36, 4)
    assert splits == data.load_splits(str(path), seed=0)  # seeded
    assert splits["dev"].texts != data.load_splits(path, seed=1)["dev"].texts
    assert len(data.load_splits(path, dev_fraction=0.25)["dev"]) == 10


def test_load_splits_user_file_with_dev_file(tmp_path):
    train = tmp_path / "train.tsv"
    train.write_text("a\tneg\nb\tpos\n")
    dev = tmp_path / "dev.tsv"
    dev.write_text("c\tpos\n")
    splits = data.load_splits(train, dev=dev)
    assert splits["train"].texts == ["a", "b"] and splits["dev"].labels == [1]
    dev.write_text("c\tneutral\n")
    with pytest.raises(data.DataFormatError, match="neutral"):
        data.load_splits(train, dev=dev)


def test_load_splits_unknown_source(tmp_path):
    with pytest.raises(MissingDataError, match="'sst3' is neither a known dataset"):
        data.load_splits("sst3")
