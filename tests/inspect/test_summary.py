"""summary: counts equal sum(p.numel()) and the formula, Keras' one-bias numbers alongside; the
lecture's Embedding(10000, 32) -> LSTM(100) -> Dense(1) on 600-token reviews."""

from __future__ import annotations

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.inspect import recurrent_formula, summary
from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier


def test_lecture_example():
    model = SequenceClassifier(ClassifierConfig(vocab_size=10000, num_classes=2, embed_dim=32,
                                                hidden_size=100, dropout=0.0))  # fmt: skip
    s = summary(model, torch.ones(2, 600, dtype=torch.long), torch.tensor([600, 5]))
    rows = {r.name: r for r in s.rows}
    assert rows["embedding"].params == 10000 * 32 == 320_000
    assert rows["embedding"].output_shape == "(2, 600, 32)"
    assert rows["rnn"].params == 4 * (32 * 100 + 100**2 + 2 * 100) == 53_600
    assert rows["rnn"].output_shape.startswith("[(2, 600, 100)")
    assert rows["out"].params == 101
    assert s.total == s.trainable == sum(p.numel() for p in model.parameters()) == 373_701
    text = s.format()
    assert "4(3,200 + 10,000 + 200) = 53,600" in text
    assert "Keras' one-bias 4(mn + n^2 + n) = 4(3,200 + 10,000 + 100) = 53,200" in text
    assert "Total params: 373,701" in text and str(s) == text


@pytest.mark.parametrize("cls", [rnn.RNN, rnn.LSTM, rnn.GRU, torch.nn.LSTM, torch.nn.GRU])
@pytest.mark.parametrize("layers,bidirectional,bias", [(1, False, True), (2, True, True),
                                                       (3, False, False)])  # fmt: skip
def test_formula_equals_the_parameter_count(cls, layers, bidirectional, bias):
    layer = cls(7, 5, num_layers=layers, bidirectional=bidirectional, bias=bias)
    total, lines = recurrent_formula(layer)
    assert total == sum(p.numel() for p in layer.parameters())
    assert sum(line.startswith("layer") for line in lines) == layers


def test_keras_gru_keeps_two_biases_and_rnn_one():
    _, gru = recurrent_formula(rnn.GRU(4, 3))
    assert "Keras GRU(reset_after=True) also keeps two: 81" in gru[1]  # 3(12 + 9 + 6)
    _, cho = recurrent_formula(rnn.GRU(4, 3, reset_after=False))
    assert "3(12 + 9 + 3) = 72" in cho[1] and "(9 fewer)" in cho[1]
    _, simple = recurrent_formula(rnn.RNN(4, 3))
    assert "1(mn + n^2 + 2n)" in simple[0] and "= 24 (3 fewer)" in simple[1]


def test_shared_and_unused_and_loose_parameters():
    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(10, 4)
            self.proj = torch.nn.Linear(4, 10, bias=False)
            self.proj.weight = self.embed.weight  # tied: counted once in the total
            self.unused = torch.nn.Linear(3, 3)
            self.scale = torch.nn.Parameter(torch.ones(1))

        def forward(self, ids):
            return self.proj(self.embed(ids)) * self.scale

    model = Tied()
    s = summary(model, torch.tensor([[1, 2, 3]]))
    names = [r.name for r in s.rows]
    assert names == ["embed", "proj", "unused", "(other)"]
    assert s.rows[2].output_shape == "-" and s.rows[3].params == 1
    assert s.total == sum(p.numel() for p in model.parameters()) == 40 + 12 + 1
