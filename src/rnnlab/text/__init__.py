"""Text pipeline: tokenize, vocabulary, padding, batching.

>>> from rnnlab.text import tokenize, Vocab, pad_sequences
>>> vocab = Vocab.build([tokenize("This phone is very fast!")])
>>> vocab.encode(tokenize("this phone is slow"))
[4, 5, 6, 1]
>>> pad_sequences([[1], [2, 3]]).tolist()
[[0, 1], [2, 3]]
"""

from rnnlab.text.batching import (
    BucketBatchSampler,
    ClassificationDataset,
    PadCollate,
    bucket_loader,
    make_loader,
    pad_batch,
)
from rnnlab.text.padding import pad_sequences
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocab

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIALS",
    "UNK",
    "BucketBatchSampler",
    "ClassificationDataset",
    "PadCollate",
    "Vocab",
    "bucket_loader",
    "make_loader",
    "pad_batch",
    "pad_sequences",
    "tokenize",
]
