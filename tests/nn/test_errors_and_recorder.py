"""Bad input gets clear errors; per-step gradients dL/dh_t come out of the BPTT backward (on both
engines: the ``engine`` fixture of tests/nn/conftest.py)."""

import math

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.nn import StepGradRecorder


@pytest.mark.parametrize(
    "x,lengths,err,match",
    [
        (torch.randn(2, 3, 4, 5), None, ValueError, "3-D input"),
        (torch.randn(2, 3, 7), None, ValueError, "input_size=4"),
        (torch.randint(0, 5, (2, 3, 4)), None, TypeError, "floating point"),
        (torch.randn(2, 3, 4).double(), None, TypeError, "dtype"),
        (torch.randn(2, 3, 4), [3, 0], ValueError, ">= 1"),
        (torch.randn(2, 3, 4), [3, 4], ValueError, "longer than"),
        (torch.randn(2, 3, 4), [3, 2, 1], ValueError, "one entry per sequence"),
        (torch.randn(2, 3, 4), [2.5, 1.0], TypeError, "integers"),
        (torch.randn(2, 0, 4), None, ValueError, "empty"),
        ([[1.0]], None, TypeError, "Tensor"),
    ],
)
def test_bad_input_is_named(x, lengths, err, match):
    lstm = rnn.LSTM(4, 3, batch_first=True)
    with pytest.raises(err, match=match):
        lstm(x, lengths=lengths)


def test_bad_state_and_arguments():
    gru = rnn.GRU(4, 3, num_layers=2)
    x = torch.randn(5, 2, 4)
    with pytest.raises(ValueError, match=r"h_0 must have shape \(L\*D, B, H\) = \(2, 2, 3\)"):
        gru(x, torch.zeros(1, 2, 3))
    with pytest.raises(TypeError, match="tuple"):
        rnn.LSTM(4, 3)(x, torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="padding_side"):
        rnn.LSTM(4, 3, padding_side="middle")
    with pytest.raises(ValueError, match="engine"):
        rnn.LSTM(4, 3, engine="cudnn")
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn.RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        rnn.GRU(4, 0)
    with pytest.raises(ValueError, match="reset_after=True"):
        rnn.GRU(4, 3, reset_after=False, engine="torch")(x)
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        rnn.LSTMCell(4, 3)(torch.randn(2, 5))


@pytest.mark.parametrize("cls", [rnn.RNN, rnn.LSTM, rnn.GRU])
def test_no_nan_on_extreme_but_valid_input(cls, engine):
    layer = cls(4, 8, batch_first=True, engine=engine)
    x = torch.randn(2, 50, 4) * 1e4  # saturates every gate
    out, _ = layer(x, lengths=[50, 3])
    out.sum().backward()
    assert torch.isfinite(out).all()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())


def _unrolled_step_grads(model, x, cell_step):
    """dL/dh_t by autograd on a hand-unrolled loop: h_t kept as graph leaves' descendants."""
    T = x.shape[1]
    hs = []
    h = torch.zeros(x.shape[0], model.hidden_size)
    c = torch.zeros_like(h)
    for t in range(T):
        h, c = cell_step(x[:, t], h, c)
        h.retain_grad()
        hs.append(h)
    loss = torch.stack(hs, 1).pow(2).sum()
    loss.backward()
    return torch.stack([h.grad for h in hs])  # (T, B, H)


def test_recorder_equals_autograd_on_unrolled_lstm(engine):
    lstm = rnn.LSTM(3, 5, batch_first=True, engine=engine)
    cell = torch.nn.LSTMCell(3, 5)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = torch.randn(2, 9, 3)

    def step(xt, h, c):
        return cell(xt, (h, c))

    ref = _unrolled_step_grads(lstm, x, step)
    rec = StepGradRecorder()
    with rec.attach(lstm):
        out, _ = lstm(x)
        out.pow(2).sum().backward()
    torch.testing.assert_close(rec.grads[("", 0, 0)], ref)


def test_recorder_keys_directions_and_padding(engine):
    model = torch.nn.Sequential()
    model.add_module("gru", rnn.GRU(3, 4, num_layers=2, bidirectional=True, engine=engine))
    x = torch.randn(6, 2, 3)
    rec = StepGradRecorder()
    with rec.attach(model):
        out, _ = model.gru(x, lengths=[6, 2])
        out.sum().backward()
    assert set(rec.grads) == {("gru", l, d) for l in (0, 1) for d in (0, 1)}
    g = rec.grads[("gru", 0, 1)]
    assert g.shape == (6, 2, 4)
    assert (g[2:, 1] == 0).all() and (g[:2, 1] != 0).any(), "padded steps get no gradient"
    assert model.gru._step_recorder is None, "detached after the block"


def test_vanilla_rnn_gradient_vanishes_faster_than_lstm(engine):
    """The curriculum's claim on a fixed seed: ||dL/dh_1|| over 100 steps, RNN << LSTM."""
    torch.manual_seed(0)
    T = 100
    x = torch.randn(1, T, 8)
    norms = {}
    for cls in (rnn.RNN, rnn.LSTM):
        torch.manual_seed(1)
        layer = cls(8, 32, batch_first=True, engine=engine)
        rec = StepGradRecorder()
        with rec.attach(layer):
            out, _ = layer(x)
            out[:, -1].sum().backward()  # loss at the last step only
        norms[cls.__name__] = rec.grads[("", 0, 0)][0].norm().item()
    assert norms["RNN"] < 1e-3 * norms["LSTM"], norms
    assert math.isfinite(norms["LSTM"]) and norms["LSTM"] > 0
