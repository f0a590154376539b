"""Word vectors from wherever they are: a vector file, a saved rnnlab run, a model in memory.

The lecture's route to word vectors is the embedding layer of a trained network: row i of a
language model's (or classifier's, or tagger's) ``nn.Embedding`` (V, E) is the vector of its
vocabulary's word i. :func:`from_model` takes those rows, leaving out the reserved tokens
(``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``); a word2vec run (``rnnlab train embeddings``) gives
its input vectors. :func:`load` opens a word2vec/GloVe file; a saved run directory is
``from_model(rnnlab.load(path))`` (this package sits below the saved-model registry, which
imports it, so it does not open run directories itself; ``rnnlab similar/analogy RUN`` take either).
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnlab.embeddings.formats import read_vectors
from rnnlab.embeddings.keyed_vectors import KeyedVectors
from rnnlab.errors import InputError, MissingFileError

__all__ = ["from_model", "load"]


def from_model(model, side: str = "src") -> KeyedVectors:
    """The word vectors of a trained rnnlab model.

    Args:
        model: a :class:`~rnnlab.models.word2vec.Word2Vec`, or any word-level model with an
            ``embedding`` (``nn.Embedding``) and a ``vocab`` (language model, classifier,
            tagger), or a translation model (``src_embedding``/``tgt_embedding``).
        side: a translation model's "src" or "tgt" vocabulary.

    Raises:
        InputError: a character-level model, or a model without a word embedding.
    """
    if hasattr(model, "keyed_vectors"):
        return model.keyed_vectors()
    if getattr(model, "level", "word") == "char":
        raise InputError("a character-level model's embedding holds characters, not words: "
                         "train a word-level model (--level word)")  # fmt: skip
    if hasattr(model, "src_embedding"):
        if side not in ("src", "tgt"):
            raise InputError(f"side must be 'src' or 'tgt', got {side!r}")
        embedding, vocab = getattr(model, f"{side}_embedding"), getattr(model, f"{side}_vocab")
    elif hasattr(model, "embedding") and hasattr(model, "vocab"):
        embedding, vocab = model.embedding, model.vocab
    else:
        raise InputError(f"{type(model).__name__} has no word embedding to take vectors from")
    weight = embedding.weight.detach().float().cpu().numpy()  # (V, E)
    if weight.shape[0] != len(vocab):
        raise InputError(f"the embedding has {weight.shape[0]} rows for {len(vocab)} words")
    first = 4  # the reserved ids 0-3 (rnnlab.text.vocab.SPECIALS) are not words
    return KeyedVectors(vocab.itos[first:], weight[first:].copy())


def load(path: str | os.PathLike, format: str | None = None,
         limit: int | None = None) -> KeyedVectors:  # fmt: skip
    """The word vectors of the file ``path``: word2vec (text or binary) or GloVe (``format`` as
    :func:`rnnlab.embeddings.read_vectors` takes it). ``limit`` keeps the first (most frequent)
    words. A run directory written by ``rnnlab train`` is ``from_model(rnnlab.load(path))``.

    Raises:
        MissingFileError: nothing at ``path``. InputError: a malformed file, or a directory.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory: for a run written by rnnlab train use "
                         "rnnlab.embeddings.from_model(rnnlab.load(path))")  # fmt: skip
    if not path.exists():
        raise MissingFileError(f"no word vectors at {path}: expected a word2vec or GloVe file")
    return read_vectors(path, format=format, limit=limit)
