"""SequenceClassifier / TextClassifier: shapes, probabilities, losses, the last real state under
either padding, bag-of-words order blindness, configuration errors."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier, TextClassifier
from rnnlab.text import Vocab, pad_batch, tokenize

NOT_LONG = "the movie was not long but interesting"
LONG_NOT = "the movie was long but not interesting"
TEXTS = [NOT_LONG, "interesting", "the movie was long", LONG_NOT, "not the movie , but long"]
VOCAB = Vocab.build([tokenize(t) for t in TEXTS])
SEQS = [[4 + (3 * i + t) % 9 for t in range(n)] for i, n in enumerate([5, 1, 3, 7, 2])]

CELLS = ("rnn", "lstm", "gru")
ARCHS = [
    pytest.param(
        cell, layers, bi, pooling, id=f"{cell}-{layers}layer{'-bi' if bi else ''}-{pooling}"
    )
    for cell, layers, bi, pooling in [
        *itertools.product(CELLS, (1, 2), (False, True), ["last"]),
        *itertools.product(CELLS, (2,), (False, True), ["max", "mean"]),
    ]
]


def make(num_classes=2, seed=0, **kw) -> SequenceClassifier:
    """A small classifier in eval mode (dropout off), seeded."""
    torch.manual_seed(seed)
    base = dict(vocab_size=13, embed_dim=6, hidden_size=5, dropout=0.3)
    return SequenceClassifier(ClassifierConfig(num_classes=num_classes, **{**base, **kw})).eval()


def text_model(seed=0, **kw) -> TextClassifier:
    torch.manual_seed(seed)
    base = dict(vocab_size=len(VOCAB), num_classes=2, embed_dim=8, hidden_size=8, dropout=0.5)
    return TextClassifier(ClassifierConfig(**{**base, **kw}), VOCAB, ["neg", "pos"]).eval()


def batch(padding: str) -> tuple[torch.Tensor, torch.Tensor]:
    return pad_batch(SEQS, padding=padding)  # ids (5, 7), lengths (5,)


# --- shapes, probabilities, losses -------------------------------------------------------------


@pytest.mark.parametrize("model", ["rnn", "bow"])
@pytest.mark.parametrize("C", [2, 3, 5])
def test_shapes_and_probabilities(model, C):
    m = make(C, model=model)
    ids, lengths = batch("pre")
    logits = m(ids, lengths)
    assert logits.shape == ((5,) if C == 2 else (5, C))
    probs = m.predict_proba(ids, lengths)
    assert probs.shape == (5, C)
    assert (probs >= 0).all()
    torch.testing.assert_close(probs.sum(-1), torch.ones(5))
    if C == 2:  # one logit: the log-odds of class 1
        torch.testing.assert_close(probs[:, 1], torch.sigmoid(logits))
    else:
        torch.testing.assert_close(probs, torch.softmax(logits, -1))


def test_binary_loss_is_cross_entropy_of_the_log_odds():
    m = make(2)
    ids, lengths = batch("pre")
    labels = torch.tensor([0, 1, 1, 0, 1])
    logits = m(ids, lengths)  # (B,)
    two_way = torch.stack([torch.zeros_like(logits), logits], -1)  # (B, 2)
    torch.testing.assert_close(m.loss((ids, lengths, labels)), F.cross_entropy(two_way, labels))


def test_multiclass_loss_is_cross_entropy():
    m = make(4)
    ids, lengths = batch("pre")
    labels = torch.tensor([3, 0, 2, 1, 3])
    torch.testing.assert_close(
        m.loss((ids, lengths, labels)), F.cross_entropy(m(ids, lengths), labels)
    )


@pytest.mark.parametrize("C", [2, 3])
def test_loss_reaches_every_parameter_but_the_padding_embedding(C):
    m = make(C, num_layers=2, bidirectional=True).train()
    ids, lengths = batch("pre")
    m.loss((ids, lengths, torch.tensor([0, 1, 1, 0, 1]))).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reaches {name}"
    assert (m.embedding.weight.grad[0] == 0).all()


@pytest.mark.parametrize("C", [2, 3])
def test_evaluate_matches_predictions(C):
    m = make(C)
    ids, lengths = batch("pre")
    labels = torch.tensor([0, 1, 1, 0, 1])
    halves = [(ids[:3], lengths[:3], labels[:3]), (ids[3:], lengths[3:], labels[3:])]
    metrics = m.evaluate(halves)
    preds = m.predict_proba(ids, lengths).argmax(-1)
    assert metrics["accuracy"] == pytest.approx((preds == labels).float().mean().item())
    expected_loss = (3 * m.loss(halves[0]) + 2 * m.loss(halves[1])) / 5
    assert metrics["loss"] == pytest.approx(expected_loss.item(), rel=1e-5)


def test_evaluate_on_no_examples_is_an_error():
    with pytest.raises(ValueError, match="no examples"):
        make().evaluate([])


# --- the last real state --------------------------------------------------------------------------


@pytest.mark.parametrize("cell, layers, bi, pooling", ARCHS)
def test_pre_and_post_padding_give_the_same_logits(cell, layers, bi, pooling):
    pre = make(3, cell=cell, num_layers=layers, bidirectional=bi, pooling=pooling, padding="pre")
    post = make(3, cell=cell, num_layers=layers, bidirectional=bi, pooling=pooling, padding="post")
    post.load_state_dict(pre.state_dict())  # padding is configuration, not a parameter
    ids_pre, lengths = batch("pre")
    ids_post, _ = batch("post")
    assert not torch.equal(ids_pre, ids_post)
    torch.testing.assert_close(pre(ids_pre, lengths), post(ids_post, lengths))


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("cell, layers, bi, pooling", ARCHS)
def test_batched_logits_equal_each_text_alone(cell, layers, bi, pooling, padding):
    m = make(3, cell=cell, num_layers=layers, bidirectional=bi, pooling=pooling, padding=padding)
    ids, lengths = batch(padding)
    alone = torch.cat([m(torch.tensor([s]), torch.tensor([len(s)])) for s in SEQS])  # (B, C)
    torch.testing.assert_close(m(ids, lengths), alone)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("cell, layers, bi, pooling", ARCHS)
def test_ids_at_padded_positions_do_not_matter(cell, layers, bi, pooling, padding):
    m = make(2, cell=cell, num_layers=layers, bidirectional=bi, pooling=pooling, padding=padding)
    ids, lengths = batch(padding)
    pad = ids == 0
    assert pad.any()
    noisy = ids.clone()
    noisy[pad] = torch.randint(1, 13, (int(pad.sum()),), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(m(noisy, lengths), m(ids, lengths))


@pytest.mark.parametrize("cell", CELLS)
def test_last_state_matches_torch_on_packed_sequences(cell):
    """The last real state, held against torch.nn's RNN on a PackedSequence (copied weights)."""
    m = make(3, cell=cell, num_layers=2, bidirectional=True, padding="pre")
    ref = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        6, 5, num_layers=2, batch_first=True, bidirectional=True
    )
    ref.load_state_dict(m.rnn.state_dict())
    ids, lengths = batch("post")
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        m.embedding(ids), lengths, batch_first=True, enforce_sorted=False
    )
    _, state = ref(packed)
    h_n = state[0] if cell == "lstm" else state  # (L*D, B, H)
    expected = m.out(torch.cat([h_n[-2], h_n[-1]], -1))  # (B, C)
    torch.testing.assert_close(m(*batch("pre")), expected)


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_pooling_over_the_real_steps(pooling):
    m = make(3, cell="gru", bidirectional=True, pooling=pooling, padding="pre")
    ids, lengths = batch("pre")
    for i, seq in enumerate(SEQS):
        out, _ = m.rnn(m.embedding(torch.tensor([seq])))  # (1, n, 2H), no padding
        feats = out[0].amax(0) if pooling == "max" else out[0].mean(0)  # (2H,)
        torch.testing.assert_close(m(ids[i : i + 1], lengths[i : i + 1])[0], m.out(feats))
        torch.testing.assert_close(m(ids, lengths)[i], m.out(feats))


def test_lengths_are_used_not_inferred_from_the_ids():
    """Control for the test above: the same ids read with other lengths give other logits."""
    m = make(2, padding="post")
    ids, lengths = batch("post")
    assert not torch.allclose(m(ids, lengths), m(ids, torch.full_like(lengths, ids.shape[1])))


# --- bag of words vs order ------------------------------------------------------------------------


def test_bag_of_words_cannot_tell_the_order_apart():
    assert sorted(tokenize(NOT_LONG)) == sorted(tokenize(LONG_NOT))
    bow = text_model(model="bow")
    a, b = bow.predict([NOT_LONG, LONG_NOT])
    assert a.label == b.label
    torch.testing.assert_close(torch.tensor(a.probabilities), torch.tensor(b.probabilities))
    ids, lengths = bow.encode([NOT_LONG, LONG_NOT])
    logits = bow(ids, lengths)
    torch.testing.assert_close(logits[0], logits[1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_recurrent_model_tells_the_order_apart(cell):
    m = text_model(cell=cell)
    ids, lengths = m.encode([NOT_LONG, LONG_NOT])
    assert (ids != 1).all(), "every word is in the vocabulary"
    logits = m(ids, lengths)
    assert (logits[0] - logits[1]).abs() > 1e-4
    a, b = m.predict([NOT_LONG, LONG_NOT])
    assert a.probabilities != b.probabilities


def test_bag_of_words_is_the_mean_embedding_of_the_real_tokens():
    m = make(2, model="bow")
    ids, lengths = batch("pre")
    for i, seq in enumerate(SEQS):
        mean = m.embedding.weight[seq].mean(0)  # (E,)
        expected = m.out(mean).squeeze(-1)
        torch.testing.assert_close(m(ids[i : i + 1], lengths[i : i + 1])[0], expected)


# --- TextClassifier -------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_encode_tokenizes_and_pads_on_the_configured_side(padding):
    m = text_model(padding=padding)
    ids, lengths = m.encode(["The movie!", "interesting"])
    assert lengths.tolist() == [3, 1]
    row = [VOCAB["the"], VOCAB["movie"], VOCAB.unk_id]
    assert ids[0].tolist() == row
    assert ids[1].tolist() == (
        [0, 0, VOCAB["interesting"]] if padding == "pre" else [VOCAB["interesting"], 0, 0]
    )


def test_encode_rejects_empty_texts_and_a_bare_string():
    m = text_model()
    with pytest.raises(ValueError, match="text 1"):
        m.encode(["fine", "   "])
    with pytest.raises(TypeError):
        m.encode("a single string")


def test_predict_is_consistent_and_independent_of_batching():
    m = text_model(cell="gru", num_layers=2, bidirectional=True).train()
    texts = TEXTS * 3
    one = m.predict(texts, batch_size=256)
    assert m.training, "predict() must restore training mode"
    small = m.predict(texts, batch_size=2)
    assert len(one) == len(texts)
    for p, q in zip(one, small, strict=True):
        assert p.label == q.label and p.label_id == q.label_id
        assert p.probability == pytest.approx(q.probability, abs=1e-6)
    for p in one:
        assert p.label == ["neg", "pos"][p.label_id]
        assert p.probability == max(p.probabilities)
        assert sum(p.probabilities) == pytest.approx(1.0)
    assert m.predict([]) == []


def test_predict_agrees_with_the_logits():
    torch.manual_seed(0)
    cfg = ClassifierConfig(len(VOCAB), 3, embed_dim=8, hidden_size=8)
    m = TextClassifier(cfg, VOCAB, ["a", "b", "c"]).eval()
    ids, lengths = m.encode(TEXTS)
    expected = torch.softmax(m(ids, lengths), -1)
    got = torch.tensor([p.probabilities for p in m.predict(TEXTS)])
    torch.testing.assert_close(got, expected)


def test_text_classifier_checks_vocab_and_labels_against_the_config():
    cfg = ClassifierConfig(len(VOCAB), 2, embed_dim=4, hidden_size=4)
    with pytest.raises(ValueError, match="3 label names for 2 classes"):
        TextClassifier(cfg, VOCAB, ["a", "b", "c"])
    small = ClassifierConfig(len(VOCAB) - 1, 2, embed_dim=4, hidden_size=4)
    with pytest.raises(ValueError, match="vocab_size"):
        TextClassifier(small, VOCAB, ["a", "b"])


def test_text_classifier_rejects_an_unknown_level():
    cfg = ClassifierConfig(len(VOCAB), 2, embed_dim=4, hidden_size=4)
    with pytest.raises(ValueError, match="level"):
        TextClassifier(cfg, VOCAB, ["a", "b"], level="sentence")


# --- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("vocab_size", 0),
        ("vocab_size", True),
        ("vocab_size", 10.0),
        ("num_classes", 1),
        ("num_classes", True),
        ("num_classes", 2.0),
        ("model", "cnn"),
        ("cell", "tcn"),
        ("embed_dim", 0),
        ("hidden_size", -3),
        ("num_layers", 0),
        ("dropout", 1.0),
        ("dropout", -0.1),
        ("dropout", float("nan")),
        ("padding", "left"),
        ("pooling", "attention"),
    ],
)
def test_config_rejects_bad_values_naming_them(field, value):
    kwargs = {"vocab_size": 10, "num_classes": 2, field: value}
    with pytest.raises(ValueError, match=field) as err:
        ClassifierConfig(**kwargs)
    assert repr(value) in str(err.value)


def test_config_defaults_are_valid_and_round_trip():
    cfg = ClassifierConfig(10, 2)
    m = SequenceClassifier(cfg)
    assert ClassifierConfig(**m.config_dict()) == cfg


def test_forward_rejects_unbatched_ids():
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        make()(torch.tensor([4, 5, 6]), torch.tensor([3]))


@pytest.mark.parametrize("cell, layers, bi, pooling", ARCHS)
def test_every_architecture_has_the_expected_parameters(cell, layers, bi, pooling):
    m = make(3, cell=cell, num_layers=layers, bidirectional=bi, pooling=pooling, hidden_size=5)
    D = 2 if bi else 1
    assert m.out.weight.shape == (3, D * 5)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    assert m.rnn.weight_hh_l0.shape == (gates * 5, 5)
    assert hasattr(m.rnn, f"weight_ih_l{layers - 1}") and not hasattr(m.rnn, f"weight_ih_l{layers}")
    assert hasattr(m.rnn, "weight_ih_l0_reverse") == bi
