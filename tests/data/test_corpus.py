"""Language-model text: char/word streams, dev tails, and the WikiText-style, PTB-style and raw
text files and folders a user's corpus comes in."""

from __future__ import annotations

import doctest
import gzip

import pytest

import rnnlab.data.corpus
from rnnlab.data import DataFormatError, MissingDataError
from rnnlab.data.corpus import (
    Corpus,
    corpus_from_text,
    find_split_files,
    read_corpus_file,
    read_corpus_splits,
    split_tail,
)

WIKI = (
    " \n"
    " = Valkyria Chronicles III = \n"
    " \n"
    " Senjō no Valkyria 3 : <unk> Chronicles is a tactical role @-@ playing game . \n"
    " The game began development in 2010 , carrying over a large portion . \n"
)


# ---- Corpus ----------------------------------------------------------------------------------


def test_module_doctest():
    result = doctest.testmod(rnnlab.data.corpus)
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
    splits = read_corpus_splits(path)
    assert set(splits) == {"train", "dev"} and splits["train"].level == "word"
    assert len(splits["train"].lines) == 18 and len(splits["dev"].lines) == 2
    chars = read_corpus_splits(path, level="char", dev_fraction=0.2)
    assert "".join(chars["train"].stream()) + "".join(chars["dev"].stream()) == text
    whole = read_corpus_splits(path, dev_fraction=None)  # a dev file comes from elsewhere
    assert set(whole) == {"train"} and len(whole["train"].lines) == 20
    assert read_corpus_file(path, "word").lines == whole["train"].lines


def test_a_gzipped_text_file_is_read(tmp_path):
    path = tmp_path / "t.txt.gz"
    path.write_bytes(gzip.compress(b"hello there\nhow are you\n"))
    splits = read_corpus_splits(path, level="char", dev_fraction=0.3)
    assert "".join(splits["train"].stream() + splits["dev"].stream()) == (
        "hello there\nhow are you\n"
    )


def test_a_wikitext_style_folder(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / f"wiki.{split}.tokens").write_text(WIKI, encoding="utf-8")
    (tmp_path / "README").write_text("not a split")
    assert set(find_split_files(tmp_path)) == {"train", "dev", "test"}
    splits = read_corpus_splits(tmp_path)
    assert set(splits) == {"train", "dev", "test"}
    for corpus in splits.values():
        assert corpus.tokenizer == "whitespace" and corpus.num_tokens() == 38  # 33 words, 5 <eos>


def test_a_ptb_style_folder_without_dev_holds_out_the_tail(tmp_path):
    (tmp_path / "ptb.train.txt").write_text(" a b \n c d \n e f \n g h \n", encoding="utf-8")
    (tmp_path / "ptb.test.txt").write_text(" a N \n", encoding="utf-8")
    splits = read_corpus_splits(tmp_path, dev_fraction=0.25)
    assert splits["dev"].lines == [["g", "h"]] and splits["test"].lines == [["a", "N"]]
    assert splits["train"].tokenizer == "word"  # PTB: a user's text goes through tokenize()


def test_path_errors(tmp_path):
    with pytest.raises(MissingDataError, match="no such file"):
        read_corpus_splits(tmp_path / "nothing.txt")
    with pytest.raises(DataFormatError, match="no training file"):
        read_corpus_splits(tmp_path)
    (tmp_path / "a.train.txt").write_text("x\n")
    (tmp_path / "b.train.txt").write_text("y\n")
    with pytest.raises(DataFormatError, match="several train files"):
        read_corpus_splits(tmp_path)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="latin1.txt is not UTF-8"):
        read_corpus_splits(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="one side would be empty"):
        read_corpus_splits(empty)
    with pytest.raises(DataFormatError, match="empty.txt: the text has no tokens"):
        read_corpus_file(empty, "word")
