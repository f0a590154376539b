"""Word-vector files: round trips of the three formats, malformed files named precisely, and a
400,000-word GloVe file read in bounded memory."""

import subprocess
import sys

import numpy as np
import pytest

from embedding_files import random_vectors
from rnnlab.embeddings import KeyedVectors, detect_format, read_vectors, write_vectors
from rnnlab.errors import InputError, MissingFileError


@pytest.mark.parametrize(("fmt", "name"), [("word2vec", "v.txt"), ("word2vec-binary", "v.bin"),
                                           ("glove", "glove.txt")])  # fmt: skip
def test_round_trip(tmp_path, fmt, name):
    words, vectors = random_vectors()
    write_vectors(KeyedVectors(words, vectors), tmp_path / name, fmt)
    assert detect_format(tmp_path / name) == fmt
    back = read_vectors(tmp_path / name)
    assert back.words == words
    np.testing.assert_array_equal(back.vectors, vectors)  # 9 digits: float32 exactly
    assert read_vectors(tmp_path / name, limit=3).words == words[:3]


def test_word2vec_c_binary_with_newlines(tmp_path):
    # word2vec.c ends each record with a newline; gensim does not: both read
    words, vectors = random_vectors(V=3, D=2)
    blob = b"3 2\n" + b"".join(w.encode() + b" " + v.tobytes() + b"\n"
                               for w, v in zip(words, vectors, strict=True))  # fmt: skip
    (tmp_path / "c.bin").write_bytes(blob)
    back = read_vectors(tmp_path / "c.bin")
    assert back.words == words
    np.testing.assert_array_equal(back.vectors, vectors)


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ("2 3\nx 1 2 3\ny 1 2\n", "word2vec", r"line 3: 2 values, expected 3"),
        ("2 3\nx 1 2 3\n", "word2vec", r"promises 2 vectors, the file holds 1"),
        ("x 1 2\ny 1 two\n", "glove", r"line 2: a value is not a number"),
        ("2 x\nx 1 2\n", "word2vec", r"first line must be 'V D'"),
        ("x 1 2\ny 1 2 3\n", "glove", r"line 2: 3 values, expected 2"),
        ("x\n", "glove", r"line 1: expected 'word x_1 ... x_D'"),
    ],
)
def test_malformed_text(tmp_path, content, fmt, message):
    (tmp_path / "bad.txt").write_text(content)
    with pytest.raises(InputError, match=message):
        read_vectors(tmp_path / "bad.txt", format=fmt)


def test_malformed_binary_and_missing(tmp_path):
    (tmp_path / "short.bin").write_bytes(b"2 4\nx " + np.zeros(4, "<f4").tobytes() + b"y \x00")
    with pytest.raises(InputError, match=r"record 2 \(b'y'\) has 1 bytes of vector, expected 16"):
        read_vectors(tmp_path / "short.bin")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="is empty"):
        read_vectors(tmp_path / "empty.txt")
    with pytest.raises(MissingFileError):
        read_vectors(tmp_path / "nothing.txt")
    with pytest.raises(InputError, match="whitespace"):
        write_vectors(KeyedVectors(["a b"], [[1.0]]), tmp_path / "x.txt")


def test_repeated_words_keep_the_first(tmp_path):
    (tmp_path / "dup.txt").write_text("x 1 2\ny 3 4\nx 5 6\n")
    kv = read_vectors(tmp_path / "dup.txt")
    assert kv.words == ["x", "y"] and kv["x"].tolist() == [1.0, 2.0]


_READ = """
import resource, sys, time
from rnnlab.embeddings import read_vectors
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
kv = read_vectors(sys.argv[1])
took = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(kv), kv.words[-1], took, (after - before) * 1024)
"""


def test_400k_glove_file_in_bounded_memory(tmp_path):
    """The issue's target: a 400,000-word GloVe file (glove.6B's vocabulary size) loads in under
    30 s, and the memory it takes is its (V, D) array, the words and one block of lines, well
    below the file's size plus its lines as Python objects. Measured in a fresh process (numpy
    only, no torch) as the growth of its peak resident memory."""
    V, D = 400_000, 10
    rng = np.random.default_rng(0)
    rows = [" ".join(f"{x:.4f}" for x in row) for row in rng.standard_normal((1000, D)).tolist()]
    path = tmp_path / "glove.400k.txt"
    with open(path, "w") as f:
        for start in range(0, V, 50_000):
            f.write("".join(f"w{i} {rows[i % 1000]}\n" for i in range(start, start + 50_000)))
    out = subprocess.run([sys.executable, "-c", _READ, str(path)], capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    assert out[:2] == [str(V), f"w{V - 1}"]
    took, grown = float(out[2]), int(out[3])
    array, words = V * D * 4, 200 * V  # the words: their str objects, the list and the index
    assert grown < array + words + 32 * 2**20, grown  # the file is 33 MB, its lines ~60 MB more
    assert took < 30.0
