"""Our layers against torch.nn.RNN/LSTM/GRU with copied weights: outputs, states, all gradients.

Every test that runs our layers takes the ``engine`` fixture (tests/nn/conftest.py): it runs on
the reference engine and on the compiled one."""

import pytest
import torch
from rnn_reference import KINDS, final_h, pair, state_loss
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnlab.nn as rnn
from rnnlab.nn.lengths import shift_padding

TOL = {"atol": 2e-5, "rtol": 1e-4}


def _grads(loss, x, model, hx=()):
    return torch.autograd.grad(loss, [x, *hx, *model.parameters()])


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_matches_torch(kind, layers, bidirectional, batch_first, engine):
    I, H, B, T = 5, 6, 3, 7
    ours, ref = pair(kind, I, H, engine, num_layers=layers, bidirectional=bidirectional,
                     batch_first=batch_first)  # fmt: skip
    shape = (B, T, I) if batch_first else (T, B, I)
    x = torch.randn(shape, requires_grad=True)
    out_r, st_r = ref(x)
    out_o, st_o = ours(x)
    torch.testing.assert_close(out_o, out_r, **TOL)
    torch.testing.assert_close(final_h(st_o), final_h(st_r), **TOL)
    if kind == "lstm":
        torch.testing.assert_close(st_o[1], st_r[1], **TOL)
    w = torch.randn_like(out_r)
    for g_o, g_r in zip(_grads(state_loss(out_o, st_o, w), x, ours),
                        _grads(state_loss(out_r, st_r, w), x, ref), strict=True):  # fmt: skip
        torch.testing.assert_close(g_o, g_r, **TOL)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_torch_with_initial_state(kind, bidirectional, engine):
    I, H, B, T, L = 4, 5, 3, 6, 2
    D = 2 if bidirectional else 1
    ours, ref = pair(kind, I, H, engine, num_layers=L, bidirectional=bidirectional,
                     batch_first=True)  # fmt: skip
    x = torch.randn(B, T, I, requires_grad=True)
    h0 = torch.randn(L * D, B, H, requires_grad=True)
    hx = (h0, torch.randn(L * D, B, H, requires_grad=True)) if kind == "lstm" else (h0,)
    arg = hx if kind == "lstm" else h0
    out_r, st_r = ref(x, arg)
    out_o, st_o = ours(x, arg)
    torch.testing.assert_close(out_o, out_r, **TOL)
    w = torch.randn_like(out_r)
    for g_o, g_r in zip(_grads(state_loss(out_o, st_o, w), x, ours, hx),
                        _grads(state_loss(out_r, st_r, w), x, ref, hx), strict=True):  # fmt: skip
        torch.testing.assert_close(g_o, g_r, **TOL)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_right_padding_matches_packed(kind, bidirectional, layers, engine):
    I, H, B, T = 4, 5, 5, 8
    ours, ref = pair(kind, I, H, engine, num_layers=layers, bidirectional=bidirectional,
                     batch_first=True)  # fmt: skip
    lengths = torch.tensor([8, 3, 5, 1, 8])
    x = torch.randn(B, T, I, requires_grad=True)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_r, st_r = ref(packed)
    out_r, _ = pad_packed_sequence(out_r, batch_first=True, total_length=T)
    out_o, st_o = ours(x, lengths=lengths)
    torch.testing.assert_close(out_o, out_r, **TOL)
    torch.testing.assert_close(final_h(st_o), final_h(st_r), **TOL)
    assert (out_o[1, 3:] == 0).all() and (out_o[3, 1:] == 0).all(), "padded outputs are zeros"
    w = torch.randn_like(out_r)
    for g_o, g_r in zip(_grads(state_loss(out_o, st_o, w), x, ours),
                        _grads(state_loss(out_r, st_r, w), x, ref), strict=True):  # fmt: skip
        torch.testing.assert_close(g_o, g_r, **TOL)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_left_padding_matches_right_padding(kind, bidirectional, engine):
    I, H, B, T = 4, 5, 4, 7
    right, _ = pair(kind, I, H, engine, num_layers=2, bidirectional=bidirectional)
    left = KINDS[kind][0](I, H, **KINDS[kind][2], num_layers=2, bidirectional=bidirectional,
                          padding_side="left", engine=engine)  # fmt: skip
    left.load_state_dict(right.state_dict())
    lengths = torch.tensor([7, 2, 4, 1])
    xr = torch.randn(T, B, I)
    xr[torch.arange(T)[:, None] >= lengths[None, :]] = 0.0  # zero right padding
    xl = shift_padding(xr, lengths, to="left").requires_grad_()
    xr.requires_grad_()
    out_r, st_r = right(xr, lengths=lengths)
    out_l, st_l = left(xl, lengths=lengths)
    torch.testing.assert_close(shift_padding(out_l, lengths, to="right"), out_r, **TOL)
    torch.testing.assert_close(final_h(st_l), final_h(st_r), **TOL)
    assert (out_l[:5, 1] == 0).all(), "left padding outputs zeros"
    w = torch.randn_like(out_r)
    g_r = _grads(state_loss(out_r, st_r, w), xr, right)
    g_l = _grads(state_loss(out_l, st_l, shift_padding(w, lengths, to="left")), xl, left)
    torch.testing.assert_close(shift_padding(g_l[0], lengths, to="right"), g_r[0], **TOL)
    for a, b in zip(g_l[1:], g_r[1:], strict=True):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("kind", list(KINDS))
def test_packed_sequence_input(kind, engine):
    ours, ref = pair(kind, 3, 4, engine, bidirectional=True)
    seqs = [torch.randn(n, 3) for n in (5, 2, 4)]
    packed = torch.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    out_r, st_r = ref(packed)
    out_o, st_o = ours(packed)
    assert isinstance(out_o, torch.nn.utils.rnn.PackedSequence)
    torch.testing.assert_close(pad_packed_sequence(out_o)[0], pad_packed_sequence(out_r)[0], **TOL)
    torch.testing.assert_close(final_h(st_o), final_h(st_r), **TOL)


@pytest.mark.parametrize("kind", list(KINDS))
def test_state_dict_round_trip_both_ways(kind):
    ours_cls, torch_cls, extra = KINDS[kind]
    ours = ours_cls(3, 4, num_layers=2, bidirectional=True, **extra)
    ref = torch_cls(3, 4, num_layers=2, bidirectional=True, **extra)
    assert list(ours.state_dict()) == list(ref.state_dict())
    ref.load_state_dict(ours.state_dict())  # ours -> torch
    x = torch.randn(6, 2, 3)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], **TOL)


@pytest.mark.parametrize("kind", list(KINDS))
def test_torch_engine_equals_ours(kind, engine):
    ours, _ = pair(kind, 4, 5, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(3, 6, 4)
    lengths = torch.tensor([6, 2, 4])
    for side in ("right", "left"):
        ours.padding_side = side
        ours.engine = engine
        a = ours(x, lengths=lengths)
        ours.engine = "torch"
        b = ours(x, lengths=lengths)
        torch.testing.assert_close(a[0], b[0], **TOL)
        torch.testing.assert_close(final_h(a[1]), final_h(b[1]), **TOL)


def test_unbatched_input(engine):
    ours, ref = pair("lstm", 3, 4, engine)
    x = torch.randn(5, 3)
    out_o, (h_o, c_o) = ours(x)
    out_r, (h_r, c_r) = ref(x)
    assert out_o.shape == (5, 4) and h_o.shape == (1, 4)
    torch.testing.assert_close(out_o, out_r, **TOL)
    torch.testing.assert_close(c_o, c_r, **TOL)


def test_dropout_between_layers_not_after_last(engine):
    lstm = rnn.LSTM(4, 8, num_layers=2, dropout=0.5, engine=engine)
    x = torch.randn(5, 3, 4)
    lstm.train()
    torch.manual_seed(1)
    a = lstm(x)[0]
    torch.manual_seed(2)
    b = lstm(x)[0]
    assert not torch.allclose(a, b), "dropout between layers changes the output in training"
    lstm.eval()
    torch.testing.assert_close(lstm(x)[0], lstm(x)[0])
    one = rnn.LSTM(4, 8, num_layers=1, dropout=0.5, engine=engine)  # one layer: no dropout
    torch.testing.assert_close(one(x)[0], one(x)[0])


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_cells_match_torch(kind, engine):
    ours_cls = {"rnn_tanh": rnn.RNNCell, "lstm": rnn.LSTMCell, "gru": rnn.GRUCell}[kind]
    torch_cls = {"rnn_tanh": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
    ref = torch_cls[kind](5, 6)
    ours = ours_cls(5, 6, engine=engine)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 5, requires_grad=True)
    h = torch.randn(3, 6, requires_grad=True)
    hx = (h, torch.randn(3, 6, requires_grad=True)) if kind == "lstm" else h
    o_o, o_r = ours(x, hx), ref(x, hx)
    flat = lambda o: torch.cat(o, -1) if isinstance(o, tuple) else o  # noqa: E731
    torch.testing.assert_close(flat(o_o), flat(o_r), **TOL)
    w = torch.randn_like(flat(o_r))
    inputs = [x, *(hx if kind == "lstm" else (hx,)), *ref.parameters()]
    g_r = torch.autograd.grad((flat(o_r) * w).sum(), inputs)
    g_o = torch.autograd.grad((flat(o_o) * w).sum(), [*inputs[: len(inputs) - 4],
                                                       *ours.parameters()])  # fmt: skip
    for a, b in zip(g_o, g_r, strict=True):
        torch.testing.assert_close(a, b, **TOL)
    # unbatched and default state
    torch.testing.assert_close(flat(ours(x[0])), flat(ref(x[0])), **TOL)
