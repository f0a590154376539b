"""Language-modelling corpora: char/word streams, dev tails, WikiText-style and PTB-style files and
folders, gzipped mirror copies checked by their decompressed sha256, the corpus registry, and the
real tiny-shakespeare and PTB files against their SOURCE.md counts."""

from __future__ import annotations

import doctest
import gzip
import hashlib

import pytest

import rnnlab.data.language_modeling
from rnnlab import data
from rnnlab.data import ChecksumError, DataFormatError, MissingDataError, RemoteFile
from rnnlab.data.language_modeling import (
    Corpus,
    CorpusSpec,
    corpus_from_text,
    find_split_files,
    get_corpus,
    load_corpora,
    read_text,
    register_corpus,
    split_tail,
)
from rnnlab.text import Vocab

WIKI = (
    " \n"
    " = Valkyria Chronicles III = \n"
    " \n"
    " Senjō no Valkyria 3 : <unk> Chronicles is a tactical role @-@ playing game . \n"
    " The game began development in 2010 , carrying over a large portion . \n"
)


# ---- Corpus ----------------------------------------------------------------------------------


def test_module_doctest():
    result = doctest.testmod(rnnlab.data.language_modeling)
    assert result.attempted > 0 and result.failed == 0


def test_char_corpus_is_the_text_itself():
    text = "First Citizen:\nBefore we proceed\n\nany further.\n"
    corpus = corpus_from_text(text, "char")
    assert (corpus.level, corpus.tokenizer) == ("char", "char")
    assert "".join(corpus.stream()) == text
    assert corpus.num_tokens() == len(corpus.stream()) == len(text)
    assert corpus.sentences() == [list("First Citizen:"), list("Before we proceed"),
                                  list("any further.")]  # fmt: skip


def test_raw_word_corpus_tokenises_lines_and_skips_blank_ones():
    corpus = corpus_from_text("The cat's mat!\n\n  \nIt sat.\n", "word")
    assert corpus.tokenizer == "word"
    assert corpus.lines == [["the", "cat", "'s", "mat", "!"], ["it", "sat", "."]]
    assert corpus.stream() == ["the", "cat", "'s", "mat", "!", "<eos>", "it", "sat", ".", "<eos>"]
    assert corpus.num_tokens() == 10


def test_pretokenised_text_keeps_case_tokens_and_blank_lines():
    corpus = corpus_from_text(WIKI, "word", pretokenized=True)
    assert corpus.tokenizer == "whitespace"
    assert len(corpus.lines) == 5  # the final newline opens no sixth line
    assert corpus.lines[0] == [] and corpus.lines[1] == ["=", "Valkyria", "Chronicles", "III", "="]
    assert "@-@" in corpus.lines[3] and "<unk>" in corpus.lines[3]
    stream = corpus.stream()
    assert stream[:2] == ["<eos>", "="] and stream.count("<eos>") == 5
    assert len(corpus.sentences()) == 3
    assert corpus_from_text("a b", "word", pretokenized=True).stream() == ["a", "b", "<eos>"]


def test_corpus_checks():
    with pytest.raises(DataFormatError, match="no tokens"):
        corpus_from_text("\n \n", "word")
    with pytest.raises(ValueError, match="level"):
        corpus_from_text("abc", "byte")
    with pytest.raises(ValueError, match="does not fit level"):
        Corpus([["a"]], "char", "word")
    with pytest.raises(ValueError, match="tokenizer"):
        Corpus([["a"]], "word", "bpe")


def test_split_tail_cuts_characters_exactly_and_words_at_a_line_start():
    text = "".join(f"line {i}\n" for i in range(10))  # 70 characters
    head, tail = split_tail(text, 0.1, "char")
    assert (len(head), len(tail)) == (63, 7) and head + tail == text
    head, tail = split_tail(text, 0.15, "word")  # cut 59 -> back to the start of line 8 at 56
    assert head.endswith("line 7\n") and tail == "line 8\nline 9\n"
    with pytest.raises(ValueError, match="one side would be empty"):
        split_tail("one line only", 0.1, "word")
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        split_tail(text, 1.0, "char")


# ---- paths -----------------------------------------------------------------------------------


def test_a_text_file_holds_out_its_tail_as_dev(tmp_path):
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


def test_a_gzipped_text_file_is_read(tmp_path):
    path = tmp_path / "t.txt.gz"
    path.write_bytes(gzip.compress(b"hello there\nhow are you\n"))
    splits = load_corpora(path, level="char", dev_fraction=0.3)
    assert "".join(splits["train"].stream() + splits["dev"].stream()) == (
        "hello there\nhow are you\n"
    )


def test_a_wikitext_style_folder(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / f"wiki.{split}.tokens").write_text(WIKI, encoding="utf-8")
    (tmp_path / "README").write_text("not a split")
    assert set(find_split_files(tmp_path)) == {"train", "dev", "test"}
    splits = load_corpora(tmp_path)
    assert set(splits) == {"train", "dev", "test"}
    for corpus in splits.values():
        assert corpus.tokenizer == "whitespace" and corpus.num_tokens() == 38  # 33 words, 5 <eos>


def test_a_ptb_style_folder_without_dev_holds_out_the_tail(tmp_path):
    (tmp_path / "ptb.train.txt").write_text(" a b \n c d \n e f \n g h \n", encoding="utf-8")
    (tmp_path / "ptb.test.txt").write_text(" a N \n", encoding="utf-8")
    splits = load_corpora(tmp_path, dev_fraction=0.25)
    assert splits["dev"].lines == [["g", "h"]] and splits["test"].lines == [["a", "N"]]
    assert splits["train"].tokenizer == "word"  # PTB: a user's text goes through tokenize()


def test_path_errors(tmp_path):
    with pytest.raises(MissingDataError, match="neither a known corpus"):
        load_corpora(tmp_path / "nothing.txt")
    with pytest.raises(DataFormatError, match="no training file"):
        load_corpora(tmp_path)
    (tmp_path / "a.train.txt").write_text("x\n")
    (tmp_path / "b.train.txt").write_text("y\n")
    with pytest.raises(DataFormatError, match="several train files"):
        load_corpora(tmp_path)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="latin1.txt is not UTF-8"):
        load_corpora(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="one side would be empty"):
        load_corpora(empty)


# ---- registered files: mirror (plain or .gz), cache, download ---------------------------------


@pytest.fixture
def remote(tmp_path, monkeypatch):
    """A file served from a file:// URL, with an empty mirror and cache."""
    text = "To be, or not to be\n"
    server = tmp_path / "server" / "play.txt"
    server.parent.mkdir()
    server.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode()).hexdigest()
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    return RemoteFile("play.txt", (server.as_uri(),), sha), text, tmp_path


def test_read_text_downloads_into_the_cache(remote):
    file, text, root = remote
    assert read_text(file, "lm/play", progress=False) == text
    assert (root / "cache" / "lm" / "play" / "play.txt").read_text() == text


def test_read_text_prefers_a_gzipped_mirror_copy_checked_after_decompression(remote):
    file, text, root = remote
    folder = root / "mirror" / "lm" / "play"
    folder.mkdir(parents=True)
    (folder / "play.txt.gz").write_bytes(gzip.compress(text.encode()))
    assert read_text(file, "lm/play") == text
    assert not (root / "cache").exists()  # nothing downloaded
    (folder / "play.txt.gz").write_bytes(gzip.compress(b"To be, or not to be?\n"))
    with pytest.raises(ChecksumError, match=r"play\.txt\.gz decompresses to bytes with sha256"):
        read_text(file, "lm/play")
    (folder / "play.txt.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataFormatError, match="not a readable gzip file"):
        read_text(file, "lm/play")
    (folder / "play.txt").write_text(text, encoding="utf-8")  # a plain copy wins
    assert read_text(file, "lm/play") == text


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
