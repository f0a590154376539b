"""gradient_flow: ||dL/dh_t|| from the BPTT backward equals autograd on an unrolled loop; the
vanishing gap between a vanilla RNN and an LSTM; what clipping does and does not change."""

from __future__ import annotations

import math

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.data.synthetic import TASKS, parity
from rnnlab.inspect import GradientFlow, format_at_steps, gradient_flow
from rnnlab.tasks.demo import large_recurrent_init_
from rnnlab.tasks.dependencies import build_model, task_loss

CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}


def unrolled_norms(layer, x: torch.Tensor) -> list[torch.Tensor]:
    """||dL/dh_t|| per layer (T, B) by autograd on torch.nn cells unrolled by hand, for the loss
    sum_t ||top h_t||^2 of a stacked one-direction layer with the same weights."""
    B, T, _ = x.shape
    hs_per_layer, inp = [], x
    for k in range(layer.num_layers):
        cell = CELLS[type(layer).__name__.lower()](inp.shape[-1], layer.hidden_size).double()
        cell.load_state_dict({n: getattr(layer, f"{n}_l{k}") for n in
                              ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})  # fmt: skip
        h = torch.zeros(B, layer.hidden_size, dtype=x.dtype)
        c = torch.zeros_like(h)
        hs = []
        for t in range(T):
            if isinstance(cell, torch.nn.LSTMCell):
                h, c = cell(inp[:, t], (h, c))
            else:
                h = cell(inp[:, t], h)
            h.retain_grad()
            hs.append(h)
        hs_per_layer.append(hs)
        inp = torch.stack(hs, 1)  # (B, T, H): the next layer's input
    inp.pow(2).sum().backward()
    return [torch.stack([h.grad for h in hs]).norm(dim=-1) for hs in hs_per_layer]  # (T, B)


@pytest.mark.parametrize("cls", [rnn.RNN, rnn.LSTM, rnn.GRU])
def test_norms_equal_autograd_on_an_unrolled_reference(cls):
    layer = cls(3, 5, num_layers=2, batch_first=True).double()
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    ref = unrolled_norms(layer, x)

    def loss_fn(model, batch):
        return model(batch)[0].pow(2).sum()

    flow = gradient_flow(layer, x, loss_fn)
    assert set(flow.norms) == {("", 0, 0), ("", 1, 0)}
    for k in range(2):
        torch.testing.assert_close(flow.norms[("", k, 0)], ref[k])
    torch.testing.assert_close(flow.curve(("", 0, 0)), ref[0].mean(1))
    assert flow.clip_coef == 1.0 and flow.clipped_grad_norm == flow.grad_norm
    total = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in layer.parameters()))
    assert flow.grad_norm == pytest.approx(total, rel=1e-9)


def parity_flow(cell: str, T: int = 100, clip_norm=None, gain=None) -> GradientFlow:
    task = TASKS["parity"]
    torch.manual_seed(1)
    model = build_model(cell, task, hidden_size=32).double()
    if gain is not None:
        large_recurrent_init_(model, gain)
    b = parity(16, T, torch.Generator().manual_seed(2), min_length=T)
    b.x = b.x.double()
    return gradient_flow(model, b, lambda m, batch: task_loss(task, m, batch), clip_norm)


def test_vanilla_rnn_gradient_vanishes_orders_of_magnitude_faster_than_lstm():
    """The curriculum's claim on a fixed seed, 100 steps, loss at the last step."""
    first = {cell: float(parity_flow(cell).curve()[0]) for cell in ("rnn", "lstm")}
    assert 0 < first["rnn"] < 1e-6 * first["lstm"], first


def test_clipping_scales_every_step_alike_and_bounds_the_update():
    raw = parity_flow("rnn", T=60, gain=3.0)
    clipped = parity_flow("rnn", T=60, gain=3.0, clip_norm=1.0)
    curve = raw.curve()
    assert float(curve[0]) > 1e6 * float(curve[-1]), "a large recurrent init explodes backwards"
    torch.testing.assert_close(clipped.curve(), curve)  # dL/dh_t itself is not clipped
    assert clipped.grad_norm == pytest.approx(raw.grad_norm)
    assert clipped.clip_coef == pytest.approx(1.0 / raw.grad_norm, rel=1e-4)
    ratio = clipped.clipped_curve() / curve
    torch.testing.assert_close(ratio, torch.full_like(ratio, clipped.clip_coef))  # same shape
    assert clipped.clipped_grad_norm == pytest.approx(1.0, rel=1e-4)


def test_clipped_gradients_are_left_in_grad():
    layer = rnn.LSTM(2, 4, batch_first=True)
    layer.weight_hh_l0.grad = torch.full_like(layer.weight_hh_l0, 7.0)  # discarded, not added
    flow = gradient_flow(layer, torch.randn(3, 5, 2), lambda m, x: m(x)[0].sum(), clip_norm=1e-3)
    total = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in layer.parameters()]))
    assert float(total) == pytest.approx(1e-3, rel=1e-3)
    assert flow.clipped_grad_norm == pytest.approx(1e-3, rel=1e-3)


def test_errors():
    layer = rnn.LSTM(2, 3)
    with pytest.raises(ValueError, match="scalar"):
        gradient_flow(layer, torch.randn(4, 1, 2), lambda m, x: m(x)[0])
    with pytest.raises(ValueError, match="clip_norm"):
        gradient_flow(layer, torch.randn(4, 1, 2), lambda m, x: m(x)[0].sum(), clip_norm=0.0)
    with pytest.raises(ValueError, match="no rnnlab recurrent layer"):
        gradient_flow(torch.nn.Linear(2, 2), torch.randn(1, 2), lambda m, x: m(x).sum())
    stacked = gradient_flow(rnn.GRU(2, 3, num_layers=2), torch.randn(4, 1, 2),
                            lambda m, x: m(x)[0].sum())  # fmt: skip
    with pytest.raises(ValueError, match="name one key"):
        stacked.curve()


def test_format_at_steps():
    text = format_at_steps({"rnn": torch.tensor([1e-8, 1e-4, 1.0]), "lstm": torch.ones(3)},
                           steps=[1, 2, 3])  # fmt: skip
    lines = text.splitlines()
    assert lines[0].split() == ["t=1", "t=2", "t=3"]
    assert lines[1].split() == ["rnn", "1.00e-08", "1.00e-04", "1.00e+00"]
    default = format_at_steps({"gru": torch.arange(100.0)}).splitlines()[0].split()
    assert default == ["t=1", "t=10", "t=50", "t=100"]
