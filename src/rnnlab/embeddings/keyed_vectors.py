"""Word vectors by word: nearest neighbours under three metrics, and analogies.

Symbols: V words, D dimensions. ``KeyedVectors`` holds ``words`` (V,) in frequency order (most
frequent first, as word2vec, GloVe and rnnlab write them) and ``vectors`` (V, D) float32.

The three metrics of the lecture, between a query q and a word vector e:

    cosine      cos(q, e) = q . e / (|q| |e|)     higher is nearer
    euclidean   |q - e|_2 = sqrt(sum_i (q_i - e_i)^2)   lower is nearer
    manhattan   |q - e|_1 = sum_i |q_i - e_i|     lower is nearer

A query of several words, ``most_similar(positive=[b, c], negative=[a])``, is for the cosine
the mean of the words' unit vectors, signed (what gensim and word2vec's ``distance`` do), and for
the two distances the signed sum of the raw vectors, e_b - e_a + e_c. The query words are never
answers. The analogy a : b :: c : ? (Levy & Goldberg 2014), each cosine over unit vectors:

    3CosAdd   argmax_d cos(d, b) - cos(d, a) + cos(d, c)
    3CosMul   argmax_d cos'(d, b) cos'(d, c) / (cos'(d, a) + 1e-6),  cos' = (cos + 1) / 2

(3CosAdd's ranking is the cosine ranking of the query unitvec(b^ - a^ + c^), whose cosine is the
score returned, as gensim's ``most_similar``; 3CosMul's shift to [0, 1] and epsilon are gensim's
``most_similar_cosmul``.) ``restrict_vocab=N`` searches the N most frequent words only, as the
standard analogy evaluation does (N = 30,000).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnlab.errors import InputError

__all__ = ["METRICS", "KeyedVectors", "UnknownWordError"]

METRICS = ("cosine", "euclidean", "manhattan")
_ROWS = 65536  # rows per block when scanning the vocabulary for a distance


class UnknownWordError(InputError, KeyError):
    """A word that the vectors do not hold (a KeyError and an InputError)."""

    def __str__(self) -> str:  # a KeyError would print its message quoted
        return str(self.args[0])


class KeyedVectors:
    """Word vectors: ``vectors[i]`` (D,) is the vector of ``words[i]``.

    Args:
        words: V distinct words, most frequent first (``restrict_vocab`` keeps a prefix).
        vectors: (V, D) array-like, stored as float32.
        counts: optional (V,) corpus counts (kept when saved by rnnlab, not in the file formats).

    Raises:
        InputError: empty, duplicate words, or a shape that does not fit ``words``.
    """

    def __init__(self, words: Sequence[str], vectors, counts: Sequence[int] | None = None):
        vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        words = list(words)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise InputError(f"expected vectors of shape ({len(words)}, D) for {len(words)} "
                             f"words, got {tuple(vectors.shape)}")  # fmt: skip
        if not words or vectors.shape[1] == 0:
            raise InputError("word vectors need at least one word and one dimension")
        self.words, self.vectors = words, vectors
        self.index = {w: i for i, w in enumerate(words)}
        if len(self.index) != len(words):
            dup = next(w for i, w in enumerate(words) if self.index[w] != i)
            raise InputError(f"the word {dup!r} appears more than once")
        if counts is not None and len(counts) != len(words):
            raise InputError(f"{len(counts)} counts for {len(words)} words")
        self.counts = None if counts is None else [int(c) for c in counts]
        self._unit: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector (D,) of ``word`` (UnknownWordError if it is not held)."""
        return self.vectors[self.id(word)]

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self):,} words, {self.dim} dimensions)"

    @property
    def dim(self) -> int:
        """D, the number of dimensions."""
        return int(self.vectors.shape[1])

    def id(self, word: str) -> int:
        """The row of ``word``; UnknownWordError naming it (and a near spelling) otherwise."""
        try:
            return self.index[word]
        except KeyError:
            hint = f" (did you mean {word.lower()!r}?)" if word.lower() in self.index else ""
            raise UnknownWordError(f"{word!r} is not in the vocabulary of {len(self):,} "
                                   f"words{hint}") from None  # fmt: skip

    def unit(self) -> np.ndarray:
        """(V, D) the vectors scaled to length 1 (a zero vector stays zero); computed once."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)  # (V, 1)
            self._unit = self.vectors / np.where(norms > 0, norms, 1.0)
        return self._unit

    def similarity(self, a: str, b: str) -> float:
        """cos(e_a, e_b)."""
        u = self.unit()
        return float(u[self.id(a)] @ u[self.id(b)])

    def distance(self, a: str, b: str, metric: str = "cosine") -> float:
        """The distance between two words: 1 - cos, |e_a - e_b|_2 or |e_a - e_b|_1."""
        _check_metric(metric)
        if metric == "cosine":
            return 1.0 - self.similarity(a, b)
        return float(_distances(self.vectors[self.id(a)][None], self[b], metric)[0])

    def most_similar(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] = (),
        negative: Sequence[str | np.ndarray] = (),
        topn: int = 10,
        metric: str = "cosine",
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``topn`` words nearest the query, nearest first, as ``(word, score)``: cosine
        similarity, or the euclidean or manhattan distance (see the module docstring for how
        several words make one query). Words of the query are never answers.

        Args:
            positive: a word, a (D,) vector, or a list of them (added).
            negative: words or vectors subtracted.
            topn: answers to return (fewer when the searched vocabulary is smaller).
            metric: "cosine", "euclidean" or "manhattan".
            restrict_vocab: search only the N most frequent words.
        """
        _check_metric(metric)
        if topn < 1:
            raise InputError(f"topn must be >= 1, got {topn}")
        if isinstance(positive, (str, np.ndarray)):
            positive = [positive]
        terms = [(t, 1.0) for t in positive] + [(t, -1.0) for t in negative]
        if not terms:
            raise InputError("most_similar needs at least one word or vector")
        exclude = {self.id(t) for t, _ in terms if isinstance(t, str)}
        vecs = self.unit() if metric == "cosine" else self.vectors
        rows = [vecs[self.id(t)] if isinstance(t, str) else self._vector(t) for t, _ in terms]
        query = np.sum([sign * r for r, (_, sign) in zip(rows, terms, strict=True)], axis=0)
        n = len(self) if restrict_vocab is None else max(1, min(restrict_vocab, len(self)))
        if metric == "cosine":
            # the mean of the signed unit vectors, made a unit vector: its cosine with each word
            query = query / len(terms)
            norm = np.linalg.norm(query)
            scores = vecs[:n] @ (query / norm if norm > 0 else query)  # (n,)
            order = -scores
        else:
            scores = _distances(vecs[:n], query, metric)  # (n,)
            order = scores
        return self._best(order, scores, exclude, topn)

    def analogy(
        self, a: str, b: str, c: str, topn: int = 1, method: str = "add",
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:  # fmt: skip
        """a : b :: c : ?, the best ``topn`` answers first with their scores (3CosAdd or
        3CosMul, see the module docstring); a, b and c are never answers.

        Args:
            method: "add" (3CosAdd) or "mul" (3CosMul).
            restrict_vocab: search only the N most frequent words (the standard: 30,000).
        """
        if method == "add":
            return self.most_similar([b, c], [a], topn=topn, restrict_vocab=restrict_vocab)
        if method != "mul":
            raise InputError(f"method must be 'add' (3CosAdd) or 'mul' (3CosMul), got {method!r}")
        if topn < 1:
            raise InputError(f"topn must be >= 1, got {topn}")
        u = self.unit()
        ia, ib, ic = self.id(a), self.id(b), self.id(c)
        n = len(self) if restrict_vocab is None else max(1, min(restrict_vocab, len(self)))
        # cos' = (cos + 1) / 2 of every candidate d with a, b and c
        cos_a, cos_b, cos_c = ((u[:n] @ u[i] + 1.0) / 2.0 for i in (ia, ib, ic))  # (n,) each
        # 3CosMul: cos'(d, b) cos'(d, c) / (cos'(d, a) + 1e-6)
        scores = cos_b * cos_c / (cos_a + 1e-6)  # (n,)
        return self._best(-scores, scores, {ia, ib, ic}, topn)

    def restrict(self, n: int) -> KeyedVectors:
        """The ``n`` most frequent words and their vectors (a copy)."""
        if n < 1:
            raise InputError(f"cannot keep {n} words: n must be >= 1")
        counts = None if self.counts is None else self.counts[:n]
        return KeyedVectors(self.words[:n], self.vectors[:n].copy(), counts)

    def _vector(self, v) -> np.ndarray:
        v = np.asarray(v, dtype=np.float32)
        if v.shape != (self.dim,):
            raise InputError(f"a query vector must have shape ({self.dim},), got {v.shape}")
        return v

    def _best(self, order: np.ndarray, scores: np.ndarray, exclude: set[int], topn: int):
        """The ``topn`` rows with the lowest ``order`` not in ``exclude``, with their scores."""
        k = min(len(order), topn + len(exclude))
        top = np.argpartition(order, k - 1)[:k] if k < len(order) else np.arange(len(order))
        top = top[np.lexsort((top, order[top]))]  # by order, ties by row (frequency)
        best = [int(i) for i in top if int(i) not in exclude][:topn]
        return [(self.words[i], float(scores[i])) for i in best]


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise InputError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")


def _distances(vectors: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """(n,) the euclidean or manhattan distance of each row of ``vectors`` (n, D) to ``query``
    (D,), in blocks of rows so that the (rows, D) difference stays small."""
    out = np.empty(len(vectors), dtype=np.float64)
    for start in range(0, len(vectors), _ROWS):
        diff = vectors[start : start + _ROWS].astype(np.float64) - query  # (rows, D)
        if metric == "euclidean":
            # |q - e|_2 = sqrt(sum_i (q_i - e_i)^2)
            out[start : start + _ROWS] = np.sqrt(np.einsum("nd,nd->n", diff, diff))
        else:
            # |q - e|_1 = sum_i |q_i - e_i|
            out[start : start + _ROWS] = np.abs(diff).sum(1)
    return out
