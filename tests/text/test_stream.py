"""Contiguous-stream batches for truncated BPTT: rows, chunks, the first-chunk flag, errors."""

from __future__ import annotations

import pytest
import torch

from rnnlab.text.stream import StreamBatch, StreamBatches, batchify


def test_batchify_cuts_contiguous_rows_and_drops_the_remainder():
    data = batchify(list(range(23)), 4)  # L = 5, 3 ids dropped
    assert data.dtype == torch.long and data.shape == (4, 5)
    assert data.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14],
                             [15, 16, 17, 18, 19]]  # fmt: skip
    assert torch.equal(batchify(torch.arange(6), 1), torch.arange(6).view(1, 6))


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True])
def test_batchify_rejects_a_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        batchify(range(10), batch_size)


def test_batchify_rejects_a_stream_too_short_for_its_rows():
    with pytest.raises(ValueError, match="too short for 4 rows"):
        batchify(range(7), 4)


@pytest.mark.parametrize("N, B, bptt", [(101, 3, 7), (100, 4, 33), (50, 1, 49), (50, 1, 100)])
def test_chunks_tile_every_row_and_targets_are_the_next_tokens(N, B, bptt):
    ids = torch.randint(4, 50, (N,))
    batches = StreamBatches(ids, B, bptt)
    data = batchify(ids, B)
    chunks = list(batches)
    assert len(chunks) == len(batches) == -(-(data.shape[1] - 1) // bptt)
    assert all(isinstance(c, StreamBatch) for c in chunks)
    assert [c.first for c in chunks] == [True] + [False] * (len(chunks) - 1)
    assert all(c.inputs.shape == c.targets.shape and c.inputs.shape[1] <= bptt for c in chunks)
    assert torch.equal(torch.cat([c.inputs for c in chunks], 1), data[:, :-1])
    assert torch.equal(torch.cat([c.targets for c in chunks], 1), data[:, 1:])
    assert batches.num_targets == sum(c.targets.numel() for c in chunks) == B * (N // B - 1)


def test_every_pass_is_the_same():
    batches = StreamBatches(torch.arange(200), 3, 10)
    first, second = list(batches), list(batches)
    assert len(first) == len(second) == 7
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
        assert a.first == b.first


@pytest.mark.parametrize("bptt", [0, -3, 1.5, None])
def test_bptt_must_be_a_positive_int(bptt):
    with pytest.raises(ValueError, match="bptt"):
        StreamBatches(range(100), 2, bptt)
