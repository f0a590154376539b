"""Parallel text: line-aligned user files (plain and gzipped, errors by line), held-out dev, and
the registered multi30k read from the mirror with its official split sizes."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from rnnlab import data
from rnnlab.data import DataFormatError, MissingDataError
from rnnlab.data.translation import (
    ParallelText,
    get_translation,
    load_parallel,
    load_translation,
    read_lines,
    read_parallel,
)


def write(path: Path, lines: list[str], gz: bool = False) -> Path:
    text = "".join(line + "\n" for line in lines)
    if gz:
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_read_parallel_plain_and_gzipped(tmp_path):
    src = write(tmp_path / "a.de.gz", ["Ein Hund.", "", "Zwei Katzen  "], gz=True)
    tgt = write(tmp_path / "a.en", ["A dog.", "", "Two cats"])
    pairs = read_parallel(src, tgt, "de", "en")
    assert pairs.src == ["Ein Hund.", "Zwei Katzen"] and pairs.tgt == ["A dog.", "Two cats"]
    assert (pairs.src_lang, pairs.tgt_lang, len(pairs)) == ("de", "en", 2)
    assert pairs.head(1).src == ["Ein Hund."]


def test_read_lines_keeps_a_final_blank_line_out(tmp_path):
    (tmp_path / "x.txt").write_bytes(b"\xef\xbb\xbfa\r\nb\n")  # BOM and CRLF
    assert read_lines(tmp_path / "x.txt") == ["a", "b"]


@pytest.mark.parametrize(
    "src,tgt,match",
    [
        (["a", "b"], ["a"], "has 2 lines but .* has 1"),
        (["a", ""], ["a", "b"], r"s\.txt:2: blank line"),
        (["", ""], ["", " "], "no sentence pairs"),
    ],
)
def test_pairing_errors(tmp_path, src, tgt, match):
    with pytest.raises(DataFormatError, match=match):
        read_parallel(write(tmp_path / "s.txt", src), write(tmp_path / "t.txt", tgt))


def test_file_errors(tmp_path):
    with pytest.raises(MissingDataError, match="no such file"):
        read_lines(tmp_path / "missing.txt")
    (tmp_path / "bad.gz").write_bytes(b"not gzip")
    with pytest.raises(DataFormatError, match="gzip"):
        read_lines(tmp_path / "bad.gz")
    (tmp_path / "latin1.txt").write_bytes("Mädchen".encode("latin-1"))
    with pytest.raises(DataFormatError, match="UTF-8"):
        read_lines(tmp_path / "latin1.txt")


def test_load_translation_from_files_holds_out_a_seeded_dev(tmp_path):
    n = 40
    src = write(tmp_path / "s.txt", [f"s{i}" for i in range(n)])
    tgt = write(tmp_path / "t.txt", [f"t{i}" for i in range(n)])
    a = load_translation(None, "x", "y", src, tgt, dev_fraction=0.25, seed=3)
    b = load_translation(None, "x", "y", src, tgt, dev_fraction=0.25, seed=3)
    assert len(a["train"]) == 30 and len(a["dev"]) == 10 and a["dev"].src == b["dev"].src
    assert sorted(a["train"].src + a["dev"].src) == sorted(f"s{i}" for i in range(n))
    for split in a.values():  # pairs stay together
        assert all(s[1:] == t[1:] for s, t in zip(split.src, split.tgt, strict=True))
    dev = load_translation(None, "x", "y", src, tgt, dev_src=src, dev_tgt=tgt)
    assert len(dev["train"]) == n and dev["dev"].src == dev["train"].src


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(source=None), "either a registered corpus"),
        (dict(source="multi30k", src_file="a", tgt_file="b"), "not both"),
        (dict(source=None, src_file="a"), "give both --src-file and --tgt-file"),
        (dict(source="multi30k", src_lang="fr"), "languages"),
        (dict(source="multi30k", src_lang="en", tgt_lang="en"), "both 'en'"),
    ],
)
def test_load_translation_argument_errors(kwargs, match):
    args = dict(src_lang="de", tgt_lang="en") | kwargs
    with pytest.raises(ValueError, match=match):
        load_translation(**args)


def test_registry():
    assert "multi30k" in data.translation_names()
    spec = get_translation("multi30k")
    assert spec.split_name("test") == "test2016" and spec.split_name("val") == "dev"
    with pytest.raises(ValueError, match="has splits"):
        spec.split_name("test2018")
    with pytest.raises(MissingDataError, match="known translation corpora: multi30k"):
        get_translation("wmt14")
    with pytest.raises(ValueError, match="source"):
        ParallelText(["a"], [])


@pytest.mark.data
def test_multi30k_from_the_mirror(data_root, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    monkeypatch.setenv("RNNLAB_CACHE", "/nonexistent-no-downloads")
    splits = load_translation("multi30k", "de", "en", progress=False)
    sizes = {name: len(p) for name, p in splits.items()}
    assert sizes == {"train": 29000, "dev": 1014, "test2016": 1000, "test2017": 1000,
                     "mscoco2017": 461}  # fmt: skip
    test = load_parallel("multi30k", "test", "de", "en", progress=False)
    assert test.src[0] == "Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt."
    assert test.tgt[0] == "A man in an orange hat starring at something."
    reverse = load_parallel("multi30k", "test2016", "en", "de", progress=False)
    assert reverse.src == test.tgt and reverse.tgt == test.src
