import dataclasses
import hashlib
import tarfile

import pytest

from rnnlab import data
from rnnlab.data import BINARY_LABELS, SST5_LABELS, DataFormatError, RemoteFile
from rnnlab.data.registry import _REGISTRY
from rnnlab.data.sentiment import parse_aclimdb, parse_review_polarity, parse_sst

# ----------------------------------------------------------------------------- SST


def test_parse_sst(tmp_path):
    path = tmp_path / "stsa.fine.dev"
    path.write_text("4 a stirring , funny film\n0 wo n't sit still .\n", encoding="utf-8")
    got = parse_sst(path, SST5_LABELS)
    assert got.texts == ["a stirring , funny film", "wo n't sit still ."]
    assert got.labels == [4, 0]
    assert got.label_names[got.labels[0]] == "very positive"


@pytest.mark.parametrize(
    "text, match",
    [
        ("1 fine\n2 out of range for binary\n", r"stsa\.x:2: expected '<label 0-1> <sentence>'"),
        ("1 fine\nno label here\n", r"stsa\.x:2"),
        ("1 fine\n1 \n", r"stsa\.x:2"),
        ("", "no examples"),
    ],
)
def test_parse_sst_errors(tmp_path, text, match):
    path = tmp_path / "stsa.x"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError, match=match):
        parse_sst(path, BINARY_LABELS)


# ----------------------------------------------------------------------------- review polarity


def write_polarity_tar(path, cv_indices=(0, 799, 800, 950)):
    src = path.parent / "src"
    for polarity in ("pos", "neg"):
        folder = src / "txt_sentoken" / polarity
        folder.mkdir(parents=True)
        for cv in cv_indices:
            text = f"{polarity} review {cv} .\nsecond  line .\n"
            (folder / f"cv{cv:03d}_{1000 + cv}.txt").write_text(text, encoding="utf-8")
    (src / "poldata.README.2.0").write_text("readme", encoding="utf-8")
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / "txt_sentoken", arcname="txt_sentoken")
        tar.add(src / "poldata.README.2.0", arcname="poldata.README.2.0")
    return path


def test_parse_review_polarity_split_by_cv_index(tmp_path):
    splits = parse_review_polarity(write_polarity_tar(tmp_path / "rp.tar.gz"))
    assert splits["train"].texts == [
        "neg review 0 . second line .",
        "neg review 799 . second line .",
        "pos review 0 . second line .",
        "pos review 799 . second line .",
    ]
    assert splits["train"].labels == [0, 0, 1, 1]
    assert splits["dev"].texts == [
        "neg review 800 . second line .",
        "pos review 800 . second line .",
    ]
    assert splits["test"].labels == [0, 1]
    assert splits["test"].label_names == ["negative", "positive"]


def test_parse_review_polarity_incomplete_or_corrupt(tmp_path):
    with pytest.raises(DataFormatError, match="no test reviews"):
        parse_review_polarity(write_polarity_tar(tmp_path / "rp.tar.gz", cv_indices=(0, 850)))
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tar")
    with pytest.raises(DataFormatError, match="cannot read"):
        parse_review_polarity(bad)


# ----------------------------------------------------------------------------- IMDB


def write_aclimdb(root):
    """A tiny aclImdb layout: 5 pos + 5 neg train reviews, 2 + 2 test, plus files to ignore."""
    for split, n in (("train", 5), ("test", 2)):
        for polarity, rating in (("pos", 9), ("neg", 2)):
            folder = root / "aclImdb" / split / polarity
            folder.mkdir(parents=True)
            for i in range(n):
                text = f"{split} {polarity} {i}.<br /><br />Second  paragraph."
                (folder / f"{i}_{rating}.txt").write_text(text, encoding="utf-8")
            (root / "aclImdb" / split / f"urls_{polarity}.txt").write_text("http://x\n")
    (root / "aclImdb" / "train" / "unsup").mkdir()
    (root / "aclImdb" / "train" / "unsup" / "0_0.txt").write_text("unlabelled")
    (root / "aclImdb" / "imdb.vocab").write_text("the\n")
    return root


def test_parse_aclimdb_folder(tmp_path):
    root = write_aclimdb(tmp_path)
    splits = parse_aclimdb(root)
    assert {k: len(v) for k, v in splits.items()} == {"train": 9, "dev": 1, "test": 4}
    assert splits["test"].texts == [
        "test neg 0. Second paragraph.",  # <br /> tags and runs of spaces become one space
        "test neg 1. Second paragraph.",
        "test pos 0. Second paragraph.",
        "test pos 1. Second paragraph.",
    ]
    assert splits["test"].labels == [0, 0, 1, 1]
    train_texts = splits["train"].texts + splits["dev"].texts
    assert sorted(train_texts) == sorted(
        f"train {p} {i}. Second paragraph." for p in ("pos", "neg") for i in range(5)
    )
    assert all("unlabelled" not in t for t in train_texts)
    assert parse_aclimdb(root / "aclImdb") == splits  # the aclImdb folder itself works too


def test_parse_aclimdb_tar_matches_folder(tmp_path):
    root = write_aclimdb(tmp_path / "src")
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "aclImdb", arcname="aclImdb")
    assert parse_aclimdb(archive) == parse_aclimdb(root)


def test_parse_aclimdb_missing_class(tmp_path):
    root = write_aclimdb(tmp_path)
    for file in (root / "aclImdb" / "test" / "pos").iterdir():
        file.unlink()
    with pytest.raises(DataFormatError, match="aclImdb/test/pos"):
        parse_aclimdb(root)


def test_load_imdb_end_to_end_from_a_tiny_mirror(tmp_path, monkeypatch):
    """data.load('imdb') through the registry: mirror lookup, sha256 check, tar parsing."""
    root = write_aclimdb(tmp_path / "src")
    mirror = tmp_path / "mirror" / "sentiment" / "imdb"
    mirror.mkdir(parents=True)
    archive = mirror / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "aclImdb", arcname="aclImdb")
    spec = data.get("imdb")
    assert spec.files[0].urls == (
        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    )
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    # with the real checksum the tiny archive is rejected, naming the file
    with pytest.raises(data.ChecksumError, match="aclImdb_v1.tar.gz"):
        data.load("imdb", "test")
    tiny = RemoteFile(
        archive.name, spec.files[0].urls, hashlib.sha256(archive.read_bytes()).hexdigest()
    )
    monkeypatch.setitem(_REGISTRY._specs, "imdb", dataclasses.replace(spec, files=(tiny,)))
    test = data.load("imdb", "test")
    assert len(test) == 4 and test.label_names == BINARY_LABELS
