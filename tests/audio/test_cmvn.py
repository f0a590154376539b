"""cmvn: zero mean and unit variance per utterance and feature over the real frames only."""

import pytest
import torch

from rnnlab.audio import cmvn
from rnnlab.errors import InputError


def test_single_utterance():
    x = 3.0 + 2.0 * torch.randn(50, 7, generator=torch.Generator().manual_seed(0))  # (T, F)
    y = cmvn(x)
    torch.testing.assert_close(y.mean(dim=0), torch.zeros(7), atol=1e-6, rtol=0)
    torch.testing.assert_close(y.std(dim=0, unbiased=False), torch.ones(7), atol=1e-5, rtol=0)
    torch.testing.assert_close(cmvn(x, variance=False), x - x.mean(dim=0))


def test_padded_batch_uses_real_frames_only():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 20, 4, generator=g, dtype=torch.float64) * 5 + 1  # (B, T, F)
    lengths = torch.tensor([20, 11, 3])
    x[1, 11:] = 1e6  # padding must not leak into the statistics
    y = cmvn(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(y[b, :n], cmvn(x[b, :n]))
        assert torch.all(y[b, n:] == 0)


def test_constant_feature_maps_to_zero():
    x = torch.ones(10, 3)
    x[:, 1] = torch.arange(10.0)
    y = cmvn(x)
    assert torch.all(y[:, 0] == 0) and torch.all(torch.isfinite(y))


@pytest.mark.parametrize("lengths", [torch.tensor([0, 5]), torch.tensor([6, 5]), torch.tensor([5])])
def test_bad_lengths(lengths):
    with pytest.raises(InputError, match="lengths"):
        cmvn(torch.zeros(2, 5, 3), lengths)
