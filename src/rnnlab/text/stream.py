"""Contiguous-stream batches for truncated backpropagation through time (TBPTT).

A language model trained Zaremba-style reads its corpus as one long token stream. The stream of
``N`` ids is cut into ``B`` equal rows (the last ``N mod B`` ids are dropped), each row a
contiguous ``L = N // B``-token slice of the text, and the rows are read ``bptt`` steps at a time:

    data    = ids[: B * L].view(B, L)                     (B, L)
    chunk k = data[:, k*bptt : k*bptt + T]                inputs  (B, T), T <= bptt
              data[:, k*bptt + 1 : k*bptt + T + 1]        targets (B, T): the next token of each

Row ``b`` of chunk ``k + 1`` continues row ``b`` of chunk ``k``, so a model may carry its hidden
state from one chunk to the next (detached: gradients flow back at most ``bptt`` steps), and every
target but the first of each row is predicted with all the text before it as context.

Every pass starts again from chunk 0 with ``first=True``: whoever carries the state resets it
there. Nothing here is random, so a pass is the same every epoch, which makes a resumed run
(the trainer replays the epoch's first batches without training on them) exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch

from rnnlab.errors import InputError

__all__ = ["StreamBatch", "StreamBatches", "batchify"]


class StreamBatch(NamedTuple):
    """One chunk of the streams: ``inputs`` and ``targets`` LongTensors ``(B, T)``.

    ``first`` is True for the first chunk of a pass (no state to carry into it).
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    first: bool


def batchify(ids: Sequence[int] | torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut a stream of ``N`` ids into ``B = batch_size`` contiguous rows: ``(B, N // B)`` int64.

    Row ``b`` holds ``ids[b * L : (b + 1) * L]`` with ``L = N // B``; the last ``N mod B`` ids
    are dropped.

    Raises:
        ValueError: ``batch_size < 1``.
        InputError (a ValueError): fewer than ``2 * B`` ids (each row needs an input and a
            target): the text is too short for that many rows.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()  # (N,)
    L = len(ids) // batch_size
    if L < 2:
        raise InputError(
            f"a stream of {len(ids)} tokens is too short for {batch_size} rows: each row needs "
            f"at least 2 tokens; use a smaller batch size or more text"
        )
    return ids[: batch_size * L].view(batch_size, L)  # (B, L)


class StreamBatches:
    """The chunks of a token stream for truncated BPTT, in order (see the module docstring).

    Iterating yields ``ceil((L - 1) / bptt)`` :class:`StreamBatch` es; every pass yields the same
    ones. Re-iterable, with ``len``, so the trainer can use it as a loader.

    Args:
        ids: the stream, ``N`` token ids.
        batch_size: ``B``, the number of parallel rows.
        bptt: ``T``, the steps per chunk (the last chunk of a pass may be shorter).
    """

    def __init__(self, ids: Sequence[int] | torch.Tensor, batch_size: int, bptt: int) -> None:
        if isinstance(bptt, bool) or not isinstance(bptt, int) or bptt < 1:
            raise ValueError(f"bptt must be a positive int, got {bptt!r}")
        self.data = batchify(ids, batch_size)  # (B, L)
        self.batch_size, self.bptt = batch_size, bptt

    @property
    def num_targets(self) -> int:
        """How many tokens a pass predicts: ``B * (L - 1)``."""
        B, L = self.data.shape
        return B * (L - 1)

    def __len__(self) -> int:
        L = self.data.shape[1]
        return -(-(L - 1) // self.bptt)  # ceil((L - 1) / bptt)

    def __iter__(self) -> Iterator[StreamBatch]:
        L = self.data.shape[1]
        for start in range(0, L - 1, self.bptt):
            T = min(self.bptt, L - 1 - start)
            inputs = self.data[:, start : start + T]  # (B, T)
            targets = self.data[:, start + 1 : start + 1 + T]  # (B, T)
            yield StreamBatch(inputs, targets, start == 0)
