"""Word embeddings: vectors by word, their files, nearest neighbours, analogies, evaluation.

>>> import rnnlab
>>> from rnnlab import embeddings
>>> kv = embeddings.from_model(rnnlab.load("runs/imdb_w2v"))   # or any word-level run
>>> glove = embeddings.load("glove.6B.100d.txt")    # a word2vec / GloVe file
>>> kv.analogy("man", "woman", "king")              # man : woman :: king : ?
[('queen', 0.71)]
>>> kv.most_similar("king", metric="manhattan", topn=3)
>>> embeddings.write_vectors(kv, "vectors.txt", format="word2vec")

:class:`KeyedVectors` (``most_similar`` under cosine, euclidean or manhattan distance; 3CosAdd and
3CosMul analogies; a top-N vocabulary restriction) answers as gensim's ``KeyedVectors`` does on
the same vectors. :func:`read_vectors` / :func:`write_vectors` read and write word2vec text,
word2vec binary and GloVe text in bounded memory; :func:`from_model` takes the embedding matrix
of any trained word-level rnnlab model (the lecture's route); :func:`evaluate_analogies` and
:func:`evaluate_word_pairs` are the standard checks (questions-words, WordSim-353). Training
(skip-gram, CBOW) is :mod:`rnnlab.tasks.embeddings`.
"""

from rnnlab.embeddings.evaluation import (
    AnalogyScores,
    WordPairScores,
    evaluate_analogies,
    evaluate_word_pairs,
    read_analogies,
    read_word_pairs,
)
from rnnlab.embeddings.formats import FORMATS, detect_format, read_vectors, write_vectors
from rnnlab.embeddings.keyed_vectors import METRICS, KeyedVectors, UnknownWordError
from rnnlab.embeddings.sources import from_model, load

__all__ = [
    "FORMATS",
    "METRICS",
    "AnalogyScores",
    "KeyedVectors",
    "UnknownWordError",
    "WordPairScores",
    "detect_format",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "from_model",
    "load",
    "read_analogies",
    "read_vectors",
    "read_word_pairs",
    "write_vectors",
]
