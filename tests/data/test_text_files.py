"""The text of a file: a user's (plain or gzipped, UTF-8 only) and a registered one (mirror, plain
or gzipped and checked by its decompressed sha256; cache; download)."""

from __future__ import annotations

import gzip

import pytest

from rnnlab.data import ChecksumError, DataFormatError, MissingDataError
from rnnlab.data.text_files import read_path, read_text


def test_read_path_plain_gzipped_and_errors(tmp_path):
    plain = tmp_path / "a.txt"
    plain.write_bytes("\ufeffcafé\n".encode())  # the byte-order mark is dropped
    assert read_path(plain) == "café\n"
    gz = tmp_path / "a.txt.gz"
    gz.write_bytes(gzip.compress("café\n".encode()))
    assert read_path(gz) == "café\n"
    with pytest.raises(MissingDataError, match="no such file"):
        read_path(tmp_path / "nothing.txt")
    (tmp_path / "b.txt.gz").write_bytes(b"not gzip")
    with pytest.raises(DataFormatError, match="b.txt.gz is not a readable gzip file"):
        read_path(tmp_path / "b.txt.gz")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin1.txt is not UTF-8 text \(bad byte at"):
        read_path(tmp_path / "latin1.txt")


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
