"""Sentence batches for language models: <bos> ... <eos> framing, padding, bucketing, errors."""

from __future__ import annotations

import pytest
import torch

from rnnlab.text.sentences import (
    SentenceBatch,
    SentenceDataset,
    collate_sentences,
    sentence_loader,
)

SEQS = [[2, 5, 6, 7, 3], [2, 8, 3], [2, 9, 9, 3], [2, 3], [2, 4, 4, 4, 4, 4, 3]]


def test_collate_shifts_inputs_and_targets_and_pads_on_the_right():
    batch = collate_sentences([[2, 5, 6, 3], [2, 7, 3]])
    assert isinstance(batch, SentenceBatch)
    assert batch.inputs.tolist() == [[2, 5, 6], [2, 7, 0]]
    assert batch.targets.tolist() == [[5, 6, 3], [7, 3, 0]]
    assert batch.lengths.tolist() == [3, 2]


def test_dataset_lengths_count_the_steps():
    ds = SentenceDataset(SEQS)
    assert len(ds) == 5 and ds[1] == [2, 8, 3]
    assert ds.lengths == [4, 2, 3, 1, 6]


def test_a_sentence_needs_its_two_frame_tokens():
    with pytest.raises(ValueError, match="sentence 1 has 1 ids"):
        SentenceDataset([[2, 3], [2]])


def test_training_batches_cover_every_sentence_once_and_replay_per_epoch():
    ds = SentenceDataset(SEQS * 7)
    loader = sentence_loader(ds, 4, train=True, seed=3)
    seen = sorted(
        tuple(row[:n].tolist()) for b in loader for row, n in zip(b.inputs, b.lengths, strict=True)
    )
    assert seen == sorted(tuple(s[:-1]) for s in ds.seqs)
    loader.batch_sampler.set_epoch(5)
    epoch5 = [b.inputs.tolist() for b in loader]
    loader.batch_sampler.set_epoch(5)
    assert [b.inputs.tolist() for b in loader] == epoch5


def test_evaluation_batches_go_shortest_first_and_never_change():
    loader = sentence_loader(SentenceDataset(SEQS), 2)
    lengths = [b.lengths.tolist() for b in loader]
    assert lengths == [[1, 2], [3, 4], [6]]
    assert [b.lengths.tolist() for b in loader] == lengths


def test_loader_errors():
    with pytest.raises(ValueError, match="batch_size"):
        sentence_loader(SentenceDataset(SEQS), 0)
    with pytest.raises(ValueError, match="no sentences"):
        sentence_loader(SentenceDataset([]), 2)
    assert isinstance(collate_sentences([[2, 3]]).inputs, torch.Tensor)
