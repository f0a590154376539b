"""rnnlab.nn.init.keras_init_: Keras' default initial weights on our layers (the table in its
docstring), checked on the lecture's IMDB model."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import rnnlab.nn as rnn
from rnnlab.nn.init import keras_init_


@pytest.mark.parametrize(("cls", "gates"), [(rnn.LSTM, 4), (rnn.GRU, 3), (rnn.RNN, 1)])
def test_recurrent_layers_start_as_in_keras(cls, gates):
    torch.manual_seed(0)
    I, H = 32, 100
    layer = keras_init_(cls(I, H, num_layers=2, bidirectional=True))
    for name, p in layer.named_parameters():
        if name.startswith("weight_ih"):
            fan_in = p.shape[1]  # I in layer 0, 2H above it
            limit = math.sqrt(6 / (fan_in + gates * H))  # Glorot uniform
            assert p.abs().max() <= limit and p.abs().max() > 0.9 * limit, name
        elif name.startswith("weight_hh"):
            # orthonormal columns: W^T W = I (H, H)
            torch.testing.assert_close(p.t() @ p, torch.eye(H), atol=1e-5, rtol=0)
        elif name.startswith("bias_ih") and cls is rnn.LSTM:
            expected = torch.zeros(gates * H)
            expected[H : 2 * H] = 1.0  # unit_forget_bias: gates (i, f, g, o)
            assert torch.equal(p, expected), name
        else:
            assert not p.any(), name


def test_embedding_and_linear_start_as_in_keras():
    torch.manual_seed(0)
    model = keras_init_(nn.Sequential(nn.Embedding(5000, 32, padding_idx=0), nn.Linear(100, 1)))
    emb, out = model
    assert emb.weight.abs().max() <= 0.05 and emb.weight.abs().max() > 0.049
    assert not emb.weight[0].any()  # the padding row stays zero
    limit = math.sqrt(6 / (100 + 1))
    assert out.weight.abs().max() <= limit and not out.bias.any()


def test_a_classifier_with_keras_init():
    from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier

    torch.manual_seed(0)
    m = SequenceClassifier(ClassifierConfig(5000, 2, embed_dim=32, hidden_size=100, init="keras"))
    assert m.embedding.weight.abs().max() <= 0.05
    assert torch.equal(m.rnn.bias_ih_l0[100:200], torch.ones(100))
    with pytest.raises(ValueError, match="init must be one of"):
        ClassifierConfig(10, 2, init="glorot")
