"""The plain cell equations (rnn_step, lstm_step, gru_step, run_steps) as the reference.

Every fused BPTT Function, the reference and the compiled one (the ``functions`` fixture of
tests/nn/conftest.py), is held against the plain steps unrolled under autograd, in float64:
outputs, final states and every gradient. The plain steps are themselves anchored to
torch.nn.RNNCell/LSTMCell/GRUCell with copied weights; the Cho et al. GRU, which torch lacks, to
the PyTorch form where the two coincide (one reset value per row and b_hn = 0).
"""

from functools import partial

import pytest
import torch

from rnnlab.nn import gru_step, lstm_step, rnn_step, run_steps
from rnnlab.nn.lengths import step_mask

F64 = torch.float64
I, H = 4, 3

# kind -> (gate blocks, the plain step, the fused Function's kind and its option: relu or
# reset_after)
KINDS = {
    "rnn_tanh": (1, partial(rnn_step, nonlinearity="tanh"), "rnn", False),
    "rnn_relu": (1, partial(rnn_step, nonlinearity="relu"), "rnn", True),
    "lstm": (4, lstm_step, "lstm", None),
    "gru": (3, partial(gru_step, reset_after=True), "gru", True),
    "gru_cho": (3, partial(gru_step, reset_after=False), "gru", False),
}


def _leaf(*shape):
    return torch.randn(*shape, dtype=F64, requires_grad=True)


def _inputs(kind, T, B, bias):
    """x (T, B, I), the initial state tuple and (w_ih, w_hh, b_ih, b_hh), all float64 leaves."""
    g = KINDS[kind][0]
    state = (_leaf(B, H), _leaf(B, H)) if kind == "lstm" else (_leaf(B, H),)
    biases = (_leaf(g * H), _leaf(g * H)) if bias else (None, None)
    return _leaf(T, B, I), state, (_leaf(g * H, I), _leaf(g * H, H), *biases)


def _fused(functions, kind, x, state, weights, mask, reverse):
    """The BPTT Function: out (T, B, H) and the final state tuple."""
    _, _, fn, option = KINDS[kind]
    options = () if fn == "lstm" else (option,)
    out, *final = functions[fn].apply(x, *state, *weights, *options, mask, reverse, None)
    return out, tuple(final)


def _plain(kind, x, state, weights, mask, reverse):
    """The plain steps unrolled under autograd: out (T, B, H) and the final state tuple."""
    w_ih, w_hh, b_ih, b_hh = weights
    step = partial(KINDS[kind][1], w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    out, final = run_steps(step, x, state if kind == "lstm" else state[0], mask, reverse)
    return out, (final if kind == "lstm" else (final,))


def _mask(padding, T, B):
    """(T, B, 1) float64 mask of variable lengths T, 1, T-2, ... padded on one side, or None."""
    if padding is None:
        return None
    lengths = torch.tensor([max(1, T - 2), T, 1, T - 1][:B])
    return step_mask(lengths, T, padding).unsqueeze(-1).to(F64)


def _loss(out, final, w):
    """Touches every output (weighted by w) and every final state tensor."""
    return (out * w).sum() + sum((k + 1) * s.sin().sum() for k, s in enumerate(final))


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("padding", [None, "right", "left"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("T,B", [(1, 1), (1, 3), (6, 1), (6, 3)])
def test_fused_function_equals_the_plain_steps(kind, bias, padding, reverse, T, B, functions):
    x, state, weights = _inputs(kind, T, B, bias)
    mask = _mask(padding, T, B)
    out_f, final_f = _fused(functions, kind, x, state, weights, mask, reverse)
    out_p, final_p = _plain(kind, x, state, weights, mask, reverse)
    torch.testing.assert_close(out_f, out_p)
    for a, b in zip(final_f, final_p, strict=True):
        torch.testing.assert_close(a, b)
    if mask is not None:
        assert (out_f[mask.expand_as(out_f) == 0] == 0).all(), "zeros at padding"
    leaves = [x, *state, *(w for w in weights if w is not None)]  # x, h0 (, c0), w_ih, w_hh, b's
    w = torch.randn_like(out_p)
    g_f = torch.autograd.grad(_loss(out_f, final_f, w), leaves)
    g_p = torch.autograd.grad(_loss(out_p, final_p, w), leaves)
    for a, b in zip(g_f, g_p, strict=True):
        torch.testing.assert_close(a, b)


TORCH_CELLS = {
    "rnn_tanh": lambda b: torch.nn.RNNCell(I, H, bias=b, nonlinearity="tanh", dtype=F64),
    "rnn_relu": lambda b: torch.nn.RNNCell(I, H, bias=b, nonlinearity="relu", dtype=F64),
    "lstm": lambda b: torch.nn.LSTMCell(I, H, bias=b, dtype=F64),
    "gru": lambda b: torch.nn.GRUCell(I, H, bias=b, dtype=F64),
}


@pytest.mark.parametrize("kind", list(TORCH_CELLS))
@pytest.mark.parametrize("bias", [True, False])
def test_plain_step_equals_torch_cell(kind, bias):
    cell = TORCH_CELLS[kind](bias)
    params = list(cell.parameters())  # weight_ih, weight_hh (, bias_ih, bias_hh)
    weights = (*params, None, None) if not bias else tuple(params)
    B = 5
    x, state = _leaf(B, I), (_leaf(B, H), _leaf(B, H)) if kind == "lstm" else (_leaf(B, H),)
    ref = cell(x, state) if kind == "lstm" else (cell(x, state[0]),)
    ours = KINDS[kind][1](x, *state, *weights)
    ours = ours if kind == "lstm" else (ours,)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b)
    ws = [torch.randn_like(r) for r in ref]
    leaves = [x, *state, *params]
    g_o = torch.autograd.grad(sum((o * w).sum() for o, w in zip(ours, ws, strict=True)), leaves)
    g_r = torch.autograd.grad(sum((r * w).sum() for r, w in zip(ref, ws, strict=True)), leaves)
    for a, b in zip(g_o, g_r, strict=True):
        torch.testing.assert_close(a, b)


def test_cho_gru_equals_pytorch_form_where_they_coincide():
    """r_t * (W_hn h) = W_hn (r_t * h) when r_t is one value per row: W_ir = W_hr = 0 and b_ir,
    b_hr constant. With b_hn = 0 the two forms then agree; with b_hn != 0 they differ by
    (1 - r_t) b_hn inside the tanh, the bias placement of the Cho form."""
    B = 4
    x, h = _leaf(B, I), _leaf(B, H)
    w_ih, w_hh, b_ih = _leaf(3 * H, I), _leaf(3 * H, H), _leaf(3 * H)
    w_ih, w_hh = w_ih.detach().clone(), w_hh.detach().clone()
    w_ih[:H], w_hh[:H] = 0.0, 0.0  # r_t = sigmoid(b_ir + b_hr): the same for every unit
    b_ih = b_ih.detach().clone()
    b_ih[:H] = 0.3
    b_hh = torch.cat([torch.full((H,), -0.1, dtype=F64), torch.randn(H, dtype=F64),
                      torch.zeros(H, dtype=F64)])  # fmt: skip
    args = (x, h, w_ih, w_hh, b_ih, b_hh)
    torch.testing.assert_close(gru_step(*args, reset_after=False), gru_step(*args))
    b_hh[2 * H :] = 1.0
    assert not torch.allclose(gru_step(*args, reset_after=False), gru_step(*args))


def test_run_steps_keeps_the_state_at_padding():
    """A right-padded sequence ends in the state after its last real step, with zeros after it;
    reverse=True over the time-flipped batch, left-padded, walks the same steps."""
    T, B = 5, 2
    x, (h0,), weights = _inputs("gru", T, B, True)
    step = partial(gru_step, w_ih=weights[0], w_hh=weights[1], b_ih=weights[2], b_hh=weights[3])
    lengths = torch.tensor([5, 2])
    out, h_n = run_steps(step, x, h0, step_mask(lengths, T).unsqueeze(-1))
    short, h_short = run_steps(step, x[:2, 1:], h0[1:])
    torch.testing.assert_close(h_n[1:], h_short)
    torch.testing.assert_close(out[:2, 1:], short)
    assert (out[2:, 1] == 0).all()
    left = step_mask(lengths, T, "left")  # (T, B): the right-padded mask flipped in time
    out_r, h_r = run_steps(step, x.flip(0), h0, left, reverse=True)
    torch.testing.assert_close(out_r.flip(0), out)
    torch.testing.assert_close(h_r, h_n)


def test_plain_steps_keep_the_dtype():
    for dtype in (torch.float32, torch.float64):
        x, h = torch.randn(2, I, dtype=dtype), torch.randn(2, H, dtype=dtype)
        w_ih, w_hh = torch.randn(12 * H, I, dtype=dtype), torch.randn(12 * H, H, dtype=dtype)
        assert rnn_step(x, h, w_ih[:H], w_hh[:H]).dtype == dtype
        assert all(t.dtype == dtype for t in lstm_step(x, h, h, w_ih[: 4 * H], w_hh[: 4 * H]))
        assert gru_step(x, h, w_ih[: 3 * H], w_hh[: 3 * H], reset_after=False).dtype == dtype
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_step(x, h, w_ih[:H], w_hh[:H], nonlinearity="sigmoid")
