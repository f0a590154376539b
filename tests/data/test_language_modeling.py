"""Language-modelling corpora by name: the corpus registry, load_corpora on a registered name or
a user's path (with a dev file), and the real tiny-shakespeare and PTB files against their
SOURCE.md counts."""

from __future__ import annotations

import doctest
import hashlib

import pytest

import rnnlab.data.language_modeling
from rnnlab import data
from rnnlab.data import MissingDataError
from rnnlab.data.language_modeling import (
    CorpusSpec,
    corpus_from_text,
    get_corpus,
    load_corpora,
    register_corpus,
)
from rnnlab.text import Vocab


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
    assert data.corpus_names() == ["ptb", "tinyshakespeare"]
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
        from rnnlab.data.language_modeling import _CORPORA

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
