"""SequenceTagger: encoding, batching, padding, the two heads' losses, <unk> replacement of rare
words, raw-text tagging, and a saved model that tags as the trained one did."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import rnnlab
from rnnlab import saved
from rnnlab.models import SequenceTagger, TaggerConfig
from rnnlab.models.tagger import CASINGS, TagBatch, TagCollate, casing, normalize, split_words
from rnnlab.text import Vocab

SENTENCES = [
    (["Mohan", "was", "driving", "a", "Maruti"], ["B-PER", "O", "O", "O", "B-ORG"]),
    (["He", "lives", "in", "New", "Delhi", "since", "1998"],
     ["O", "O", "O", "B-LOC", "I-LOC", "O", "O"]),
    (["EU", "rejects"], ["B-ORG", "O"]),
]  # fmt: skip
TAGS = ["O", "B-LOC", "B-ORG", "B-PER", "I-LOC"]


def make_tagger(crf: bool = True, chars: bool = True, seed: int = 0, **kw) -> SequenceTagger:
    torch.manual_seed(seed)
    words = Vocab.build([[normalize(w) for w in s] for s, _ in SENTENCES])
    char_vocab = Vocab.build([list(w) for s, _ in SENTENCES for w in s]) if chars else None
    config = TaggerConfig(vocab_size=len(words), num_tags=len(TAGS),
                          num_chars=len(char_vocab) if chars else 0, case_dim=3, embed_dim=8,
                          char_dim=5, char_hidden=4, hidden_size=6, crf=crf, **kw)  # fmt: skip
    return SequenceTagger(config, words, TAGS, char_vocab, "IOB2")


def batch_of(model: SequenceTagger, sentences=SENTENCES) -> TagBatch:
    return TagCollate()([model.encode(w, t) for w, t in sentences])


def test_encoding_normalises_words_and_keeps_case_for_characters():
    model = make_tagger()
    words, chars, cases, tags = model.encode(["Delhi", "1998", "Zyx"], ["B-LOC", "O", "O"])
    assert words[0] == model.vocab["delhi"] and words[1] == model.vocab["0000"]
    assert words[2] == Vocab.unk_id
    assert model.chars.decode(chars[0]) == list("Delhi")
    assert [CASINGS[k] for k in cases] == ["title", "numeric", "title"]
    assert tags == [TAGS.index("B-LOC"), 0, 0]
    long = model.encode(["a" * 10 + "b" * 30])[1][0]
    assert len(long) == 20 and model.chars.decode(long[-1:]) == ["<unk>"]  # 'b' is unseen
    with pytest.raises(ValueError, match="not among the model's tags"):
        model.encode(["x"], ["B-MISC"])
    with pytest.raises(ValueError, match="non-empty"):
        model.encode([])


@pytest.mark.parametrize("token, kind", [("paris", "lower"), ("EU", "upper"), ("Paris", "title"),
                                         ("iPhone", "mixed"), ("1998", "numeric"),
                                         ("F-16", "has_digit"), (",", "other")])  # fmt: skip
def test_casing(token, kind):
    assert CASINGS[casing(token)] == kind


def test_split_words_keeps_case_and_splits_punctuation():
    assert split_words("Mohan's car, in the U.S. (1998).") == [
        "Mohan", "'s", "car", ",", "in", "the", "U.S.", "(", "1998", ")", "."]  # fmt: skip
    assert split_words("I don't know") == ["I", "do", "n't", "know"]


def test_collate_pads_words_characters_and_tags():
    model = make_tagger()
    b = batch_of(model)
    assert b.words.shape == (3, 7) and b.lengths.tolist() == [5, 7, 2]
    assert b.chars.shape == (3, 7, 7)  # the longest word: "driving"
    assert (b.tags[2, 2:] == -1).all() and (b.words[2, 2:] == 0).all()
    assert (b.chars[2, 2:] == 0).all() and (b.cases[0, 5:] == 0).all()


@pytest.mark.parametrize("crf", [True, False])
@pytest.mark.parametrize("chars", [True, False])
def test_a_sentence_scores_alike_alone_and_in_a_padded_batch(crf, chars):
    model = make_tagger(crf=crf, chars=chars).eval()
    together = model.emissions(batch_of(model))
    for i, sentence in enumerate(SENTENCES):
        alone = model.emissions(batch_of(model, [sentence]))
        n = len(sentence[0])
        torch.testing.assert_close(alone[0], together[i, :n])
    assert (
        model.predict_ids(batch_of(model))[1]
        == model.predict_ids(batch_of(model, SENTENCES[1:2]))[0]
    )


def test_losses_are_per_token_nll_of_the_two_heads():
    torch.manual_seed(0)
    b = batch_of(make_tagger())
    crf_model = make_tagger(crf=True).eval()
    x = crf_model.emissions(b)
    want = crf_model.crf.nll(x, b.tags, b.lengths).sum() / b.lengths.sum()
    torch.testing.assert_close(crf_model.loss(b), want)
    soft = make_tagger(crf=False).eval()
    x = soft.emissions(b)
    real = b.tags >= 0
    want = F.cross_entropy(x[real], b.tags[real])
    torch.testing.assert_close(soft.loss(b), want)
    # one gradient step lowers the loss on the batch
    for model in (crf_model, soft):
        model.train()
        opt = torch.optim.Adam(model.parameters(), 0.05)
        before = float(model.eval().loss(b).detach())
        for _ in range(5):
            model.train()
            opt.zero_grad()
            model.loss(b).backward()
            opt.step()
        # 10 seeds x 1 thread: 0.47-0.61 (CRF) and 0.56-0.68 (softmax) of the loss before;
        # < 1 leaves >= 0.32
        assert float(model.eval().loss(b).detach()) < before


def test_words_seen_once_become_unk_only_while_training():
    model = make_tagger(chars=False, singleton_from=4, singleton_unk=1.0, dropout=0.0)
    b = batch_of(model)
    as_unk = b._replace(words=b.words.masked_fill(b.words >= 4, Vocab.unk_id))
    model.train()
    torch.testing.assert_close(model.emissions(b), model.emissions(as_unk))
    model.eval()
    assert not torch.allclose(model.emissions(b), model.emissions(as_unk))
    with pytest.raises(ValueError, match="singleton_from"):
        TaggerConfig(vocab_size=10, num_tags=2, singleton_from=11)


def test_evaluate_reports_token_accuracy_and_entity_f1():
    model = make_tagger()
    b = batch_of(model)
    metrics = model.eval().evaluate([b])
    pred = model.predict_ids(b)
    gold = [t[:n] for t, n in zip(b.tags.tolist(), b.lengths.tolist(), strict=True)]
    right = sum(
        p == g for ps, gs in zip(pred, gold, strict=True) for p, g in zip(ps, gs, strict=True)
    )
    assert metrics["accuracy"] == pytest.approx(right / 14)
    assert set(metrics) == {"loss", "accuracy", "precision", "recall", "f1"}
    assert 0.0 <= metrics["f1"] <= 1.0


def test_tag_raw_texts_and_entities_follow_the_tags():
    model = make_tagger()
    out = model.tag(["Mohan was driving a Maruti", ["EU", "rejects"], "x"])
    assert [len(t.tokens) for t in out] == [5, 2, 1]
    assert out[0].tokens == ["Mohan", "was", "driving", "a", "Maruti"]
    for t in out:
        assert all(tag in TAGS for tag in t.tags)
        assert [(k, a, b) for k, a, b, _ in t.entities] == rnnlab.metrics.spans(t.tags)
        assert [text for _, a, b, text in t.entities] == [
            " ".join(t.tokens[a:b]) for _, a, b, _ in t.entities
        ]
    with pytest.raises(ValueError, match="no tokens"):
        model.tag(["   "])
    with pytest.raises(TypeError):
        model.tag("one string")


def test_config_and_constructor_checks():
    with pytest.raises(ValueError, match="cell"):
        TaggerConfig(vocab_size=10, num_tags=2, cell="rnn")
    with pytest.raises(ValueError, match="dropout"):
        TaggerConfig(vocab_size=10, num_tags=2, dropout=1.0)
    words = Vocab.build([["a"]])
    with pytest.raises(ValueError, match="num_tags"):
        SequenceTagger(TaggerConfig(vocab_size=len(words), num_tags=3), words, ["O", "B-X"])
    with pytest.raises(ValueError, match="not a IOB2 tag"):
        SequenceTagger(TaggerConfig(vocab_size=len(words), num_tags=2), words, ["O", "E-X"],
                       scheme="IOB2")  # fmt: skip


@pytest.mark.parametrize("chars", [True, False])
def test_a_saved_tagger_loads_and_tags_the_same(tmp_path, chars):
    model = make_tagger(chars=chars, cell="gru", num_layers=2).eval()
    saved.save_config(model, tmp_path)
    from rnnlab.train import save_weights

    save_weights(model, tmp_path / saved.WEIGHTS)
    assert (tmp_path / "tags.json").is_file() and (tmp_path / "chars.json").is_file() == chars
    loaded = rnnlab.load(tmp_path)
    assert isinstance(loaded, SequenceTagger) and loaded.tag_names == TAGS
    assert loaded.scheme == "IOB2" and saved.config_of(loaded) == saved.config_of(model)
    texts = ["Mohan lives in New Delhi", "EU rejects Maruti"]
    assert [t.tags for t in loaded.tag(texts)] == [t.tags for t in model.tag(texts)]
    b = batch_of(model)
    torch.testing.assert_close(loaded.emissions(b), model.emissions(b))
