"""summary: counts equal sum(p.numel()) and the formula, Keras' one-bias numbers alongside; the
lecture's Embedding(10000, 32) -> LSTM(100) -> Dense(1) on 600-token reviews; without an example
input, parameter counts only."""

from __future__ import annotations

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.inspect import recurrent_formula, summary
from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier, TextClassifier
from rnnlab.text import Vocab


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


GATES = {rnn.RNN: 1, torch.nn.RNN: 1, rnn.GRU: 3, torch.nn.GRU: 3, rnn.LSTM: 4, torch.nn.LSTM: 4}


@pytest.mark.parametrize("cls", list(GATES))
@pytest.mark.parametrize("m,n", [(32, 100), (1, 1), (5, 3), (300, 128)])
def test_without_an_example_counts_and_formulas(cls, m, n):
    """Nothing runs: one row, its count that of torch.nn's layer (two biases) and of
    g(mn + n^2 + 2n); Keras' one-bias g(mn + n^2 + n) worked by hand beside it."""
    g = GATES[cls]
    layer = cls(m, n)
    s = summary(layer)
    torch_count = sum(p.numel() for p in getattr(torch.nn, cls.__name__)(m, n).parameters())
    assert [r.name for r in s.rows] == ["(model)"] and s.input_shape is None
    assert s.rows[0].params == s.total == sum(p.numel() for p in layer.parameters())
    assert s.total == torch_count == g * (m * n + n**2 + 2 * n)
    text = s.format()
    assert "Output Shape" not in text and "input: none given" in text
    assert f"{g}({m * n:,} + {n**2:,} + {2 * n:,}) = {torch_count:,}" in text
    one_bias = g * (m * n + n**2 + n)
    if cls in (rnn.GRU, torch.nn.GRU):  # reset_after=True: Keras keeps two biases as well
        assert f"Keras GRU(reset_after=True) also keeps two: {torch_count:,}" in text
    else:
        assert f"Keras' one-bias {g}(mn + n^2 + n) = {g}({m * n:,} + {n**2:,} + {n:,}) = " \
               f"{one_bias:,} ({n * g:,} fewer)" in text  # fmt: skip


def test_lecture_example_without_an_example():
    model = SequenceClassifier(ClassifierConfig(vocab_size=10000, num_classes=2, embed_dim=32,
                                                hidden_size=100, dropout=0.0))  # fmt: skip
    s = summary(model)
    assert [(r.name, r.params) for r in s.rows] == [
        ("embedding", 320_000), ("dropout", 0), ("rnn", 53_600), ("out", 101)
    ]  # fmt: skip
    assert 53_600 == 4 * (32 * 100 + 100**2 + 2 * 100)  # torch.nn.LSTM(32, 100)
    assert 53_200 == 4 * (32 * 100 + 100**2 + 100)  # Keras LSTM(100) on 32 inputs
    text = s.format()
    assert "4(3,200 + 10,000 + 200) = 53,600" in text
    assert "Keras' one-bias 4(mn + n^2 + n) = 4(3,200 + 10,000 + 100) = 53,200" in text
    assert s.total == s.trainable == 373_701 and "Total params: 373,701" in text
    with_example = summary(model, torch.ones(1, 7, dtype=torch.long), torch.tensor([7]))
    assert [(r.name, r.params, r.notes) for r in with_example.rows] == [
        (r.name, r.params, r.notes) for r in s.rows
    ]
    assert "Output Shape" in with_example.format()


def test_deep_bidirectional_per_layer_and_direction():
    """LSTM(32 -> 100) x 2 layers x 2 directions: layer 1 reads the 2n = 200 concatenated units."""
    s = summary(rnn.LSTM(32, 100, num_layers=2, bidirectional=True))
    peer = torch.nn.LSTM(32, 100, num_layers=2, bidirectional=True)
    assert s.total == sum(p.numel() for p in peer.parameters())
    per_dir = [4 * (32 * 100 + 100**2 + 200), 4 * (200 * 100 + 100**2 + 200)]  # 53,600 120,800
    keras = 2 * (4 * (32 * 100 + 100**2 + 100) + 4 * (200 * 100 + 100**2 + 100))
    assert s.total == 2 * sum(per_dir) == 348_800 and keras == 347_200
    notes = s.rows[0].notes
    assert notes[0].startswith("layer 0 (each direction)") and "m=32 n=100" in notes[0]
    assert notes[2].startswith("layer 1 (each direction)") and "m=200 n=100" in notes[2]
    assert notes[-1] == "all: 2 x (53,600 + 120,800) = 348,800; Keras' one-bias 347,200"
    _, gru = recurrent_formula(rnn.GRU(4, 3, num_layers=3))
    assert gru[-1] == "all: 81 + 72 + 72 = 225"  # 3(12 + 9 + 6) + 2 x 3(9 + 9 + 6); Keras the same
    _, cho = recurrent_formula(rnn.GRU(4, 3, num_layers=2, reset_after=False))
    assert cho[-1] == "all: 81 + 72 = 153; Keras' one-bias 135"  # 3(12 + 9 + 3) + 3(9 + 9 + 3)
    _, plain = recurrent_formula(rnn.RNN(4, 3, bias=False, bidirectional=True))
    assert plain[-1] == "all: 2 x 21 = 42"  # 1(12 + 9), no bias


def test_whole_model_without_an_example():
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "a", "witty", "movie"])
    config = ClassifierConfig(vocab_size=len(vocab), num_classes=3, cell="gru", embed_dim=4,
                              hidden_size=3, bidirectional=True)  # fmt: skip
    model = TextClassifier(config, vocab, ["neg", "mixed", "pos"])
    s = summary(model)
    assert s.total == sum(p.numel() for p in model.parameters())
    assert sum(r.params for r in s.rows) == s.total
    rnn_row = next(r for r in s.rows if r.kind == "GRU")
    assert rnn_row.params == 2 * 3 * (4 * 3 + 3**2 + 2 * 3) == 162
    assert rnn_row.output_shape == "-"


def test_shared_and_loose_parameters_without_an_example():
    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(10, 4)
            self.proj = torch.nn.Linear(4, 10, bias=False)
            self.proj.weight = self.embed.weight  # tied: counted once in the total
            self.act = torch.nn.Tanh()
            self.scale = torch.nn.Parameter(torch.ones(1))

    s = summary(Tied())
    assert [(r.name, r.params) for r in s.rows] == [
        ("embed", 40), ("proj", 40), ("act", 0), ("(other)", 1)
    ]  # fmt: skip
    assert s.total == 41
