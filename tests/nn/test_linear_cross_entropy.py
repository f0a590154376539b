"""linear_cross_entropy equals F.cross_entropy(F.linear(h, W, b), y) (loss and every gradient)
without storing the logits."""

import pytest
import torch
import torch.nn.functional as F

from rnnlab.nn import linear_cross_entropy


def _data(N=37, H=6, V=23, bias=True, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(N, H, dtype=dtype, generator=g, requires_grad=True)
    W = torch.randn(V, H, dtype=dtype, generator=g, requires_grad=True)
    b = torch.randn(V, dtype=dtype, generator=g, requires_grad=True) if bias else None
    y = torch.randint(0, V, (N,), generator=g)
    return h, W, b, y


@pytest.mark.parametrize("chunk", [1, 5, 37, 256])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("ignored", [0, 6])
def test_equals_cross_entropy_of_the_logits_in_float64(chunk, bias, ignored):
    h, W, b, y = _data(bias=bias)
    y[torch.randperm(len(y))[:ignored]] = -100
    params = [h, W] + ([b] if bias else [])
    ours = linear_cross_entropy(h, W, b, y, chunk=chunk)
    ref = F.cross_entropy(F.linear(h, W, b), y)
    torch.testing.assert_close(ours, ref, atol=1e-12, rtol=1e-12)
    g_o = torch.autograd.grad(2.5 * ours, params)
    g_r = torch.autograd.grad(2.5 * ref, params)
    for a, r in zip(g_o, g_r, strict=True):
        torch.testing.assert_close(a, r, atol=1e-12, rtol=1e-10)


def test_custom_ignore_index_and_a_tied_weight():
    """The weight used twice (a tied embedding): gradients from both uses add up."""
    h0, W, b, y = _data(N=12)
    ids = torch.randint(0, W.shape[0], (12,))
    y[3] = 0
    for loss_fn in (lambda h: linear_cross_entropy(h, W, b, y, ignore_index=0, chunk=4),
                    lambda h: F.cross_entropy(F.linear(h, W, b), y, ignore_index=0)):  # fmt: skip
        h = F.embedding(ids, W) + h0  # (12, H): W feeds the input as well
        loss = loss_fn(h)
        loss.backward()
    # two accumulations of the same total: ours then the reference
    g = W.grad.clone()
    W.grad = None
    h = F.embedding(ids, W) + h0
    F.cross_entropy(F.linear(h, W, b), y, ignore_index=0).backward()
    torch.testing.assert_close(g, 2 * W.grad, atol=1e-12, rtol=1e-10)


def test_all_rows_ignored_gives_nan_like_cross_entropy():
    h, W, b, y = _data(N=4)
    y[:] = -100
    assert torch.isnan(linear_cross_entropy(h, W, b, y))
    assert torch.isnan(F.cross_entropy(F.linear(h, W, b), y))


def test_under_autocast_close_to_float32():
    h, W, b, y = _data(N=300, H=64, V=500, dtype=torch.float32)
    ref = F.cross_entropy(F.linear(h, W, b), y)
    g_r = torch.autograd.grad(ref, [h, W, b])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = linear_cross_entropy(h, W, b, y, chunk=64)
    assert ours.dtype == torch.float32
    assert abs(float(ours.detach() - ref.detach())) < 1e-2 * float(ref.detach())
    for a, r in zip(torch.autograd.grad(ours, [h, W, b]), g_r, strict=True):
        assert a.dtype == torch.float32
        assert float((a - r).norm() / r.norm()) < 2e-2


def test_bad_input_is_named():
    h, W, b, y = _data()
    with pytest.raises(ValueError, match="agree on H"):
        linear_cross_entropy(h[:, :3], W, b, y)
    with pytest.raises(ValueError, match="targets must be"):
        linear_cross_entropy(h, W, b, y[:5])
    with pytest.raises(IndexError, match=r"\[0, 23\)"):
        linear_cross_entropy(h, W, b, torch.full_like(y, 23))
    with pytest.raises(ValueError, match="chunk"):
        linear_cross_entropy(h, W, b, y, chunk=0)
