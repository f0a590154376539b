"""ONNX export: the masked-scan recurrence equals our layers, and onnxruntime's outputs of an
exported classifier, tagger (emissions) and language model (with its state) equal the model's
own within 1e-4 on random padded batches of several batch sizes and lengths (the classifier
exported by ``rnnlab export``, which refuses in one line a kind that cannot be exported)."""

from __future__ import annotations

import itertools

import numpy as np
import onnxruntime as ort  # the test extra: a missing one fails here, never skips
import pytest
import torch

from rnnlab import saved
from rnnlab.cli import main
from rnnlab.export import MaskedRecurrence, export_onnx
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.models.language_model import LanguageModel
from rnnlab.models.lm_network import LMConfig
from rnnlab.models.tagger import SequenceTagger, TagBatch, TaggerConfig
from rnnlab.nn import GRU, LSTM, RNN
from rnnlab.text import Vocab
from rnnlab.train import save_weights

TOLERANCE = 1e-4
SHAPES = [(1, 1), (2, 5), (5, 9), (3, 17)]  # (B, T): none of them the export's example (2, 3)
VOCAB = Vocab.build([[f"w{i}" for i in range(20)]])


def _lengths(B: int, T: int, g: torch.Generator) -> torch.Tensor:
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T  # one full row, so T is the batch's own length
    return lengths


def _ids(lengths: torch.Tensor, T: int, V: int, g: torch.Generator, side: str = "right"):
    """(B, T) random ids >= 4, 0 at the padding on ``side``."""
    ids = torch.randint(4, V, (len(lengths), T), generator=g)
    t = torch.arange(T)[None, :]
    real = t < lengths[:, None] if side == "right" else t >= T - lengths[:, None]
    return ids.masked_fill(~real, 0)


@pytest.mark.parametrize(
    "cls, kw, bidirectional, side, layers",
    [(LSTM, {}, True, "left", 2), (GRU, {}, True, "right", 1),
     (GRU, {"reset_after": False}, False, "left", 2), (RNN, {"nonlinearity": "relu"}, True,
     "right", 2), (RNN, {"bias": False}, False, "right", 1)],
)  # fmt: skip
def test_the_masked_recurrence_is_the_layer(cls, kw, bidirectional, side, layers):
    torch.manual_seed(0)
    layer = cls(5, 7, num_layers=layers, batch_first=True, bidirectional=bidirectional,
                padding_side=side, **kw).eval()  # fmt: skip
    g = torch.Generator().manual_seed(1)
    for B, T in SHAPES:
        x, lengths = torch.randn(B, T, 5, generator=g), _lengths(B, T, g)
        D = 2 if bidirectional else 1
        h0 = torch.randn(layers * D, B, 7, generator=g)
        hx = (h0, torch.randn_like(h0)) if cls is LSTM else h0
        with torch.no_grad():
            want, got = layer(x, hx, lengths=lengths), MaskedRecurrence(layer)(x, hx, lengths)
        torch.testing.assert_close(got[0], want[0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(got[1], want[1], atol=1e-6, rtol=1e-5)


def _session(model, path) -> ort.InferenceSession:
    export_onnx(model, path)
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _max_diff(got: list[np.ndarray], want: list[torch.Tensor]) -> float:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.shape == tuple(b.shape)
    return max(float(np.abs(a - b.numpy()).max()) for a, b in zip(got, want, strict=True))


def test_classifier_through_the_command(tmp_path, capsys):
    torch.manual_seed(0)
    config = ClassifierConfig(len(VOCAB), 3, cell="lstm", embed_dim=8, hidden_size=6,
                              num_layers=2, bidirectional=True, pooling="concat",
                              padding="pre")  # fmt: skip
    model = TextClassifier(config, VOCAB, ["a", "b", "c"]).eval()
    run, out = tmp_path / "run", tmp_path / "classifier.onnx"
    saved.save_config(model, run)
    save_weights(model, run / "model.safetensors")
    assert main(["export", str(run), "--format", "onnx", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "input  ids (batch, time) int64" in printed
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    g = torch.Generator().manual_seed(2)
    worst = 0.0
    for B, T in SHAPES:
        lengths = _lengths(B, T, g)
        ids = _ids(lengths, T, len(VOCAB), g, side="left")
        with torch.no_grad():
            want = model.predict_proba(ids, lengths)  # (B, 3)
        got = session.run(None, {"ids": ids.numpy(), "lengths": lengths.numpy()})
        worst = max(worst, _max_diff(got, [want]))
    print(f"classifier: max abs difference {worst:.2e}")
    assert worst < TOLERANCE


def test_tagger_emissions(tmp_path):
    torch.manual_seed(0)
    chars = Vocab.build([list("abcdefgh")])
    config = TaggerConfig(len(VOCAB), 5, embed_dim=8, hidden_size=6, cell="gru",
                          num_chars=len(chars), char_dim=4, char_hidden=3, case_dim=3,
                          crf=True)  # fmt: skip
    model = SequenceTagger(config, VOCAB, ["O", "B-X", "I-X", "B-Y", "I-Y"], chars).eval()
    session = _session(model, tmp_path / "tagger.onnx")
    assert [i.name for i in session.get_inputs()] == ["words", "chars", "cases", "lengths"]
    g = torch.Generator().manual_seed(3)
    worst = 0.0
    for (B, T), W in itertools.product(SHAPES, (1, 6)):
        lengths = _lengths(B, T, g)
        words = _ids(lengths, T, len(VOCAB), g)
        n = torch.randint(1, W + 1, (B, T, 1), generator=g)  # characters per word
        char_ids = torch.randint(4, len(chars), (B, T, W), generator=g)
        char_ids = char_ids.masked_fill(torch.arange(W) >= n, 0) * (words != 0).unsqueeze(-1)
        cases = torch.randint(1, 8, (B, T), generator=g) * (words != 0)
        batch = TagBatch(words, char_ids, cases, lengths, torch.full((B, T), -1))
        with torch.no_grad():
            want = model.emissions(batch)  # (B, T, 5)
        feeds = {"words": words, "chars": char_ids, "cases": cases, "lengths": lengths}
        got = session.run(None, {k: v.numpy() for k, v in feeds.items()})
        real = (words != 0).unsqueeze(-1).numpy()  # the padding's emissions are never read
        worst = max(worst, _max_diff([got[0] * real], [want * torch.from_numpy(real)]))
    print(f"tagger: max abs difference {worst:.2e}")
    assert worst < TOLERANCE


def test_language_model_with_its_state(tmp_path):
    torch.manual_seed(0)
    config = LMConfig(len(VOCAB), embed_dim=8, hidden_size=8, num_layers=2, cell="lstm")
    model = LanguageModel(config, VOCAB).eval()
    session = _session(model, tmp_path / "lm.onnx")
    g = torch.Generator().manual_seed(4)
    worst = 0.0
    for B, T in SHAPES:
        lengths = _lengths(B, T, g)
        ids = _ids(lengths, T, len(VOCAB), g)
        h0, c0 = torch.randn(2, B, 8, generator=g), torch.randn(2, B, 8, generator=g)
        with torch.no_grad():
            logits, (h_n, c_n) = model(ids, (h0, c0), lengths=lengths)
        feeds = {"ids": ids, "lengths": lengths, "h_0": h0, "c_0": c0}
        got = session.run(None, {k: v.numpy() for k, v in feeds.items()})
        worst = max(worst, _max_diff(got, [logits, h_n, c_n]))
    # one step at a time from the returned state is the whole sequence at once
    ids = _ids(torch.tensor([6, 6]), 6, len(VOCAB), g)
    state = [np.zeros((2, 2, 8), np.float32)] * 2
    steps = []
    for t in range(6):
        feeds = {"ids": ids[:, t : t + 1].numpy(), "lengths": np.ones(2, np.int64)}
        logits_t, *state = session.run(None, {**feeds, "h_0": state[0], "c_0": state[1]})
        steps.append(logits_t)
    with torch.no_grad():
        whole, _ = model(ids)
    worst = max(worst, _max_diff([np.concatenate(steps, axis=1)], [whole]))
    print(f"language model: max abs difference {worst:.2e}")
    assert worst < TOLERANCE


def test_the_command_refuses_other_kinds_in_one_line(tmp_path, capsys):
    from rnnlab.models.series import SeriesClassifier, SeriesConfig

    other = SeriesClassifier(SeriesConfig(num_classes=2, channels=2, hidden_size=4), ["a", "b"])
    saved.save_config(other, tmp_path / "series")
    save_weights(other, tmp_path / "series" / "model.safetensors")
    assert main(["export", str(tmp_path / "series"), "--out", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot be exported" in err and "classify" in err
    assert not (tmp_path / "x.onnx").exists()
