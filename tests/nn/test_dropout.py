"""Variational (locked) dropout: one mask per sequence, held against the plain composition."""

import pytest
import torch

from rnnlab.nn import GRU, LSTM, locked_dropout


def test_mask_is_shared_over_time_and_keeps_the_expectation():
    torch.manual_seed(0)
    x = torch.ones(50, 8, 300)  # (T, B, F)
    y = locked_dropout(x, 0.25)
    # every step of a sequence sees the same mask
    assert torch.equal(y, y[:1].expand_as(y))
    kept = y[0] != 0
    assert torch.allclose(y[0][kept], torch.full_like(y[0][kept], 1 / 0.75))
    assert abs(kept.float().mean().item() - 0.75) < 0.03
    # batch-first: the mask is shared along dim 1
    z = locked_dropout(torch.ones(8, 50, 300), 0.25, time_dim=1)
    assert torch.equal(z, z[:, :1].expand_as(z))


def test_identity_in_eval_and_at_zero_and_gradient_is_the_mask():
    x = torch.randn(5, 3, 4, requires_grad=True)
    assert locked_dropout(x, 0.5, training=False) is x
    assert locked_dropout(x, 0.0) is x
    torch.manual_seed(1)
    y = locked_dropout(x, 0.5)
    y.sum().backward()
    mask = y.detach() / torch.where(x.detach() == 0, torch.ones_like(x), x.detach())
    torch.testing.assert_close(x.grad, mask)


@pytest.mark.parametrize("bad", [dict(p=1.0), dict(p=-0.1), dict(time_dim=2)])
def test_bad_arguments(bad):
    kw = {"p": 0.5, "time_dim": 0, **bad}
    with pytest.raises(ValueError):
        locked_dropout(torch.randn(2, 3, 4), kw["p"], True, kw["time_dim"])
    with pytest.raises(ValueError, match="expects"):
        locked_dropout(torch.randn(2, 3), 0.5)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_layer_between_layers_equals_layers_composed_with_locked_dropout(cls):
    torch.manual_seed(0)
    two = cls(4, 6, num_layers=2, dropout=0.4, variational_dropout=True).train()
    first, second = cls(4, 6).train(), cls(6, 6).train()
    with torch.no_grad():
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(first, f"{n}_l0").copy_(getattr(two, f"{n}_l0"))
            getattr(second, f"{n}_l0").copy_(getattr(two, f"{n}_l1"))
    x = torch.randn(7, 3, 4)
    torch.manual_seed(5)
    out, _ = two(x)
    torch.manual_seed(5)
    mid, _ = first(x)
    ref, _ = second(locked_dropout(mid, 0.4))
    torch.testing.assert_close(out, ref)
    # and it is not the per-step mask of standard dropout
    torch.manual_seed(5)
    two.variational_dropout = False
    assert not torch.allclose(two(x)[0], out)


def test_needs_our_engine():
    with pytest.raises(ValueError, match="engine='rnnlab'"):
        LSTM(3, 4, num_layers=2, dropout=0.5, variational_dropout=True, engine="torch")
    m = LSTM(3, 4, num_layers=2, dropout=0.5, variational_dropout=True)
    m.engine = "torch"
    with pytest.raises(ValueError, match="variational_dropout"):
        m(torch.randn(2, 1, 3))
    assert "variational_dropout=True" in repr(LSTM(3, 4, variational_dropout=True))
