"""gate_activations: the re-run cell equations reproduce the layer's own outputs (LSTM, GRU in
both forms, stacked and bidirectional, torch.nn too); texts go through the model's vocabulary."""

from __future__ import annotations

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.inspect import gate_activations
from rnnlab.inspect.gate_activations import GRU_GATES, LSTM_GATES, find_recurrent, run_gates
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.text import Vocab


def check_against_layer(layer, x):
    """Every layer direction's h_t from run_gates equals the stack's output / h_n."""
    out, state = layer(x.unsqueeze(1))  # (T, 1, D*H), time-major
    h_n = state[0] if isinstance(state, tuple) else state  # (L*D, 1, H)
    D, H = (2 if layer.bidirectional else 1), layer.hidden_size
    for k in range(layer.num_layers):
        for d in range(D):
            gates, h, c = run_gates(layer, x, k, d)
            end = -1 if d == 0 else 0  # the reverse direction ends at the first step
            torch.testing.assert_close(h[end], h_n[k * D + d, 0])
            if k == layer.num_layers - 1:
                torch.testing.assert_close(h, out[:, 0, d * H : (d + 1) * H])
            names = LSTM_GATES if layer.mode == "LSTM" else GRU_GATES
            assert tuple(gates) == names and all(g.shape == (len(x), H) for g in gates.values())
            if layer.mode == "LSTM":
                torch.testing.assert_close(c[end], state[1][k * D + d, 0])


@pytest.mark.parametrize(
    "make",
    [
        lambda: rnn.LSTM(3, 5),
        lambda: rnn.LSTM(3, 4, num_layers=2, bidirectional=True),
        lambda: rnn.GRU(3, 5, num_layers=2),
        lambda: rnn.GRU(3, 4, bidirectional=True, reset_after=False),
        lambda: rnn.LSTM(3, 4, bias=False),
        lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
        lambda: torch.nn.GRU(3, 5),
    ],
)
def test_recomputed_states_equal_the_layer(make):
    layer = make().double()
    with torch.no_grad():
        check_against_layer(layer, torch.randn(7, 3, dtype=torch.float64))


def test_gates_are_probabilities_and_means_cover_the_sigmoid_gates():
    acts = gate_activations(rnn.LSTM(2, 6), torch.randn(5, 2))
    assert acts.cell == "lstm" and acts.tokens == ["0", "1", "2", "3", "4"]
    for name in ("input", "forget", "output"):
        g = acts.gates[name]
        assert ((g > 0) & (g < 1)).all()
    assert set(acts.means()) == {"input", "forget", "output"}
    assert acts.cell_state.shape == (5, 6)
    gru = gate_activations(rnn.GRU(2, 6), torch.randn(5, 2), tokens=list("abcde"))
    assert set(gru.means()) == {"reset", "update"} and gru.tokens == list("abcde")


def text_model(cell: str) -> TextClassifier:
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "a", "gorgeous", "witty", "movie", "."])
    config = ClassifierConfig(vocab_size=len(vocab), num_classes=2, cell=cell, embed_dim=6,
                              hidden_size=5, dropout=0.0)  # fmt: skip
    return TextClassifier(config, vocab, ["neg", "pos"]).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_text_through_the_models_vocabulary_and_embedding(cell):
    model = text_model(cell)
    acts = gate_activations(model, "A gorgeous, witty movie.")
    assert acts.tokens == ["a", "gorgeous", ",", "witty", "movie", "."]
    ids = torch.tensor(model.vocab.encode(acts.tokens))
    out, _ = model.rnn(model.embedding(ids).unsqueeze(0))  # (1, T, H)
    torch.testing.assert_close(acts.hidden, out[0].detach())
    by_ids = gate_activations(model, ids.tolist())
    assert by_ids.tokens == ["a", "gorgeous", "<unk>", "witty", "movie", "."]
    torch.testing.assert_close(by_ids.hidden, acts.hidden)


def test_errors():
    with pytest.raises(ValueError, match="only LSTM and GRU"):
        gate_activations(rnn.RNN(2, 3), torch.randn(4, 2))
    with pytest.raises(ValueError, match="no recurrent layer"):
        gate_activations(torch.nn.Linear(2, 2), torch.randn(4, 2))
    with pytest.raises(ValueError, match="layer 1 direction 0 does not exist"):
        gate_activations(rnn.LSTM(2, 3), torch.randn(4, 2), layer=1)
    with pytest.raises(ValueError, match="vocabulary"):
        gate_activations(rnn.LSTM(2, 3), "some text")
    two = torch.nn.ModuleDict({"a": rnn.LSTM(2, 3), "b": rnn.GRU(2, 3)})
    with pytest.raises(ValueError, match="pick one by name"):
        find_recurrent(two)
    assert find_recurrent(two, "b")[0] == "b"
    with pytest.raises(ValueError, match="named 'c'"):
        find_recurrent(two, "c")
