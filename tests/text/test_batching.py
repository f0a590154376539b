import doctest
import pickle

import pytest
import torch

import rnnlab.text
from rnnlab.text import (
    BucketBatchSampler,
    ClassificationDataset,
    PadCollate,
    Vocab,
    make_loader,
    pad_batch,
    tokenize,
)


def test_package_doctest():
    result = doctest.testmod(rnnlab.text)
    assert result.attempted > 0 and result.failed == 0


def test_pad_batch_post_and_pre():
    ids, lengths = pad_batch([[5, 6, 7], [8]])
    assert ids.dtype == torch.long and lengths.dtype == torch.long
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths.tolist() == [3, 1]
    ids, lengths = pad_batch([[5, 6, 7], [8]], padding="pre")
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]


def test_pad_batch_truncation_keeps_width_minimal():
    ids, lengths = pad_batch([[1, 2, 3, 4], [5]], maxlen=3)  # truncating "pre": keep the end
    assert ids.tolist() == [[2, 3, 4], [5, 0, 0]]
    assert lengths.tolist() == [3, 1]
    ids, lengths = pad_batch([[1, 2], [5]], maxlen=10)  # T is the longest, not maxlen
    assert ids.shape == (2, 2)
    with pytest.raises(ValueError, match="empty"):
        pad_batch([[1], []])


def test_collate_and_loader_from_texts():
    texts = ["A good film!", "bad", "not good , not bad"]
    vocab = Vocab.build(tokenize(t) for t in texts)
    ds = ClassificationDataset.from_texts(texts, [1, 0, 1], vocab)
    assert ds.lengths == [4, 1, 5]
    ids, lengths, labels = next(iter(make_loader(ds, batch_size=3)))
    assert ids.shape == (3, 5)
    assert lengths.tolist() == [4, 1, 5]
    assert labels.tolist() == [1, 0, 1]
    assert vocab.decode(ids[0, :4].tolist()) == ["a", "good", "film", "!"]
    assert ids[0, 4:].tolist() == [0] and ids[1, 1:].tolist() == [0] * 4
    # every real position is non-pad, every padded one is pad
    mask = torch.arange(5)[None, :] < lengths[:, None]  # (B, T)
    assert bool((ids[mask] != 0).all()) and bool((ids[~mask] == 0).all())


def test_pad_collate_validates_and_pickles():
    with pytest.raises(ValueError, match="padding"):
        PadCollate(padding="left")
    with pytest.raises(ValueError, match="maxlen"):
        PadCollate(maxlen=0)
    collate = pickle.loads(pickle.dumps(PadCollate(padding="pre", maxlen=2)))
    ids, lengths, labels = collate([([1, 2, 3], 0), ([4], 1)])
    assert ids.tolist() == [[2, 3], [0, 4]] and lengths.tolist() == [2, 1]
    assert labels.tolist() == [0, 1]


def test_dataset_validates():
    with pytest.raises(ValueError, match="labels"):
        ClassificationDataset([[1]], [0, 1])
    with pytest.raises(ValueError, match="example 1 has no tokens"):
        ClassificationDataset([[1], []], [0, 1])


def test_bucket_sampler_covers_every_index_once_and_cuts_padding():
    g = torch.Generator().manual_seed(1)
    lengths = torch.randint(1, 100, (1000,), generator=g).tolist()
    sampler = BucketBatchSampler(lengths, batch_size=16, seed=0, pool_batches=10)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 6 * 10 + 3  # 6 full pools of 160, 40 left -> 3
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert padded / sum(lengths) < 1.15  # random batching would pay about 1.9x

    plain = [list(range(i, min(i + 16, 1000))) for i in range(0, 1000, 16)]
    plain_padded = sum(len(b) * max(lengths[i] for i in b) for b in plain)
    assert plain_padded / sum(lengths) > 1.5


def test_bucket_sampler_epochs_are_seeded_and_resumable():
    lengths = list(range(1, 101))
    a = BucketBatchSampler(lengths, batch_size=8, seed=3, pool_batches=2)
    epoch0, epoch1 = list(a), list(a)
    assert epoch0 != epoch1  # a new order each epoch
    b = BucketBatchSampler(lengths, batch_size=8, seed=3, pool_batches=2)
    b.set_epoch(1)
    assert list(b) == epoch1  # resuming at epoch 1 gives epoch 1's batches
    assert list(BucketBatchSampler(lengths, 8, seed=4, pool_batches=2)) != epoch0


def test_bucket_sampler_drop_last():
    sampler = BucketBatchSampler(list(range(1, 51)), batch_size=8, pool_batches=100, drop_last=True)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 6
    assert all(len(b) == 8 for b in batches)
    with pytest.raises(ValueError, match="batch_size"):
        BucketBatchSampler([1], batch_size=0)


def test_make_loader_bucket_and_shuffle():
    ds = ClassificationDataset([[1] * n for n in range(1, 41)], [n % 2 for n in range(40)])
    loader = make_loader(ds, batch_size=4, bucket=True, seed=0)
    seen = []
    for ids, lengths, labels in loader:
        assert ids.shape[1] == int(lengths.max())
        assert labels.tolist() == [(n - 1) % 2 for n in lengths.tolist()]  # pairs stay together
        seen += lengths.tolist()
    assert sorted(seen) == list(range(1, 41))
    order = [lengths.tolist() for _, lengths, _ in make_loader(ds, 4, shuffle=True, seed=5)]
    again = [lengths.tolist() for _, lengths, _ in make_loader(ds, 4, shuffle=True, seed=5)]
    assert order == again and order != [lengths.tolist() for _, lengths, _ in make_loader(ds, 4)]
