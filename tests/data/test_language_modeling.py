"""Language-modelling corpora by name: the corpus registry, load_corpora on a registered name or
a user's path (with a dev file), and the real tiny-shakespeare, PTB and IMDB files against their
SOURCE.md counts."""

from __future__ import annotations

import dataclasses
import doctest
import hashlib
import os
import tarfile
from pathlib import Path

import pytest

import rnnlab.data.language_modeling
from rnnlab import data
from rnnlab.data import MissingDataError
from rnnlab.data.language_modeling import (
    _CORPORA,
    CorpusSpec,
    corpus_from_text,
    get_corpus,
    load_corpora,
    register_corpus,
)
from rnnlab.text import Vocab, tokenize


def test_module_doctest():
    result = doctest.testmod(rnnlab.data.language_modeling)
    assert result.attempted > 0 and result.failed == 0


def test_the_old_import_path_still_gives_the_readers():
    from rnnlab.data import corpus, text_files
    from rnnlab.data.language_modeling import Corpus, read_corpus_file, read_path, read_text

    assert Corpus is corpus.Corpus and read_corpus_file is corpus.read_corpus_file
    assert (read_path, read_text) == (text_files.read_path, text_files.read_text)


# ---- paths -----------------------------------------------------------------------------------


def test_a_path_gives_train_and_a_held_out_or_given_dev(tmp_path):
    text = "".join(f"the {w} sat on the mat\n" for w in ["cat", "dog", "rat", "cow"] * 5)
    path = tmp_path / "mine.txt"
    path.write_text(text, encoding="utf-8")
    splits = load_corpora(path)
    assert set(splits) == {"train", "dev"} and splits["train"].level == "word"
    assert len(splits["train"].lines) == 18 and len(splits["dev"].lines) == 2
    chars = load_corpora(path, level="char", dev_fraction=0.2)
    assert "".join(chars["train"].stream()) + "".join(chars["dev"].stream()) == text
    dev = tmp_path / "dev.txt"
    dev.write_text("a cat\n", encoding="utf-8")
    splits = load_corpora(path, dev=dev)
    assert len(splits["train"].lines) == 20 and splits["dev"].lines == [["a", "cat"]]
    folder = tmp_path / "ptb"
    folder.mkdir()
    (folder / "ptb.train.txt").write_text(" a b \n c d \n", encoding="utf-8")
    (folder / "ptb.valid.txt").write_text(" e f \n", encoding="utf-8")
    assert load_corpora(folder)["dev"].lines == [["e", "f"]]
    assert load_corpora(folder, dev=dev)["dev"].lines == [["a", "cat"]]  # replaces the folder's
    with pytest.raises(MissingDataError, match="neither a known corpus"):
        load_corpora(tmp_path / "nothing.txt")


# ---- the registry ----------------------------------------------------------------------------


def test_the_registry(remote):
    file, text, _ = remote
    assert data.corpus_names() == ["imdb", "ptb", "tinyshakespeare"]
    assert data.names() == ["imdb", "review_polarity", "sst2", "sst5"]  # classification only
    assert get_corpus("ptb").level == "word" and get_corpus("tinyshakespeare").level == "char"
    with pytest.raises(MissingDataError, match="unknown corpus 'wt2'.*ptb, tinyshakespeare"):
        get_corpus("wt2")
    with pytest.raises(ValueError, match="already registered"):
        register_corpus(get_corpus("ptb"))
    spec = CorpusSpec(
        "play",
        "lm/play",
        (file,),
        lambda texts, level: {"train": corpus_from_text(texts["play.txt"], level)},
        level="char",
        splits=("train",),  # fmt: skip
    )
    register_corpus(spec)
    try:
        assert "".join(data.load_corpus("play").stream()) == text
        assert data.load_corpora("play", level="word")["train"].lines[0][:2] == ["to", "be"]
        with pytest.raises(ValueError, match=r"play has splits \['train'\], not 'test'"):
            data.load_corpus("play", "test")
    finally:
        del _CORPORA._specs["play"]


# ---- the real files --------------------------------------------------------------------------


@pytest.mark.data
def test_real_tinyshakespeare(data_root):
    splits = load_corpora("tinyshakespeare")
    train, dev = splits["train"], splits["dev"]
    assert set(splits) == {"train", "dev"} and train.level == "char"
    assert (train.num_tokens(), dev.num_tokens()) == (1_003_854, 111_540)  # 90% / 10%
    text = "".join(train.stream()) + "".join(dev.stream())
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    )


@pytest.mark.data
def test_real_ptb(data_root):
    splits = load_corpora("ptb")
    counts = {name: c.num_tokens() for name, c in splits.items()}
    assert counts == {"train": 929_589, "dev": 73_760, "test": 82_430}  # <eos> per line included
    assert {name: len(c.lines) for name, c in splits.items()} == {
        "train": 42_068,
        "dev": 3_370,
        "test": 3_761,
    }
    train = splits["train"].stream()
    assert len(set(train)) == 10_000  # the official vocabulary, <unk> and <eos> among them
    vocab = Vocab.build([train])
    assert len(vocab) == 10_002  # + <pad> and <bos>, which PTB never uses
    assert {"<unk>", "N", "<eos>"} <= set(vocab.itos)
    assert all(w in vocab for c in ("dev", "test") for w in splits[c].stream())  # no OOV
    assert splits["test"].tokenizer == "word"


# ---- IMDB: the reviews of the sentiment archive, one per line ---------------------------------

REVIEWS = {  # a tiny aclImdb: (folder, id) -> text; 6 training reviews, so dev holds out one
    **{("train/pos", i): f"A fine film, number {i}.<br /><br />Don't miss it!" for i in range(3)},
    **{("train/neg", i): f"Dull,  dull film {i}." for i in range(3)},
    ("test/pos", 2): "Great fun.",
    ("test/neg", 5): "Awful.",
    ("train/unsup", 10): "Never saw it.",
    ("train/unsup", 2): "It's (sort of) O.K.",
}


def tiny_imdb(monkeypatch, tmp_path):
    """Register an imdb corpus on a tiny archive in a mirror; returns the parsed reviews."""
    root = tmp_path / "src" / "aclImdb"
    for (folder, review_id), text in REVIEWS.items():
        path = root / folder / f"{review_id}_{0 if 'unsup' in folder else 8}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    mirror = tmp_path / "mirror" / "sentiment" / "imdb"
    mirror.mkdir(parents=True)
    archive = mirror / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="aclImdb")
    spec = get_corpus("imdb")
    assert spec.level == "word" and spec.archive and spec.subdir == "sentiment/imdb"
    assert spec.files == data.get("imdb").files  # the sentiment dataset's archive
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    tiny = dataclasses.replace(spec.files[0], sha256=sha)
    monkeypatch.setitem(_CORPORA._specs, "imdb", dataclasses.replace(spec, files=(tiny,)))
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    return rnnlab.data.sentiment.parse_aclimdb(archive)


def test_imdb_corpus_on_a_tiny_archive(tmp_path, monkeypatch):
    reviews = tiny_imdb(monkeypatch, tmp_path)
    assert [len(reviews[s]) for s in ("train", "dev", "test", "unsup")] == [5, 1, 2, 2]
    calls = []
    real = rnnlab.data.language_modeling.tokenize
    monkeypatch.setattr(
        rnnlab.data.language_modeling, "tokenize", lambda t: calls.append(t) or real(t)
    )
    splits = load_corpora("imdb", progress=False)
    assert list(splits) == ["train", "dev", "test"]
    train, dev, test = splits.values()
    # the unlabelled reviews in id order, then the classifier's training reviews
    assert train.lines[:2] == [
        ["it", "'s", "(", "sort", "of", ")", "o.k."],
        ["never", "saw", "it", "."],
    ]
    assert train.lines[2:] == [tokenize(t) for t in reviews["train"].texts]
    assert dev.lines == [tokenize(t) for t in reviews["dev"].texts]
    assert test.lines == [["awful", "."], ["great", "fun", "."]]
    assert (train.level, train.tokenizer) == ("word", "word")
    assert len(calls) == 10  # each review tokenised once ...
    assert data.load_corpus("imdb", "dev").lines == dev.lines
    assert len(calls) == 10  # ... however often it is loaded
    chars = data.load_corpus("imdb", "test", level="char")
    assert chars.lines == [list("Awful."), list("Great fun.")] and chars.tokenizer == "char"
    splits["train"].lines.clear()  # a caller's corpus is its own
    assert len(data.load_corpus("imdb", "train").lines) == 7


@pytest.fixture(scope="module")
def imdb_corpora():
    """The real imdb corpus, tokenised once for the module (~30 s)."""
    root = os.environ.get("RNNLAB_DATA")
    if not root:
        pytest.skip("RNNLAB_DATA is not set: the real datasets (../shared/data) are not available")
    if not (Path(root) / "sentiment" / "imdb").is_dir():
        pytest.fail(f"{root}/sentiment/imdb is missing")
    return load_corpora("imdb", progress=False)


@pytest.mark.data
def test_real_imdb(imdb_corpora):
    """72,500 / 2,500 / 25,000 reviews (shared/data/sentiment/imdb/SOURCE.md: 50,000 unlabelled
    + 22,500 of the 25,000 labelled training reviews; the seeded dev; the 25,000 test reviews),
    each line the tokens rnnlab.text.tokenize gives the review, as the classifier tokenises."""
    train, dev, test = (imdb_corpora[s] for s in ("train", "dev", "test"))
    assert (len(train.lines), len(dev.lines), len(test.lines)) == (72_500, 2_500, 25_000)
    assert all(c.level == "word" and c.tokenizer == "word" for c in imdb_corpora.values())
    unsup = data.load("imdb", "unsup", progress=False)
    labelled = data.load_splits("imdb", progress=False)
    for i in (0, 1, 49_999):
        assert train.lines[i] == tokenize(unsup[i])
    for i in (0, 22_499):
        assert train.lines[50_000 + i] == tokenize(labelled["train"].texts[i])
    assert dev.lines[7] == tokenize(labelled["dev"].texts[7])
    assert test.lines[-1] == tokenize(labelled["test"].texts[-1])
    assert all(train.lines) and all(dev.lines) and all(test.lines)
    assert 15_000_000 < train.num_tokens() < 25_000_000  # ~270 tokens a review
