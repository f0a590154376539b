"""Batching id sequences for torch's ``DataLoader``: a dataset, a padding collate, bucketing.

A batch of ``B`` examples becomes ``(ids, lengths, labels)``: ``ids`` a ``LongTensor (B, T)``
padded with ``<pad>`` = 0 to the longest (possibly truncated) sequence ``T``, ``lengths`` a
``LongTensor (B,)`` of real lengths, ``labels`` a ``LongTensor (B,)``.

Padding defaults to ``"post"`` here (unlike :func:`pad_sequences`' Keras default ``"pre"``):
rnnlab's layers take ``lengths`` and read the last *real* state, and with post-padding the
forward direction never sees a pad before the text. Pass ``padding="pre"`` for the Keras recipe.

Bucketing (:class:`BucketBatchSampler`) groups examples of similar length into a batch, which
cuts the padding an RNN has to step through, while keeping the batch order random.
:func:`bucket_loader` is the one loader every task trains and evaluates with (classification,
tagging, translation, sentence language models): any dataset with ``lengths``, any collate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from rnnlab.text.padding import pad_sequences
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import Vocab

__all__ = [
    "BucketBatchSampler",
    "ClassificationDataset",
    "PadCollate",
    "bucket_loader",
    "make_loader",
    "pad_batch",
]


class ClassificationDataset(Dataset):
    """``N`` examples ``(ids, label)``: a list of token ids and an integer class.

    Args:
        ids: ``N`` id sequences (each non-empty).
        labels: ``N`` integer labels.
    """

    def __init__(self, ids: Sequence[Sequence[int]], labels: Sequence[int]) -> None:
        if len(ids) != len(labels):
            raise ValueError(f"{len(ids)} id sequences but {len(labels)} labels")
        self.ids = [list(map(int, seq)) for seq in ids]
        self.labels = [int(y) for y in labels]
        for i, seq in enumerate(self.ids):
            if not seq:
                raise ValueError(f"example {i} has no tokens")

    @classmethod
    def from_texts(
        cls, texts: Sequence[str], labels: Sequence[int], vocab: Vocab, level: str = "word"
    ) -> ClassificationDataset:
        """Tokenise (:func:`tokenize` at ``level``) and encode (``vocab.encode``) ``texts``."""
        return cls([vocab.encode(tokenize(text, level)) for text in texts], labels)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[list[int], int]:
        return self.ids[i], self.labels[i]

    @property
    def lengths(self) -> list[int]:
        """Length of every example's id sequence, ``N`` ints (what bucketing sorts by)."""
        return [len(seq) for seq in self.ids]


def pad_batch(
    seqs: Sequence[Sequence[int]],
    padding: str = "post",
    maxlen: int | None = None,
    truncating: str = "pre",
    value: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad ``B`` id sequences into a tensor, returning their lengths too.

    Args:
        seqs: ``B`` non-empty id sequences.
        padding, truncating, value: as in :func:`pad_sequences`.
        maxlen: cut longer sequences to this length; ``None``: no cut. ``T`` is the longest
            length after cutting, so a batch is never wider than it needs to be.

    Returns:
        ``ids`` LongTensor ``(B, T)`` and ``lengths`` LongTensor ``(B,)`` (after truncation).
    """
    if maxlen is not None and maxlen < 1:
        raise ValueError(f"maxlen must be >= 1 or None, got {maxlen}")
    lengths = [len(s) for s in seqs]
    for i, n in enumerate(lengths):
        if n == 0:
            raise ValueError(f"sequence {i} of the batch is empty; every example needs a token")
    if maxlen is not None:
        lengths = [min(n, maxlen) for n in lengths]
    T = max(lengths, default=0)
    ids = pad_sequences(seqs, T, "int64", padding, truncating, value)  # (B, T)
    return torch.from_numpy(ids), torch.tensor(lengths, dtype=torch.long)


@dataclass
class PadCollate:
    """``collate_fn`` for a ``DataLoader`` over :class:`ClassificationDataset`.

    Turns ``B`` items ``(ids, label)`` into ``(ids (B, T), lengths (B,), labels (B,))``, all
    LongTensors (see :func:`pad_batch`). A plain dataclass, so it pickles for worker processes.
    """

    padding: str = "post"
    maxlen: int | None = None  # truncate longer examples (e.g. 400 for full reviews)
    truncating: str = "pre"  # "pre" keeps the end of a long text
    value: int = 0  # the <pad> id

    def __post_init__(self) -> None:
        for name in ("padding", "truncating"):
            if getattr(self, name) not in ("pre", "post"):
                raise ValueError(f'{name} must be "pre" or "post", got {getattr(self, name)!r}')
        if self.maxlen is not None and self.maxlen < 1:
            raise ValueError(f"maxlen must be >= 1 or None, got {self.maxlen}")

    def __call__(
        self, batch: Sequence[tuple[Sequence[int], int]]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        seqs = [ids for ids, _ in batch]
        ids, lengths = pad_batch(seqs, self.padding, self.maxlen, self.truncating, self.value)
        labels = torch.tensor([label for _, label in batch], dtype=torch.long)  # (B,)
        return ids, lengths, labels


class BucketBatchSampler(Sampler[list[int]]):
    """Yields batches of indices whose examples have similar lengths, in random order.

    Each epoch: shuffle all indices (seeded by ``seed + epoch``), cut them into pools of
    ``batch_size * pool_batches``, sort each pool by length, cut it into batches, and shuffle
    the order of all batches. Every index appears exactly once per epoch.

    The epoch advances by one on each pass; call :meth:`set_epoch` to pin it (when resuming a
    run), so the batches of epoch ``e`` are the same whether or not the run was interrupted.

    Args:
        lengths: length of every example (``N`` ints).
        batch_size: examples per batch (the last batch of a pool may be smaller unless
            ``drop_last``).
        seed: base seed of the shuffles.
        pool_batches: how many batches' worth of examples are sorted together; larger pools
            mean less padding but less randomness.
        drop_last: drop batches smaller than ``batch_size``.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        seed: int = 0,
        pool_batches: int = 50,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if pool_batches < 1:
            raise ValueError(f"pool_batches must be >= 1, got {pool_batches}")
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.long)  # (N,)
        self.batch_size = batch_size
        self.seed = seed
        self.pool_batches = pool_batches
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass produce epoch ``epoch``'s batches."""
        self.epoch = epoch

    def _batches(self, epoch: int) -> list[list[int]]:
        g = torch.Generator().manual_seed(self.seed + epoch)
        order = torch.randperm(len(self.lengths), generator=g)  # (N,)
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            # stable sort: equal lengths keep their shuffled order
            chunk = chunk[torch.sort(self.lengths[chunk], stable=True).indices]
            for b in range(0, len(chunk), self.batch_size):
                batch = chunk[b : b + self.batch_size].tolist()
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch)
        perm = torch.randperm(len(batches), generator=g).tolist()
        return [batches[i] for i in perm]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches(self.epoch)
        self.epoch += 1
        return iter(batches)

    def __len__(self) -> int:
        N, pool = len(self.lengths), self.batch_size * self.pool_batches
        full_pools, rest = divmod(N, pool)
        if self.drop_last:
            return full_pools * self.pool_batches + rest // self.batch_size
        return full_pools * self.pool_batches + math.ceil(rest / self.batch_size)


def bucket_loader(
    dataset: Sequence[Any],
    batch_size: int,
    collate_fn: Callable[[list[Any]], Any],
    train: bool = False,
    seed: int = 0,
    lengths: Sequence[int] | None = None,
) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` in batches of examples of similar length.

    Training (``train=True``): :class:`BucketBatchSampler`, so the batches change every epoch and
    are reseeded per epoch (``loader.batch_sampler.set_epoch``, which the trainer calls), making
    an interrupted run resume exactly. Otherwise (evaluation): shortest first, in fixed batches
    (the least padding, the same batches every time).

    Args:
        dataset: ``N`` examples (any indexable sequence or torch ``Dataset``).
        batch_size: examples per batch, a positive int.
        collate_fn: turns a list of examples into a batch (padding them).
        train: bucket and shuffle (training) or sort once (evaluation).
        seed: base seed of the training shuffles.
        lengths: ``N`` lengths to group by; default ``dataset.lengths``.

    Raises:
        ValueError: a bad ``batch_size``, no examples, or ``lengths`` of another size.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    lengths = list(dataset.lengths if lengths is None else lengths)  # type: ignore[attr-defined]
    if len(lengths) != len(dataset):
        raise ValueError(f"{len(lengths)} lengths for {len(dataset)} examples")
    if not lengths:
        raise ValueError("no examples to batch: the data set is empty")
    if train:
        sampler = BucketBatchSampler(lengths, batch_size, seed=seed)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_fn)
    order = sorted(range(len(lengths)), key=lengths.__getitem__)  # (N,) shortest first
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return DataLoader(dataset, batch_sampler=batches, collate_fn=collate_fn)


def make_loader(
    dataset: ClassificationDataset,
    batch_size: int,
    shuffle: bool = False,
    bucket: bool = False,
    seed: int = 0,
    collate: PadCollate | None = None,
) -> DataLoader:
    """A ``DataLoader`` yielding ``(ids (B, T), lengths (B,), labels (B,))`` batches.

    Args:
        dataset: the examples.
        batch_size: examples per batch.
        shuffle: random order each epoch (seeded); ignored when ``bucket`` (which shuffles).
        bucket: batch examples of similar length together (:class:`BucketBatchSampler`);
            for training. Evaluation wants ``shuffle=False, bucket=False``: dataset order.
        seed: seed of the shuffling.
        collate: how to pad; default ``PadCollate()`` (post-padding, no truncation).

    To resume a run at epoch ``e`` with the same batches, call
    ``loader.batch_sampler.set_epoch(e)`` (bucketing) before iterating; with ``shuffle`` the
    order comes from the loader's seeded ``torch.Generator``, whose state is ``loader.generator``.
    """
    collate = collate or PadCollate()
    if bucket:
        return bucket_loader(dataset, batch_size, collate, train=True, seed=seed)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, generator=generator, collate_fn=collate
    )
