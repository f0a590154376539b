"""Word2vec (Mikolov et al. 2013): skip-gram or CBOW with negative sampling, as a saved model.

Symbols: V words, D dimensions. The model is two (V, D) matrices, ``w_in`` (the input vectors
v_w, the word vectors one keeps) and ``w_out`` (the output vectors u_w), over a vocabulary of
the words seen at least ``min_count`` times, most frequent first, with their counts. It has no
forward pass: training is the sparse SGD of :mod:`rnnlab.nn.sgns`, driven by
:mod:`rnnlab.tasks.embeddings`; what the counts give it:

    noise      P_n(w) = count(w)^0.75 / sum_w' count(w')^0.75            (the negatives)
    keep       P_keep(w) = min(1, (sqrt(f(w) / (s N)) + 1) s N / f(w))  (subsampling, s =
               ``sample``, f(w) the count, N the corpus' tokens: word2vec.c's and gensim's)

A saved run is ``config.json`` (task "embeddings") beside ``words.json`` (the words and their
counts) and ``model.safetensors`` (``w_in``, ``w_out``); :meth:`keyed_vectors` gives the word
vectors as :class:`rnnlab.embeddings.KeyedVectors`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from rnnlab.embeddings.keyed_vectors import KeyedVectors

__all__ = ["Word2Vec", "Word2VecConfig"]

WORDS = "words.json"
ARCHITECTURES = ("skipgram", "cbow")


@dataclass
class Word2VecConfig:
    """Word2vec's settings (gensim's defaults, skip-gram)."""

    architecture: str = "skipgram"  # "skipgram" or "cbow"
    dim: int = 100  # D
    window: int = 5  # the largest reduced window: 1..window words each side
    negative: int = 5  # K noise words per centre word
    min_count: int = 5  # rarer words are dropped before training
    max_vocab: int | None = None  # keep only the most frequent words
    sample: float = 1e-3  # subsampling threshold s (0: off)
    alpha: float = 0.025  # the learning rate at the start, falling linearly ...
    min_alpha: float = 0.0001  # ... to this at the end of the last epoch

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, "
                             f"got {self.architecture!r}")  # fmt: skip
        for name in ("dim", "window", "min_count"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 1 <= self.negative <= 64:
            raise ValueError(f"negative must be in 1..64 (negative sampling), got {self.negative}")
        if self.max_vocab is not None and self.max_vocab < 1:
            raise ValueError(f"max_vocab must be >= 1, got {self.max_vocab}")
        if self.sample < 0:
            raise ValueError(f"sample must be >= 0, got {self.sample}")
        if not 0 <= self.min_alpha <= self.alpha:
            raise ValueError(f"expected 0 <= min_alpha <= alpha, got {self.min_alpha} and "
                             f"{self.alpha}")  # fmt: skip


class Word2Vec(nn.Module):
    """Skip-gram / CBOW word vectors over ``words`` (most frequent first) with ``counts``.

    ``w_in`` starts uniform in [-0.5/D, 0.5/D) (from the global torch generator), ``w_out`` at
    zero, as in word2vec.c.
    """

    task = "embeddings"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: Word2VecConfig, words: list[str], counts: list[int]):
        super().__init__()
        if not words or len(words) != len(counts):
            raise ValueError(f"expected as many counts as words (at least one), got "
                             f"{len(words)} words and {len(counts)} counts")  # fmt: skip
        if len(set(words)) != len(words):
            raise ValueError("the words must be distinct")
        self.config, self.words, self.counts = config, list(words), [int(c) for c in counts]
        V, D = len(words), config.dim
        self.w_in = nn.Parameter((torch.rand(V, D) - 0.5) / D, requires_grad=False)  # (V, D)
        self.w_out = nn.Parameter(torch.zeros(V, D), requires_grad=False)  # (V, D)

    def noise_table(self, size: int | None = None) -> torch.Tensor:
        """int32 (S,) word ids, each in proportion to P_n(w) = count^0.75 / sum count^0.75;
        S = 20 V (at least 10^6, at most 10^8) unless ``size`` is given: small enough to stay in
        the CPU's cache (a table of 10^7 costs the native engine 20% of its speed)."""
        V = len(self.words)
        size = size or int(min(10**8, max(10**6, 20 * V)))
        weights = np.asarray(self.counts, dtype=np.float64) ** 0.75  # (V,)
        cumulative = np.cumsum(weights) / weights.sum()  # (V,)
        points = (np.arange(size, dtype=np.float64) + 0.5) / size  # (S,)
        ids = np.searchsorted(cumulative, points, side="right").clip(max=V - 1)
        return torch.from_numpy(ids.astype(np.int32))

    def keep_probability(self) -> torch.Tensor:
        """float32 (V,) P_keep(w) = min(1, (sqrt(f / (s N)) + 1) s N / f); ones when s = 0."""
        counts = np.asarray(self.counts, dtype=np.float64)  # (V,)
        if self.config.sample == 0:
            return torch.ones(len(counts))
        threshold = self.config.sample * counts.sum()  # s N
        keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
        return torch.from_numpy(np.minimum(keep, 1.0).astype(np.float32))

    def keyed_vectors(self) -> KeyedVectors:
        """The input vectors by word (a copy), with the counts."""
        return KeyedVectors(self.words, self.w_in.detach().cpu().numpy().copy(), self.counts)

    def to_saved(self) -> tuple[dict, dict]:
        """config.json's fields and words.json (see :mod:`rnnlab.saved`)."""
        return {"model": asdict(self.config)}, {WORDS: {"words": self.words,
                                                        "counts": self.counts}}  # fmt: skip

    @classmethod
    def from_saved(cls, config: dict, files) -> Word2Vec:
        """The model of a saved run, with fresh weights (:func:`rnnlab.load` loads them)."""
        cfg = Word2VecConfig(**config["model"])
        vocab = files.json(WORDS)
        return cls(cfg, vocab["words"], vocab["counts"])
