"""spec_augment: masks of the promised sizes inside the real frames, none in the padding,
reproducible from a seeded generator."""

import pytest
import torch

from rnnlab.audio import spec_augment
from rnnlab.errors import InputError


def masked(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x != y  # (B, T, F) bool: entries changed


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_one_frequency_mask_covers_whole_bands_of_real_frames():
    x = torch.ones(64, 30, 40)  # (B, T, F)
    lengths = torch.randint(5, 31, (64,), generator=seeded(0))
    y = spec_augment(x, lengths, freq_masks=1, freq_width=8, time_masks=0, generator=seeded(1))
    m = masked(x, y)
    widths = []
    for b, n in enumerate(lengths.tolist()):
        bands = m[b, :n].all(dim=0)  # (F,) masked in every real frame
        assert torch.equal(m[b, :n].any(dim=0), bands)  # whole bands, nothing else
        assert not m[b, n:].any()  # padding untouched
        idx = bands.nonzero().flatten()
        if len(idx):
            assert idx[-1] - idx[0] + 1 == len(idx)  # contiguous
        widths.append(len(idx))
    assert max(widths) <= 8 and len(set(widths)) > 4  # widths 0..8 drawn
    assert torch.all(y[m] == 0)


def test_one_time_mask_stays_inside_the_real_frames():
    x = torch.ones(200, 50, 6)
    lengths = torch.randint(1, 51, (200,), generator=seeded(2))
    y = spec_augment(
        x,
        lengths,
        freq_masks=0,
        time_masks=1,
        time_width=10,
        time_ratio=0.2,
        mask_value=-1.0,
        generator=seeded(3),
    )
    m = masked(x, y)
    for b, n in enumerate(lengths.tolist()):
        frames = m[b].all(dim=1)  # (T,)
        assert torch.equal(m[b].any(dim=1), frames)  # whole frames
        idx = frames.nonzero().flatten()
        assert len(idx) <= min(10, int(0.2 * n))  # the width bound and the ratio bound p
        if len(idx):
            assert idx[-1] < n and idx[-1] - idx[0] + 1 == len(idx)
    assert torch.all(y[m] == -1.0)


def test_counts_with_several_masks_and_reproducibility():
    x = torch.randn(8, 40, 40, generator=seeded(4))
    lengths = torch.tensor([40, 39, 30, 20, 15, 10, 5, 1])
    a = spec_augment(x, lengths, generator=seeded(7))
    b = spec_augment(x, lengths, generator=seeded(7))
    c = spec_augment(x, lengths, generator=seeded(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    m = masked(x, a)
    for i, n in enumerate(lengths.tolist()):
        bands = m[i, :n].all(dim=0).sum()
        assert bands <= 2 * 8  # two frequency masks of at most 8
        assert not m[i, n:].any()
    assert m.any()


def test_2d_input_and_no_masks_is_identity():
    x = torch.randn(30, 40)
    assert torch.equal(spec_augment(x, None, freq_masks=0, time_masks=0), x)
    assert spec_augment(x, None, generator=seeded(0)).shape == (30, 40)


def test_bad_arguments():
    with pytest.raises(InputError):
        spec_augment(torch.zeros(2, 5, 3), torch.tensor([6, 5]))
    with pytest.raises(InputError):
        spec_augment(torch.zeros(2, 5, 3), None, freq_width=-1)
