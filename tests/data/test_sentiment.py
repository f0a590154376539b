import dataclasses
import gzip
import hashlib
import os
import tarfile
import urllib.error

import pytest

from rnnlab import data
from rnnlab.data import (
    BINARY_LABELS,
    SST5_LABELS,
    DataFormatError,
    MissingDataError,
    sentiment,
)
from rnnlab.data.registry import _REGISTRY
from rnnlab.data.sentiment import (
    parse_aclimdb,
    parse_review_polarity,
    parse_sst,
    read_sst_trees,
    sst_phrases,
    sst_sentences,
)
from rnnlab.data.sst_trees import parse_tree
from rnnlab.errors import InputError

# ----------------------------------------------------------------------------- SST trees

TRAIN_TREES = [
    "(4 (3 (2 A) (3 -LRB-great-RRB-)) (2 film))",  # "A (great) film": very positive
    "(1 (1 (2 A) (1 dull)) (2 film))",  # "A film" again, "A" again
    "(2 (2 (2 A) (2 film)) (2 .))",  # neutral: dropped from SST-2; "A film" a third time
    "(0 (2 writer\\/director) (0 (0 awful) (2 .)))",
]
DEV_TREES = ["(3 (2 good) (2 .))", "(2 (2 so-so) (2 .))"]
TEST_TREES = ["(0 (0 bad) (2 .))"]


def test_sst_sentences_fine_and_binary():
    trees = [parse_tree(t) for t in TRAIN_TREES]
    fine = sst_sentences(trees)
    assert fine.texts == ["A (great) film", "A dull film", "A film .", "writer/director awful ."]
    assert fine.labels == [4, 1, 2, 0] and fine.label_names == SST5_LABELS
    binary = sst_sentences(trees, binary=True)
    assert binary.texts == ["A (great) film", "A dull film", "writer/director awful ."]
    assert binary.labels == [1, 0, 0] and binary.label_names == BINARY_LABELS


def test_sst_phrases_are_distinct_in_first_occurrence_order():
    trees = [parse_tree(t) for t in TRAIN_TREES]
    fine = sst_phrases(trees)
    assert list(zip(fine.texts, fine.labels, strict=True)) == [
        ("A (great) film", 4),
        ("A (great)", 3),
        ("A", 2),
        ("(great)", 3),
        ("film", 2),
        ("A dull film", 1),
        ("A dull", 1),
        ("dull", 1),
        ("A film .", 2),
        ("A film", 2),
        (".", 2),
        ("writer/director awful .", 0),
        ("writer/director", 2),
        ("awful .", 0),
        ("awful", 0),
    ]
    binary = sst_phrases(trees, binary=True)
    assert list(zip(binary.texts, binary.labels, strict=True)) == [
        (text, int(y > 2)) for text, y in zip(fine.texts, fine.labels, strict=True) if y != 2
    ]


def test_sst_labels_outside_0_to_4_are_errors():
    trees = [parse_tree("(3 (2 a) (3 b))"), parse_tree("(3 (2 a) (5 b))")]
    assert len(sst_sentences(trees)) == 2  # the roots are fine
    with pytest.raises(DataFormatError, match=r"train\.txt:2: label 5 is not an SST class"):
        sst_phrases(trees, where="train.txt")
    with pytest.raises(DataFormatError, match=r"t:1: label 7"):
        sst_sentences([parse_tree("(7 a)")], where="t")


def write_sst_trees(folder):
    folder.mkdir(parents=True, exist_ok=True)
    train = "".join(t + "\n" for t in TRAIN_TREES).encode()
    (folder / "train.txt.gz").write_bytes(gzip.compress(train))
    (folder / "dev.txt").write_text("".join(t + "\n" for t in DEV_TREES), encoding="utf-8")
    (folder / "test.txt").write_text("".join(t + "\n" for t in TEST_TREES), encoding="utf-8")
    return folder


def test_read_sst_trees(tmp_path, monkeypatch):
    folder = write_sst_trees(tmp_path / "trees")
    files = {
        "train": folder / "train.txt.gz",
        "dev": folder / "dev.txt",
        "test": folder / "test.txt",
    }
    reads = []
    read = sentiment.read_trees
    monkeypatch.setattr(sentiment, "read_trees", lambda path: reads.append(path) or read(path))
    fine = read_sst_trees(**files)
    assert list(fine) == ["train", "dev", "test", "phrases"]
    assert [len(ex) for ex in fine.values()] == [4, 2, 1, 15]
    binary = read_sst_trees(**files, binary=True)
    assert [len(ex) for ex in binary.values()] == [3, 1, 1, 9]
    assert binary["dev"].texts == ["good ."] and binary["test"].labels == [0]
    assert len(reads) == 3  # each file parsed once: SST-2 reuses SST-5's trees
    (folder / "dev.txt").write_text("(4 (2 great) (2 !))\n", encoding="utf-8")
    assert read_sst_trees(**files)["dev"].texts == ["great !"]  # a changed file is read again
    assert len(reads) == 4
    (folder / "dev.txt").write_text("(4 (2 great) (2 !)\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"dev\.txt:1: unbalanced"):
        read_sst_trees(**files)


def tiny_sst_spec(name, folder):
    """The registered spec of ``name`` with the tiny files' checksums."""
    spec = data.get(name)
    files = tuple(
        dataclasses.replace(f, sha256=hashlib.sha256((folder / f.name).read_bytes()).hexdigest())
        for f in spec.files
    )
    return dataclasses.replace(spec, files=files)


def test_load_sst_from_a_tiny_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    folder = write_sst_trees(mirror / "sentiment" / "sst_trees")
    monkeypatch.setenv("RNNLAB_DATA", str(mirror))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(data.ChecksumError, match=r"train\.txt\.gz has sha256"):
        data.load("sst2", "train")  # the real checksums
    for name in ("sst2", "sst5"):
        monkeypatch.setitem(_REGISTRY._specs, name, tiny_sst_spec(name, folder))
    splits = data.load_splits("sst2")
    assert list(splits) == ["train", "dev", "test"]  # never the phrases
    assert splits["train"].texts[0] == "A (great) film"
    phrases = data.load("sst5", "phrases")
    assert len(phrases) == 15 and phrases.label_names == SST5_LABELS
    assert len(data.load("sst2", "phrases")) == 9
    with pytest.raises(InputError, match=r"'train', 'dev', 'test', 'phrases'\], not 'unsup'"):
        data.load("sst2", "unsup")
    assert not (tmp_path / "cache").exists()


def test_sst_files_and_the_train_file_only_a_mirror_holds(tmp_path, monkeypatch):
    spec = data.get("sst2")
    assert spec.subdir == data.get("sst5").subdir == "sentiment/sst_trees"
    assert [f.name for f in spec.files] == ["train.txt.gz", "dev.txt", "test.txt"]
    train, dev, test = spec.files
    assert train.urls == () and train.sha256.startswith("479b7122")
    commit = "munikarmanish/RNTN/12bb731ba9fbdcdf2368b8515a241773f2b97547/trees/"
    assert dev.urls == (f"https://raw.githubusercontent.com/{commit}dev.txt",)
    assert test.urls == (f"https://raw.githubusercontent.com/{commit}test.txt",)
    assert spec.splits == ("train", "dev", "test") and spec.extra_splits == ("phrases",)

    def offline(url, timeout):
        raise AssertionError(f"no download may be tried, got {url}")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNLAB_DATA", raising=False)
    with pytest.raises(MissingDataError, match=r"train\.txt\.gz cannot be downloaded: only a data"):
        data.load("sst5", "dev")


# ----------------------------------------------------------------------------- Kim's SST files


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
    for i in (10, 2, 0):  # id order is numeric: 0, 2, 10
        text = f"unlabelled {i}<br />  <br>too"
        (root / "aclImdb" / "train" / "unsup" / f"{i}_0.txt").write_text(text, encoding="utf-8")
    (root / "aclImdb" / "imdb.vocab").write_text("the\n")
    return root


def test_parse_aclimdb_folder(tmp_path):
    root = write_aclimdb(tmp_path)
    splits = parse_aclimdb(root)
    assert {k: len(v) for k, v in splits.items()} == {"train": 9, "dev": 1, "test": 4, "unsup": 3}
    assert splits["unsup"] == ["unlabelled 0 too", "unlabelled 2 too", "unlabelled 10 too"]
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


def test_parse_aclimdb_reads_an_archive_once(tmp_path, monkeypatch):
    root = write_aclimdb(tmp_path / "src")
    archive = tmp_path / "aclImdb.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "aclImdb", arcname="aclImdb")
    reads = []
    read = sentiment._read_aclimdb
    monkeypatch.setattr(sentiment, "_read_aclimdb", lambda path: reads.append(path) or read(path))
    first = parse_aclimdb(archive)
    assert parse_aclimdb(archive) == first and len(reads) == 1
    first["train"].texts.clear()  # a caller's change does not reach the cached reviews
    first["unsup"].clear()
    again = parse_aclimdb(archive)
    assert len(again["train"]) == 9 and len(again["unsup"]) == 3 and len(reads) == 1
    parse_aclimdb(root)  # a folder is read every time
    assert len(reads) == 2
    (root / "aclImdb" / "train" / "unsup" / "0_0.txt").unlink()
    with tarfile.open(archive, "w:gz") as tar:  # a changed archive is read again
        tar.add(root / "aclImdb", arcname="aclImdb")
    os.utime(archive, ns=(1, 1))
    assert len(parse_aclimdb(archive)["unsup"]) == 2 and len(reads) == 3


def test_parse_aclimdb_missing_class(tmp_path):
    root = write_aclimdb(tmp_path)
    for file in (root / "aclImdb" / "test" / "pos").iterdir():
        file.unlink()
    with pytest.raises(DataFormatError, match="aclImdb/test/pos"):
        parse_aclimdb(root)


def test_load_imdb_end_to_end_from_a_tiny_mirror(tmp_path, monkeypatch):
    """data.load('imdb') through the registry: mirror lookup (the upstream name, then the
    repack), sha256 check, tar parsing, the unlabelled reviews."""
    root = write_aclimdb(tmp_path / "src")
    mirror = tmp_path / "mirror" / "sentiment" / "imdb"
    mirror.mkdir(parents=True)
    archive = mirror / "aclImdb.tar.gz"  # the repack's name
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "aclImdb", arcname="aclImdb")
    spec = data.get("imdb")
    assert spec.files[0].urls == (
        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    )
    assert spec.files[0].mirror_repacks == (
        ("aclImdb.tar.gz", "d51abf11d4d1795aef99c9d8892aab65b449cc470913c4935dad5236252c4ea7"),
    )
    assert spec.splits == ("train", "dev", "test") and spec.extra_splits == ("unsup",)
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    # with the real checksums the tiny archive is rejected, naming the file
    with pytest.raises(data.ChecksumError, match="aclImdb.tar.gz has sha256"):
        data.load("imdb", "test")
    tiny_sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    tiny = dataclasses.replace(spec.files[0], mirror_repacks=(("aclImdb.tar.gz", tiny_sha),))
    monkeypatch.setitem(_REGISTRY._specs, "imdb", dataclasses.replace(spec, files=(tiny,)))
    test = data.load("imdb", "test")
    assert len(test) == 4 and test.label_names == BINARY_LABELS
    assert data.load("imdb", "unsup") == [
        "unlabelled 0 too",
        "unlabelled 2 too",
        "unlabelled 10 too",
    ]
    assert list(data.load_splits("imdb")) == ["train", "dev", "test"]  # never unsup
    # the upstream name comes first, with the upstream sha256
    (mirror / "aclImdb_v1.tar.gz").write_bytes(archive.read_bytes())
    with pytest.raises(data.ChecksumError, match="aclImdb_v1.tar.gz has sha256"):
        data.load("imdb", "test")
    assert not (tmp_path / "cache").exists()


def test_unsup_is_only_imdb_s_and_offline_imdb_says_where_the_repack_goes(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    with pytest.raises(InputError, match="review_polarity has splits"):
        data.load("review_polarity", "unsup")
    with pytest.raises(MissingDataError, match=r"or its repack aclImdb\.tar\.gz \(sha256 d51abf"):
        data.load("imdb", "unsup")
