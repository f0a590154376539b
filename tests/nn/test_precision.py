"""Mixed precision: under torch.autocast(bfloat16) our layers run the products over all T*B rows
in bfloat16 and keep the recurrence in float32; results stay close to torch.nn's float32."""

import pytest
import torch
from rnn_reference import KINDS, final_h, pair, state_loss

from rnnlab.nn import precision


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().norm() / b.detach().norm())


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("lengths", [None, [9, 4, 7]])
def test_autocast_is_close_to_float32_torch(kind, bidirectional, lengths):
    torch.manual_seed(0)
    ours, ref = pair(kind, 16, 24, num_layers=2, bidirectional=bidirectional, batch_first=True)
    x = torch.randn(3, 9, 16, requires_grad=True)
    lens = None if lengths is None else torch.tensor(lengths)
    out_r, st_r = ref(x)
    if lens is not None:  # the reference over the real steps of each sequence, one at a time
        out_r = torch.zeros(3, 9, out_r.shape[-1])
        hs = []
        for b, n in enumerate(lengths):
            o, s = ref(x[b : b + 1, :n])
            out_r[b, :n] = o[0]
            hs.append(final_h(s))
        st_r = torch.cat(hs, dim=1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_o, st_o = ours(x, lengths=lens)
    assert out_o.dtype == torch.float32 and final_h(st_o).dtype == torch.float32
    assert 0 < _rel(out_o, out_r) < 2e-2  # bfloat16 rounding (2^-9), not float32's
    assert _rel(final_h(st_o), final_h(st_r)) < 2e-2
    w = torch.randn_like(out_o)
    loss_o = (out_o * w).sum() + final_h(st_o).sin().sum()
    loss_r = (out_r * w).sum() + final_h(st_r).sin().sum()
    g_o = torch.autograd.grad(loss_o, [x, *ours.parameters()])
    g_r = torch.autograd.grad(loss_r, [x, *ref.parameters()])
    for a, b in zip(g_o, g_r, strict=True):
        assert a.dtype == torch.float32
        assert _rel(a, b) < 5e-2  # a few roundings of 2^-9 compound through the layers


@pytest.mark.parametrize("kind", list(KINDS))
def test_recurrence_stays_float32(kind):
    """With the input projection exact in bfloat16 (inputs and weights representable, integer
    products) the only rounding left would be the recurrence's: the output equals float32."""
    torch.manual_seed(1)
    ours, ref = pair(kind, 4, 8)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            if name.startswith("weight_ih"):
                p.copy_(torch.randint(-2, 3, p.shape) / 4)  # exact in bfloat16, sums exact too
        ref.load_state_dict(ours.state_dict())
    x = torch.randint(-2, 3, (6, 2, 4)).float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_o, st_o = ours(x)
    out_r, st_r = ref(x)
    torch.testing.assert_close(out_o, out_r, atol=2e-6, rtol=1e-5)


def test_low_precision_input_is_taken_as_float32():
    torch.manual_seed(2)
    ours, _ = pair("lstm", 5, 7)
    x = torch.randn(4, 2, 5).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        a, (h_a, _) = ours(x)
        b, (h_b, _) = ours(x.float())
    assert torch.equal(a, b) and torch.equal(h_a, h_b)
    with pytest.raises(TypeError, match="dtype"):
        ours(x)  # outside autocast a bfloat16 input is still an error


def test_state_dict_and_training_step_under_autocast():
    """A training step under autocast leaves float32 gradients on float32 parameters."""
    torch.manual_seed(3)
    ours, _ = pair("gru", 6, 10, num_layers=2, batch_first=True)
    x = torch.randn(3, 5, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, h = ours(x)
        loss = state_loss(out, h, torch.ones_like(out))
    loss.backward()
    for p in ours.parameters():
        assert p.grad is not None and p.grad.dtype == torch.float32 and p.grad.isfinite().all()


def test_autocast_dtype():
    x = torch.randn(2, 2)
    assert precision.autocast_dtype(x) is None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert precision.autocast_dtype(x) == torch.bfloat16
        assert precision.autocast_dtype(x.bfloat16()) is None  # already that precision
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=False):
        assert precision.autocast_dtype(x) is None


def test_mm_rounds_the_factors_and_returns_the_input_dtype():
    torch.manual_seed(4)
    a, b = torch.randn(30, 50), torch.randn(50, 20)
    exact = a.bfloat16().double() @ b.bfloat16().double()  # the rounded factors, exact sums
    got = precision.mm(a, b, torch.bfloat16)
    assert got.dtype == torch.float32
    assert float((got.double() - exact).abs().max() / exact.abs().max()) < 2**-7
    assert torch.equal(precision.mm(a, b, None), a @ b)
    bias = torch.randn(20)
    torch.testing.assert_close(precision.addmm(bias, a, b, torch.bfloat16), got + bias)
    torch.testing.assert_close(precision.addmm(bias, a, b, None), torch.addmm(bias, a, b))


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_run_under_autocast(cell):
    """The cells (and a decoder's direct Function call) get the same rule as the layers: before,
    only the layers turned autocast off around the Functions and the cells failed under it."""
    import rnnlab.nn as rnn

    torch.manual_seed(5)
    ours = getattr(rnn, cell)(6, 8)
    ref = getattr(torch.nn, cell)(6, 8)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(3, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = ours(x.bfloat16())  # a bfloat16 input, as from an autocast Linear
    want = ref(x)
    got, want = (got[0], want[0]) if isinstance(got, tuple) else (got, want)
    assert got.dtype == torch.float32
    assert 0 < _rel(got, want) < 2e-2
