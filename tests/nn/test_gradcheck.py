"""Our hand-written BPTT against float64 finite differences (torch.autograd.gradcheck), on both
engines: the reference Functions and their compiled twins (``functions``/``engine`` fixtures in
tests/nn/conftest.py)."""

import pytest
import torch
from torch.autograd import gradcheck

import rnnlab.nn as rnn


def _p(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def _mask(T, lengths, side):
    from rnnlab.nn.lengths import step_mask

    return step_mask(torch.tensor(lengths), T, side).unsqueeze(-1).double()


MASKS = [None, ("right", [5, 2, 3]), ("left", [5, 1, 4])]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("relu", [False, True])
def test_rnn_function(reverse, mask, relu, functions):
    T, B, I, H = 5, 3, 4, 3
    m = None if mask is None else _mask(T, mask[1], mask[0])
    args = (_p(T, B, I), _p(B, H), _p(H, I), _p(H, H), _p(H), _p(H))
    assert gradcheck(lambda *a: functions["rnn"].apply(*a, relu, m, reverse, None), args)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", MASKS)
def test_lstm_function(reverse, mask, functions):
    T, B, I, H = 5, 3, 4, 3
    m = None if mask is None else _mask(T, mask[1], mask[0])
    args = (_p(T, B, I), _p(B, H), _p(B, H), _p(4 * H, I), _p(4 * H, H), _p(4 * H), _p(4 * H))
    assert gradcheck(lambda *a: functions["lstm"].apply(*a, m, reverse, None), args)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_function(reverse, mask, reset_after, functions):
    T, B, I, H = 5, 3, 4, 3
    m = None if mask is None else _mask(T, mask[1], mask[0])
    args = (_p(T, B, I), _p(B, H), _p(3 * H, I), _p(3 * H, H), _p(3 * H), _p(3 * H))
    assert gradcheck(lambda *a: functions["gru"].apply(*a, reset_after, m, reverse, None), args)


def test_functions_without_bias(functions):
    T, B, I, H = 4, 2, 3, 3
    x, h0, c0 = _p(T, B, I), _p(B, H), _p(B, H)
    rnn_f, lstm_f, gru_f = functions["rnn"], functions["lstm"], functions["gru"]
    assert gradcheck(lambda *a: rnn_f.apply(*a, None, None, False, None, False, None),
                     (x, h0, _p(H, I), _p(H, H)))  # fmt: skip
    assert gradcheck(lambda *a: lstm_f.apply(*a, None, None, None, False, None),
                     (x, h0, c0, _p(4 * H, I), _p(4 * H, H)))  # fmt: skip
    for ra in (True, False):
        assert gradcheck(lambda *a, ra=ra: gru_f.apply(*a, None, None, ra, None, False, None),
                         (x, h0, _p(3 * H, I), _p(3 * H, H)))  # fmt: skip


LAYERS = [
    (rnn.RNN, {"nonlinearity": "tanh"}),
    (rnn.RNN, {"nonlinearity": "relu"}),
    (rnn.LSTM, {}),
    (rnn.GRU, {}),
    (rnn.GRU, {"reset_after": False}),
]


@pytest.mark.parametrize("cls,kw", LAYERS)
@pytest.mark.parametrize("side", ["right", "left"])
def test_layers_stacked_bidirectional_with_lengths(cls, kw, side, engine):
    """Whole layers (2 layers, bidirectional, lengths, initial state) in float64."""
    layer = cls(3, 2, num_layers=2, bidirectional=True, batch_first=True, padding_side=side,
                dtype=torch.float64, engine=engine, **kw)  # fmt: skip
    x = _p(3, 4, 3)
    lengths = torch.tensor([4, 1, 3])
    h0 = _p(4, 3, 2)
    hx = (h0, _p(4, 3, 2)) if cls is rnn.LSTM else (h0,)
    params = list(layer.parameters())

    # parameters as explicit inputs through torch.func so gradcheck can perturb them
    def g(x, *rest):
        states = rest[: len(hx)]
        pdict = dict(zip(dict(layer.named_parameters()), rest[len(hx) :], strict=True))
        out, st = torch.func.functional_call(
            layer, pdict, (x, states if cls is rnn.LSTM else states[0]), {"lengths": lengths}
        )
        return out, *(st if isinstance(st, tuple) else (st,))

    inputs = (x, *hx, *[p.detach().clone().requires_grad_() for p in params])
    assert gradcheck(g, inputs)
