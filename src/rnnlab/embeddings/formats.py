"""Word-vector files: word2vec text and binary, and GloVe text, read and written.

    word2vec text     "V D" on the first line, then V lines "word x_1 ... x_D"
    word2vec binary   "V D\\n", then V records: the word's UTF-8 bytes, one space, D float32
                      (little-endian); word2vec.c ends each record with "\\n", gensim does not:
                      both are read
    GloVe text        no header: lines "word x_1 ... x_D" (Pennington et al.'s glove.*.txt)

Reading keeps memory bounded: the lines are counted first (a pass over the bytes), the (V, D)
float32 array is allocated once, and the file is then parsed a block of lines at a time, so a
400,000-word file costs its array and one block, never a list of all its lines. ``limit`` reads
only the first N words (the most frequent, in files written in frequency order). Writing goes
to a temporary file beside the target, renamed into place when complete.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from rnnlab.embeddings.keyed_vectors import KeyedVectors
from rnnlab.errors import InputError, MissingFileError

__all__ = ["FORMATS", "detect_format", "read_vectors", "write_vectors"]

logger = logging.getLogger(__name__)

FORMATS = ("word2vec", "word2vec-binary", "glove")
_BLOCK = 8192  # lines parsed together


def detect_format(path: str | os.PathLike) -> str:
    """The format of a vector file: ``.bin`` is word2vec binary; a text file whose first line is
    two integers is word2vec text, else GloVe text."""
    path = Path(path)
    if path.suffix == ".bin":
        return "word2vec-binary"
    with open(path, "rb") as f:
        first = f.readline(1 << 16).split()
    return "word2vec" if len(first) == 2 and all(t.isdigit() for t in first) else "glove"


def read_vectors(path: str | os.PathLike, format: str | None = None,
                 limit: int | None = None) -> KeyedVectors:  # fmt: skip
    """The word vectors of ``path`` (format detected by :func:`detect_format` unless given).

    Returns:
        KeyedVectors with the file's words in the file's order, vectors (V, D) float32.

    Raises:
        MissingFileError: no such file. InputError: an empty or malformed file (naming the line:
        a wrong number of values, a value that is not a number, a header that does not match
        the records, text that is not UTF-8).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"no word-vector file at {path}")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be >= 1, got {limit}")
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty: expected {fmt} word vectors")
    if fmt == "word2vec-binary":
        return _read_binary(path, limit)
    return _read_text(path, fmt, limit)


def _count_lines(path: Path) -> int:
    """Non-empty lines of a text file, counted over its bytes in 1 MiB pieces."""
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        while piece := f.read(1 << 20):
            count += piece.count(b"\n")
            last = piece[-1:]
    return count + (last != b"\n")


def _header(line: bytes, path: Path) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) < 1:
        raise InputError(f"{path}: the first line must be 'V D' (word and dimension counts), "
                         f"got {line[:80]!r}")  # fmt: skip
    return int(parts[0]), int(parts[1])


def _read_text(path: Path, fmt: str, limit: int | None) -> KeyedVectors:
    """word2vec text or GloVe text, a block of lines at a time into one preallocated array."""
    with open(path, "rb") as f:
        first = f.readline()
        if fmt == "word2vec":
            V, D = _header(first, path)
            start_line = 2
        else:
            D = len(first.split()) - 1
            if D < 1:
                raise InputError(f"{path}, line 1: expected 'word x_1 ... x_D', got "
                                 f"{first[:80]!r}")  # fmt: skip
            V = _count_lines(path)
            f.seek(0)
            start_line = 1
        n = V if limit is None else min(V, limit)
        vectors = np.empty((n, D), dtype=np.float32)  # (n, D)
        words: list[str] = []
        block: list[bytes] = []
        line_no = start_line
        for line in f:
            if len(words) + len(block) == n:
                break
            if not line.strip():
                continue
            block.append(line)
            if len(block) == _BLOCK:
                _parse_block(block, words, vectors, D, path, line_no)
                line_no, block = line_no + _BLOCK, []
        if block:
            _parse_block(block, words, vectors, D, path, line_no)
    if fmt == "glove":  # blank lines were counted
        vectors = vectors[: len(words)]
    elif len(words) < n:
        raise InputError(f"{path}: the header promises {V:,} vectors, the file holds "
                         f"{len(words):,}")  # fmt: skip
    return _keyed(words, vectors, path)


def _parse_block(block: list[bytes], words: list[str], vectors: np.ndarray, D: int, path: Path,
                 line_no: int) -> None:  # fmt: skip
    """Parse ``block`` (lines "word x_1 ... x_D") into ``words`` and the next rows of
    ``vectors``; ``line_no`` is the block's first line in the file, for errors. The numbers of
    the whole block are parsed in one C call (numpy's text parser)."""
    start = len(words)
    heads, tails = [], []
    for line in block:
        word, _, rest = line.rstrip().partition(b" ")
        heads.append(word)
        tails.append(rest)
    try:
        words.extend(w.decode("utf-8") for w in heads)
    except UnicodeDecodeError as e:
        bad = next(i for i, w in enumerate(heads) if not _utf8(w))
        raise InputError(f"{path}, line {line_no + bad}: the word is not UTF-8 "
                         f"({e.reason})") from None  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # older numpy: a bad number
            rows = np.fromstring(b" ".join(tails), dtype=np.float32, sep=" ")  # (lines * D,)
    except ValueError:  # numpy 2: a bad number
        rows = np.empty(0, dtype=np.float32)
    if rows.size != len(block) * D:
        for i, tail in enumerate(tails):  # the first bad line, named
            parts = tail.split()
            if len(parts) != D:
                raise InputError(f"{path}, line {line_no + i}: {len(parts)} values, expected {D}")
            try:
                [float(p) for p in parts]
            except ValueError:
                raise InputError(f"{path}, line {line_no + i}: a value is not a number") from None
        raise InputError(f"{path}, lines {line_no}-{line_no + len(block) - 1}: unreadable values")
    vectors[start : start + len(block)] = rows.reshape(len(block), D)


def _utf8(word: bytes) -> bool:
    try:
        word.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_binary(path: Path, limit: int | None) -> KeyedVectors:
    """word2vec binary, record by record into one preallocated array."""
    with open(path, "rb") as f:
        V, D = _header(f.readline(), path)
        n = V if limit is None else min(V, limit)
        vectors = np.empty((n, D), dtype=np.float32)  # (n, D)
        words: list[str] = []
        size = 4 * D
        for i in range(n):
            word = bytearray()
            while (ch := f.read(1)) != b" ":
                if not ch:
                    raise InputError(f"{path}: the header promises {V:,} vectors, the file "
                                     f"ends in record {i + 1}")  # fmt: skip
                if ch != b"\n" or word:  # word2vec.c's newline before the next word
                    word += ch
            raw = f.read(size)
            if len(raw) != size:
                raise InputError(f"{path}: record {i + 1} ({bytes(word)[:40]!r}) has "
                                 f"{len(raw)} bytes of vector, expected {size}")  # fmt: skip
            try:
                words.append(word.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise InputError(f"{path}: the word of record {i + 1} is not UTF-8 "
                                 f"({e.reason})") from None  # fmt: skip
            vectors[i] = np.frombuffer(raw, dtype="<f4")
    return _keyed(words, vectors, path)


def _keyed(words: list[str], vectors: np.ndarray, path: Path) -> KeyedVectors:
    """KeyedVectors of a file's records; a repeated word keeps its first vector (a warning)."""
    if len(set(words)) < len(words):
        seen: dict[str, int] = {}
        keep = [seen.setdefault(w, i) == i for i, w in enumerate(words)]
        logger.warning("%s: %d repeated words, each keeps its first vector", path,
                       len(keep) - sum(keep))  # fmt: skip
        words = [w for w, k in zip(words, keep, strict=True) if k]
        vectors = vectors[np.asarray(keep)]
    return KeyedVectors(words, vectors)


def write_vectors(kv: KeyedVectors, path: str | os.PathLike, format: str = "word2vec") -> None:
    """Write ``kv`` to ``path`` as ``format`` (word2vec, word2vec-binary or glove); the file
    appears complete or not at all. Floats are written with 9 significant digits in the text
    formats (a float32 round-trips exactly)."""
    if format not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    bad = next((w for w in kv.words if not w or any(ch.isspace() for ch in w)), None)
    if bad is not None:
        raise InputError(f"cannot write the word {bad!r}: the formats separate by whitespace")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if format != "glove":
                f.write(f"{len(kv)} {kv.dim}\n".encode())
            for start in range(0, len(kv), _BLOCK):
                rows = kv.vectors[start : start + _BLOCK]
                words = kv.words[start : start + _BLOCK]
                if format == "word2vec-binary":
                    for w, row in zip(words, rows, strict=True):
                        f.write(w.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
                else:
                    text = "\n".join(w + " " + " ".join(f"{x:.9g}" for x in row.tolist())
                                     for w, row in zip(words, rows, strict=True))  # fmt: skip
                    f.write(text.encode("utf-8") + b"\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
