"""The standard word-vector test sets, fetched like every dataset (mirror, cache, download,
sha256): Google's analogy questions and WordSim-353, both as gensim ships them.

    questions-words  19,544 questions a b c d (a : b :: c : d) in 14 sections (Mikolov et al.
                     2013); 8,869 semantic, 10,675 syntactic
    wordsim353       353 word pairs with a mean human similarity score 0-10 (Finkelstein et al.
                     2002), tab-separated

Readers: :func:`rnnlab.embeddings.read_analogies`, :func:`rnnlab.embeddings.read_word_pairs`.
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import MissingDataError

__all__ = ["WORD_BENCHMARKS", "word_benchmark"]

_GENSIM = "https://raw.githubusercontent.com/piskvorky/gensim/4.4.0/gensim/test/test_data/{}"

# name -> (kind, the file, its folder in the mirror and the cache)
WORD_BENCHMARKS: dict[str, tuple[str, RemoteFile, str]] = {
    "questions-words": (
        "analogies",
        RemoteFile(
            "questions-words.txt",
            (_GENSIM.format("questions-words.txt"),),
            "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
            size=603_955,
        ),
        "analogies/questions-words",
    ),
    "wordsim353": (
        "pairs",
        RemoteFile(
            "wordsim353.tsv",
            (_GENSIM.format("wordsim353.tsv"),),
            "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
            size=7_186,
        ),
        "analogies/wordsim353",
    ),
}


def word_benchmark(name: str, progress: bool = True) -> tuple[str, Path]:
    """(kind, verified local path) of a registered test set: kind "analogies" or "pairs".

    Raises:
        MissingDataError: an unknown name, or a file that cannot be found or downloaded.
        ChecksumError: a file with the wrong sha256.
    """
    if name not in WORD_BENCHMARKS:
        raise MissingDataError(f"unknown word-vector test set {name!r} (known: "
                               f"{', '.join(WORD_BENCHMARKS)})")  # fmt: skip
    kind, file, subdir = WORD_BENCHMARKS[name]
    return kind, fetch(file, subdir, progress)
