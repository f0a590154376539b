"""sensitivity: exact Jacobian norms, held against torch.autograd.functional.jacobian on the same
weights in torch.nn; causality; chunking does not change the numbers."""

from __future__ import annotations

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.inspect import sensitivity

PAIRS = [(rnn.RNN, torch.nn.RNN), (rnn.LSTM, torch.nn.LSTM), (rnn.GRU, torch.nn.GRU)]


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("step", [0, 3])
def test_equals_the_autograd_jacobian(ours, theirs, step):
    layer = ours(3, 4, batch_first=True).double()
    ref = theirs(3, 4, batch_first=True).double()
    ref.load_state_dict(layer.state_dict())
    x = torch.randn(8, 3, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: ref(v.unsqueeze(0))[0][0], x)  # (T,H,T,I)
    expected = jac[:, :, step, :].norm(dim=-1)  # (T, H)
    got = sensitivity(layer, x, step=step, chunk=7)
    torch.testing.assert_close(got.norms, expected)
    assert got.step == step
    assert (got.norms[:step] == 0).all(), "a causal layer's past does not see a later input"
    torch.testing.assert_close(got.per_step(), expected.norm(dim=1))


def test_chunks_and_batch_of_one_agree_and_any_model_works():
    model = torch.nn.Sequential()
    model.add_module("rnn", rnn.LSTM(2, 5, batch_first=True))
    x = torch.randn(1, 12, 2)
    a = sensitivity(model.rnn, x, chunk=1).norms
    b = sensitivity(model.rnn, x[0], chunk=10_000).norms
    torch.testing.assert_close(a, b)

    def readout(v):  # any (B, T, I) -> (B, T, O) callable
        return model.rnn(v)[0][..., :2]

    assert sensitivity(readout, x).norms.shape == (12, 2)


def test_errors():
    layer = rnn.GRU(2, 3, batch_first=True)
    with pytest.raises(ValueError, match="one sequence"):
        sensitivity(layer, torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="step"):
        sensitivity(layer, torch.randn(5, 2), step=5)
    with pytest.raises(ValueError, match=r"\(B, T, O\)"):
        sensitivity(lambda v: layer(v)[0][:, -1], torch.randn(5, 2))
