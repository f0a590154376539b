"""rnnlab.models.series: normalisation statistics, padding that never changes a prediction,
missing values, and a saved model that predicts as the one trained."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab import saved
from rnnlab.errors import InputError
from rnnlab.models.series import SeriesClassifier, SeriesConfig, channel_statistics
from rnnlab.train import save_weights


def model(cell="gru", **kw) -> SeriesClassifier:
    torch.manual_seed(0)
    cfg = SeriesConfig(num_classes=3, channels=2, cell=cell, hidden_size=8, **kw)
    return SeriesClassifier(cfg, ["a", "b", "c"]).eval()


def test_statistics_use_only_real_present_values():
    X = np.array([[[1.0, 10.0], [3.0, np.nan], [99.0, 99.0]],
                  [[5.0, 20.0], [0.0, 0.0], [0.0, 0.0]]])  # fmt: skip
    mean, std = channel_statistics(X, np.array([2, 1]))  # steps 3 and 2-3 are padding
    # channel 1: 1, 3, 5; channel 2: 10, 20 (the NaN is missing)
    np.testing.assert_allclose(mean, [3.0, 15.0])
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), 5.0], rtol=1e-6)
    with pytest.raises(InputError, match=r"channels \[2\]"):
        channel_statistics(np.array([[[1.0, np.nan]]]), np.array([1]))


def test_normalise_is_zero_at_missing_values_and_padding_and_constant_channels_are_centred():
    m = model()
    X = np.array([[[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]]])
    m.fit_normalization(X, np.array([3]))
    assert m.std.tolist() == [pytest.approx(np.sqrt(8 / 3)), 1.0]  # a constant channel: std 1
    x = torch.tensor([[[3.0, float("nan")], [5.0, 8.0], [100.0, 100.0]]])
    z = m.normalize(x, torch.tensor([2]))
    assert z[0, 0].tolist() == [0.0, 0.0]  # the mean, and a missing value
    assert z[0, 1].tolist() == [pytest.approx(2 / np.sqrt(8 / 3)), 1.0]
    assert z[0, 2].tolist() == [0.0, 0.0]  # padding


@pytest.mark.parametrize(("cell", "pooling", "deltas", "ensemble"), [
    ("gru", "concat", False, 1), ("lstm", "last", True, 1), ("gru", "max", True, 1),
    ("lstm", "mean", False, 1), ("gru", "concat", False, 3),
])  # fmt: skip
def test_padding_never_changes_a_prediction(cell, pooling, deltas, ensemble):
    m = model(cell, pooling=pooling, deltas=deltas, num_layers=2, ensemble=ensemble)
    m.fit_normalization(np.random.default_rng(0).normal(3, 2, (5, 9, 2)), np.full(5, 9))
    g = torch.Generator().manual_seed(1)
    lengths = [9, 4, 1, 6]
    alone = [torch.randn(n, 2, generator=g) * 2 + 3 for n in lengths]
    batch = torch.full((4, 12, 2), 1e3)  # padding of any value is ignored
    for i, s in enumerate(alone):
        batch[i, : len(s)] = s
    together = m(batch, torch.tensor(lengths))  # (4, K)
    for i, s in enumerate(alone):
        torch.testing.assert_close(together[i], m(s[None], torch.tensor([len(s)]))[0])
    preds = m.predict([s.numpy() for s in alone])  # a list of (T_i, C) arrays
    assert [p.label_id for p in preds] == together.argmax(-1).tolist()


def test_training_augmentation_only_in_training_and_config_errors():
    m = model(scale=0.2, jitter=0.1, dropout=0.0)  # no dropout: only augmentation is random
    x, n = torch.randn(3, 5, 2), torch.tensor([5, 3, 2])
    torch.testing.assert_close(m(x, n), m(x, n))  # eval: deterministic
    m.train()
    torch.manual_seed(0)
    a = m(x, n)
    torch.manual_seed(1)
    assert not torch.allclose(a, m(x, n))
    plain = model(dropout=0.0).train()  # without augmentation training is deterministic too
    torch.testing.assert_close(plain(x, n), plain(x, n))
    for bad in ({"cell": "tcn"}, {"pooling": "sum"}, {"dropout": 1.0}, {"num_classes": 1},
                {"channels": 0}, {"jitter": -1.0}):  # fmt: skip
        with pytest.raises(ValueError, match=next(iter(bad))):
            SeriesConfig(**{"num_classes": 3, "channels": 2, **bad})
    with pytest.raises(ValueError, match="C=2"):
        m(torch.randn(1, 4, 3), torch.tensor([4]))
    with pytest.raises(InputError, match="2 channels"):
        m.predict(np.zeros((1, 4, 3)))


def test_a_saved_model_keeps_its_statistics_and_predictions(tmp_path):
    m = model("lstm", deltas=True, ensemble=2)
    m.fit_normalization(np.random.default_rng(0).normal(50, 9, (4, 6, 2)), np.full(4, 6))
    saved.save_config(m, tmp_path)
    save_weights(m, tmp_path / "model.safetensors")
    back = rnnlab.load(tmp_path)
    assert type(back) is SeriesClassifier and back.labels == ["a", "b", "c"]
    torch.testing.assert_close(back.mean, m.mean)
    torch.testing.assert_close(back.std, m.std)
    X = np.random.default_rng(1).normal(50, 9, (3, 7, 2))
    X[0, 2, 1] = np.nan
    lengths = np.array([7, 3, 5])
    torch.testing.assert_close(back.probabilities(X, lengths), m.probabilities(X, lengths))
    p = back.predict(X, lengths)
    assert len(p) == 3 and all(abs(sum(q.probabilities) - 1) < 1e-5 for q in p)
    assert p[0].label == back.labels[p[0].label_id] and p[0].probability == max(p[0].probabilities)


def test_an_ensemble_averages_its_networks_probabilities_and_trains_each_on_its_own():
    m = model(ensemble=3)
    x, n, y = torch.randn(4, 6, 2), torch.tensor([6, 5, 2, 1]), torch.tensor([0, 2, 1, 1])
    each = m.member_logits(x, n)  # (3, 4, K)
    assert each.shape == (3, 4, 3) and not torch.allclose(each[0], each[1])  # own weights
    torch.testing.assert_close(m(x, n).exp(), each.softmax(-1).mean(0))
    losses = [torch.nn.functional.cross_entropy(e, y) for e in each]
    torch.testing.assert_close(m.loss((x, n, y)), sum(losses) / 3)
