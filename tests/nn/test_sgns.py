"""The skip-gram / CBOW updates: the compiled loop held against the readable torch engine (one
pair at a time, the same noise words), and against the update written out by hand."""

import pytest
import torch

from rnnlab.nn import sgns

native = pytest.mark.skipif(not sgns.native_available(), reason="no C++ toolchain here")


def _chunk(seed: int, V: int = 20, N: int = 60) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, V, (N,), generator=g, dtype=torch.int32)
    ids[[15, 16, 40]] = -1  # sentence ends (two in a row: an empty sentence)
    return ids


@native
@pytest.mark.parametrize("cbow", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_native_equals_torch_one_pair_at_a_time(cbow, seed):
    """With window 1 (no random window), no subsampling and a noise table of one word, both
    engines make the same updates in the same order: equal to float rounding."""
    V, D = 20, 8
    g = torch.Generator().manual_seed(seed)
    w_in, w_out = torch.randn(V, D, generator=g) * 0.3, torch.randn(V, D, generator=g) * 0.3
    a, b = (w_in.clone(), w_out.clone()), (w_in.clone(), w_out.clone())
    ids, keep, table = _chunk(seed), torch.ones(V), torch.full((7,), 3, dtype=torch.int32)
    kw = dict(window=1, negative=1, cbow=cbow, lr_start=0.1, lr_end=0.1, seed=seed)
    loss_native, n_native = sgns.train_chunk(*a, ids, keep, table, engine="native", **kw)
    loss_torch, n_torch = sgns.train_chunk(*b, ids, keep, table, engine="torch", batch_size=1,
                                           **kw)  # fmt: skip
    assert n_native == n_torch > 0
    assert loss_native == pytest.approx(loss_torch, rel=1e-5)
    torch.testing.assert_close(a[0], b[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a[1], b[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine", ["torch", pytest.param("native", marks=native)])
def test_one_pair_by_hand(engine):
    """The sentence "0 1" with window 1: word 0's vector predicts 1 then 1's predicts 0, noise
    word 2 each time; the first update written out."""
    lr = 0.5
    w_in = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.0, -0.1, 0.2, 0.1], [0.3, 0.0, 0.0, 0.2]])
    w_out = torch.tensor([[0.2, 0.1, 0.0, 0.0], [0.1, 0.1, 0.1, 0.1], [-0.2, 0.0, 0.1, 0.3]])
    ids = torch.tensor([0, 1], dtype=torch.int32)
    table = torch.tensor([2], dtype=torch.int32)
    v0, u1, u2 = w_in[0].clone(), w_out[1].clone(), w_out[2].clone()
    # centre 0 <- context 1 first, then centre 1 <- context 0: do the first one by hand
    h = w_in[1].clone()
    g_pos = lr * (1 - torch.sigmoid(w_out[0] @ h))  # g_0 = lr (1 - sigma(u_0 . h))
    g_neg = lr * (0 - torch.sigmoid(u2 @ h))  # g_1 = lr (0 - sigma(u_2 . h))
    u0_new = w_out[0] + g_pos * h
    u2_new = u2 + g_neg * h
    v1_new = h + g_pos * w_out[0] + g_neg * u2
    # the second: centre 1 <- context 0
    h = v0
    g_pos2 = lr * (1 - torch.sigmoid(u1 @ h))
    g_neg2 = lr * (0 - torch.sigmoid(u2_new @ h))
    expected_in = torch.stack([v0 + g_pos2 * u1 + g_neg2 * u2_new, v1_new, w_in[2]])
    expected_out = torch.stack([u0_new, u1 + g_pos2 * h, u2_new + g_neg2 * h])
    _, n = sgns.train_chunk(w_in, w_out, ids, torch.ones(3), table, window=1, negative=1,
                            cbow=False, lr_start=lr, lr_end=lr, seed=0, engine=engine,
                            batch_size=1)  # fmt: skip
    assert n == 2
    torch.testing.assert_close(w_in, expected_in)
    torch.testing.assert_close(w_out, expected_out)


@pytest.mark.parametrize("engine", ["torch", pytest.param("native", marks=native)])
def test_keep_zero_trains_nothing(engine):
    w_in, w_out = torch.randn(5, 3), torch.randn(5, 3)
    before = (w_in.clone(), w_out.clone())
    ids = torch.tensor([0, 1, 2, 3, 4, -1, 1, 2], dtype=torch.int32)
    _, n = sgns.train_chunk(w_in, w_out, ids, torch.zeros(5), torch.tensor([1], dtype=torch.int32),
                            window=2, negative=2, cbow=False, lr_start=0.1, lr_end=0.1, seed=0,
                            engine=engine)  # fmt: skip
    assert n == 0
    assert torch.equal(w_in, before[0]) and torch.equal(w_out, before[1])


def test_errors():
    w = torch.zeros(3, 2)
    ids = torch.zeros(2, dtype=torch.int32)
    table = torch.zeros(1, dtype=torch.int32)
    with pytest.raises(ValueError, match="engine must be one of"):
        sgns.train_chunk(w, w.clone(), ids, torch.ones(3), table, window=1, negative=1,
                         cbow=False, lr_start=0.1, lr_end=0.1, seed=0, engine="cuda")  # fmt: skip
    with pytest.raises(ValueError, match="window must be >= 1"):
        sgns.train_chunk(w, w.clone(), ids, torch.ones(3), table, window=0, negative=1,
                         cbow=False, lr_start=0.1, lr_end=0.1, seed=0, engine="torch")  # fmt: skip
    with pytest.raises(ValueError, match="float32"):
        sgns.train_chunk(w.double(), w.double(), ids, torch.ones(3), table, window=1,
                         negative=1, cbow=False, lr_start=0.1, lr_end=0.1, seed=0)  # fmt: skip
