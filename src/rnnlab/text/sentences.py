"""Sentence-wise batches for a language model: each sentence framed by ``<bos>`` and ``<eos>``.

A sentence ``y_1 .. y_n`` becomes the id sequence ``<bos> y_1 .. y_n <eos>``; the model reads all
but the last id and predicts all but the first, so every sentence starts from a fresh state:

    inputs  = <bos> y_1 .. y_n         (n + 1 ids)
    targets = y_1 .. y_n <eos>         (n + 1 ids)

A batch pads both on the right with ``<pad>`` = 0 to the longest sentence ``T`` and keeps each
sentence's length ``n + 1`` (a loss ignores the padded targets). Training batches group sentences
of similar length (:class:`~rnnlab.text.batching.BucketBatchSampler`, reseedable per epoch, so a
resumed run sees the same batches); evaluation batches go shortest first, always the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, Dataset

from rnnlab.text.batching import bucket_loader, pad_batch

__all__ = ["SentenceBatch", "SentenceDataset", "collate_sentences", "sentence_loader"]


class SentenceBatch(NamedTuple):
    """``inputs`` and ``targets`` LongTensors ``(B, T)`` right-padded with 0; ``lengths (B,)``."""

    inputs: torch.Tensor
    targets: torch.Tensor
    lengths: torch.Tensor


class SentenceDataset(Dataset):
    """``N`` framed sentences: id sequences ``<bos> y_1 .. y_n <eos>``, each at least 2 ids long.

    Args:
        seqs: the framed id sequences.
    """

    def __init__(self, seqs: Sequence[Sequence[int]]) -> None:
        self.seqs = [list(map(int, s)) for s in seqs]
        for i, s in enumerate(self.seqs):
            if len(s) < 2:
                raise ValueError(
                    f"sentence {i} has {len(s)} ids; a framed sentence needs at least 2 "
                    "(<bos> and <eos>)"
                )

    def __len__(self) -> int:
        return len(self.seqs)

    def __getitem__(self, i: int) -> list[int]:
        return self.seqs[i]

    @property
    def lengths(self) -> list[int]:
        """Steps of every sentence, ``len(seq) - 1`` (what bucketing sorts by)."""
        return [len(s) - 1 for s in self.seqs]


def collate_sentences(seqs: Sequence[Sequence[int]]) -> SentenceBatch:
    """``B`` framed sentences -> a :class:`SentenceBatch` (inputs/targets ``(B, T)``, lengths)."""
    inputs, lengths = pad_batch([s[:-1] for s in seqs])  # (B, T), (B,)
    targets, _ = pad_batch([s[1:] for s in seqs])  # (B, T)
    return SentenceBatch(inputs, targets, lengths)


def sentence_loader(
    dataset: SentenceDataset, batch_size: int, train: bool = False, seed: int = 0
) -> DataLoader:
    """A DataLoader of :class:`SentenceBatch` es over ``dataset``.

    Args:
        dataset: the framed sentences.
        batch_size: sentences per batch.
        train: bucket by length and shuffle the batches, reseeded per epoch
            (``loader.batch_sampler.set_epoch``); otherwise shortest first, in fixed batches.
        seed: base seed of the training shuffles.
    """
    if len(dataset) == 0:
        raise ValueError("no sentences to batch")
    return bucket_loader(dataset, batch_size, collate_sentences, train=train, seed=seed)
