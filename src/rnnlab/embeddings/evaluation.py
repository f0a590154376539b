"""The two standard checks of word vectors: analogy questions and word-pair similarity.

Analogies (Mikolov et al. 2013, ``questions-words.txt``): sections headed ``: name``, then lines
``a b c d`` meaning a : b :: c : d. As gensim's ``evaluate_word_analogies`` does, words are
compared lower-cased (the most frequent spelling stands for a word), only the ``restrict_vocab``
most frequent words are searched and asked about (a question with a word outside them is skipped:
``coverage`` says how many were asked), and the answer is the best word other than a, b and c by
3CosAdd or 3CosMul (:class:`KeyedVectors`). Accuracy = correct / asked, per section and overall.

Word pairs (WordSim-353, or any file of ``word1 word2 score`` lines, tab- or space-separated, ``#``
comments): Spearman's rho between the human scores and cos(e_1, e_2) over the pairs whose words
are both held (the rest are counted as out of vocabulary), as gensim's ``evaluate_word_pairs``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.embeddings.keyed_vectors import KeyedVectors
from rnnlab.errors import InputError, MissingFileError

__all__ = [
    "AnalogyScores",
    "WordPairScores",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "read_analogies",
    "read_word_pairs",
]

SEMANTIC = {"capital-common-countries", "capital-world", "currency", "city-in-state", "family"}
_BATCH = 512  # questions scored together


def _lines(path: str | os.PathLike) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"no such file: {path}")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_analogies(path: str | os.PathLike) -> dict[str, list[tuple[str, str, str, str]]]:
    """Section name -> its questions (a, b, c, d), in file order.

    Raises:
        InputError: a question line without four words, a question before any section, or no
        questions at all.
    """
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    for no, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        if line.startswith(":"):
            current = line[1:].strip()
            sections.setdefault(current, [])
            continue
        words = line.split()
        if len(words) != 4:
            raise InputError(f"{path}, line {no}: expected 4 words 'a b c d', got {line[:80]!r}")
        if current is None:
            raise InputError(f"{path}, line {no}: a question before the first ': section' line")
        sections[current].append(tuple(words))
    if not any(sections.values()):
        raise InputError(f"{path} holds no analogy questions ('a b c d' lines)")
    return sections


def read_word_pairs(path: str | os.PathLike) -> list[tuple[str, str, float]]:
    """(word1, word2, score) of each ``word1 word2 score`` line (tabs or spaces; ``#`` comments).

    Raises:
        InputError: a line without exactly three fields or a score that is not a number; fewer
        than two pairs.
    """
    pairs = []
    for no, line in enumerate(_lines(path), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields]
        if len(fields) != 3:
            raise InputError(f"{path}, line {no}: expected 'word1 word2 score', got {line[:80]!r}")
        try:
            score = float(fields[2])
        except ValueError:
            bad = fields[2]
            raise InputError(f"{path}, line {no}: the score {bad!r} is not a number") from None
        pairs.append((fields[0], fields[1], score))
    if len(pairs) < 2:
        raise InputError(f"{path} holds {len(pairs)} word pairs: a correlation needs 2 or more")
    return pairs


@dataclass
class AnalogyScores:
    """Analogy accuracy: per section ``(correct, asked, total)``; asked excludes questions with a
    word outside the searched vocabulary."""

    sections: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def _sum(self, names) -> tuple[int, int, int]:
        rows = [self.sections[n] for n in names]
        return tuple(sum(r[i] for r in rows) for i in range(3))  # type: ignore[return-value]

    @property
    def correct(self) -> int:
        return self._sum(self.sections)[0]

    @property
    def asked(self) -> int:
        return self._sum(self.sections)[1]

    @property
    def total(self) -> int:
        return self._sum(self.sections)[2]

    @property
    def accuracy(self) -> float:
        """correct / asked over every section (0 when nothing could be asked)."""
        return self.correct / self.asked if self.asked else 0.0

    @property
    def coverage(self) -> float:
        """asked / total."""
        return self.asked / self.total if self.total else 0.0

    def group(self, semantic: bool) -> tuple[int, int, int]:
        """(correct, asked, total) of the semantic (or the syntactic) sections."""
        return self._sum([n for n in self.sections if (n in SEMANTIC) == semantic])


@dataclass
class WordPairScores:
    """Correlation of cosine similarity with human scores over the pairs held."""

    spearman: float
    pearson: float
    used: int  # pairs whose words are both held
    total: int

    @property
    def oov(self) -> int:
        return self.total - self.used


def _lower_index(kv: KeyedVectors, n: int) -> dict[str, int]:
    """Lower-cased word -> row among the ``n`` most frequent (the most frequent spelling)."""
    index: dict[str, int] = {}
    for i, w in enumerate(kv.words[:n]):
        index.setdefault(w.lower(), i)
    return index


def evaluate_analogies(
    kv: KeyedVectors,
    questions: dict[str, list[tuple[str, str, str, str]]],
    restrict_vocab: int = 30000,
    method: str = "add",
) -> AnalogyScores:
    """Answer every question whose four words are among the ``restrict_vocab`` most frequent
    (lower-cased), by 3CosAdd (``method="add"``) or 3CosMul (``"mul"``) over those words,
    excluding a, b and c (every spelling of them). Questions are scored in batches of 512.
    """
    if method not in ("add", "mul"):
        raise InputError(f"method must be 'add' (3CosAdd) or 'mul' (3CosMul), got {method!r}")
    n = min(restrict_vocab, len(kv))
    index = _lower_index(kv, n)
    unit = kv.unit()[:n]  # (n, D)
    # every spelling of a word shares its lower-cased form's group: excluded together
    group = np.array([index[w.lower()] for w in kv.words[:n]])  # (n,)
    scores = AnalogyScores()
    for name, qs in questions.items():
        ok = [q for q in qs if all(w.lower() in index for w in q)]
        ids = np.array([[index[w.lower()] for w in q] for q in ok], dtype=np.int64).reshape(-1, 4)
        correct = 0
        for start in range(0, len(ids), _BATCH):
            a, b, c, d = ids[start : start + _BATCH].T  # (Q,) each
            if method == "add":
                # 3CosAdd: cos(x, unitvec(b^ - a^ + c^)), ranked as cos(x,b) - cos(x,a) + cos(x,c)
                query = unit[b] - unit[a] + unit[c]  # (Q, D)
                query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
                sim = query @ unit.T  # (Q, n)
            else:
                # 3CosMul: cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6), cos' = (cos + 1) / 2
                ca, cb, cc = ((unit[i] @ unit.T + 1.0) / 2.0 for i in (a, b, c))  # (Q, n) each
                sim = cb * cc / (ca + 1e-6)
            for q in (a, b, c):
                sim[group[None, :] == q[:, None]] = -np.inf
            correct += int((group[sim.argmax(1)] == d).sum())
        scores.sections[name] = (correct, len(ok), len(qs))
    return scores


def evaluate_word_pairs(
    kv: KeyedVectors, pairs: list[tuple[str, str, float]], restrict_vocab: int = 300000
) -> WordPairScores:
    """Spearman's rho (and Pearson's r) between the human scores and cos(e_1, e_2) over the
    pairs whose two words (lower-cased) are among the ``restrict_vocab`` most frequent.

    Raises:
        InputError: fewer than two pairs are held.
    """
    n = min(restrict_vocab, len(kv))
    index = _lower_index(kv, n)
    unit = kv.unit()
    held = [(index[a.lower()], index[b.lower()], s) for a, b, s in pairs
            if a.lower() in index and b.lower() in index]  # fmt: skip
    if len(held) < 2:
        raise InputError(f"only {len(held)} of {len(pairs)} word pairs have both words in the "
                         "vocabulary: a correlation needs 2 or more")  # fmt: skip
    model = [float(unit[i] @ unit[j]) for i, j, _ in held]
    human = [s for _, _, s in held]
    from scipy.stats import pearsonr, spearmanr  # rho: Pearson's r of the tie-averaged ranks

    rho, r = spearmanr(human, model).statistic, pearsonr(human, model).statistic
    return WordPairScores(float(rho), float(r), len(held), len(pairs))
