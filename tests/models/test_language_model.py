"""LanguageModel and StreamLM: shapes, weight tying, state carrying, log_prob against forward,
sampling (seeds, greedy, top-k, <eos>), truncated BPTT, and clear errors on bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import rnnlab.models.language_model as lm_module
from rnnlab.models.language_model import LanguageModel, LMConfig, Score, TextFormat
from rnnlab.text import SPECIALS, Vocab
from rnnlab.text.sentences import SentenceDataset, collate_sentences
from rnnlab.text.stream import StreamBatch, StreamBatches

CHARS = list("abcdefgh .\n")
WORDS = "the cat sat on a mat dog ran".split()


def char_model(cell="lstm", fmt=None, seed=0, **kw) -> LanguageModel:
    vocab = Vocab(list(SPECIALS) + CHARS)
    torch.manual_seed(seed)
    config = LMConfig(len(vocab), cell=cell, **{"embed_dim": 6, "hidden_size": 7, **kw})
    return LanguageModel(config, vocab, fmt or TextFormat("char", "\n", "\n")).eval()


def word_model(fmt=None, seed=0, **kw) -> LanguageModel:
    vocab = Vocab(list(SPECIALS) + WORDS)
    torch.manual_seed(seed)
    config = LMConfig(len(vocab), **{"embed_dim": 5, "hidden_size": 6, **kw})
    return LanguageModel(config, vocab, fmt or TextFormat("word")).eval()


def never_eos(model: LanguageModel, sharpen: float = 1.0) -> LanguageModel:
    """``model`` with <eos> made impossible (every draw counts) and its logits scaled up."""
    with torch.no_grad():
        model.out.weight.mul_(sharpen)
        model.out.bias[model.vocab.eos_id] = -1e4
    return model


def manual_log_probs(model: LanguageModel, framed: list[int]) -> torch.Tensor:
    """log P(y_t | y_<t) from one plain forward over the framed ids."""
    logits, _ = model(torch.tensor([framed[:-1]]))
    return logits[0].log_softmax(-1).gather(-1, torch.tensor(framed[1:])[:, None]).squeeze(-1)


# ---- architecture ----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_forward_shapes_and_state(cell):
    model = char_model(cell, num_layers=2)
    ids = torch.randint(0, len(model.vocab), (3, 9))
    logits, state = model(ids)
    assert logits.shape == (3, 9, len(model.vocab))
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 3, 7)
    assert isinstance(state, tuple) == (cell == "lstm")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_carrying_the_state_across_chunks_equals_one_long_forward(cell):
    model = char_model(cell, num_layers=2)
    ids = torch.randint(0, len(model.vocab), (4, 30))
    whole, final = model(ids)
    state, parts = None, []
    for start in (0, 7, 8, 20):  # uneven chunks, one of a single step
        stop = {0: 7, 7: 8, 8: 20, 20: 30}[start]
        logits, state = model(ids[:, start:stop], state)
        parts.append(logits)
    torch.testing.assert_close(torch.cat(parts, 1), whole)
    flat = lambda s: torch.cat(s) if isinstance(s, tuple) else s  # noqa: E731
    torch.testing.assert_close(flat(state), flat(final))


def test_weight_tying_shares_one_matrix():
    model = char_model(embed_dim=7, hidden_size=7, tie_weights=True)
    assert model.out.weight is model.embedding.weight
    untied = char_model(embed_dim=7, hidden_size=7)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(untied) - n(model) == len(model.vocab) * 7
    # the tied matrix is an output layer too: U(-0.1, 0.1); untied embeddings are N(0, 1)
    assert model.embedding.weight.abs().max() <= 0.1 and not model.out.bias.any()
    assert untied.embedding.weight.std() > 0.5


def test_variational_dropout_keeps_one_mask_per_sequence_and_is_off_in_eval():
    model = char_model(num_layers=2, dropout=0.5, variational_dropout=True).train()
    assert model.rnn.variational_dropout and model.rnn.dropout == 0.5
    torch.manual_seed(0)
    y = model._drop(torch.ones(3, 20, 7))  # (B, T, F)
    assert torch.equal(y, y[:, :1].expand_as(y)) and (y == 0).any()
    fresh = char_model(num_layers=2, dropout=0.5).train()._drop(torch.ones(3, 20, 7))
    assert not torch.equal(fresh, fresh[:, :1].expand_as(fresh))  # standard: a mask per step
    ids = torch.randint(0, len(model.vocab), (2, 9))
    model.eval()
    torch.testing.assert_close(model(ids)[0], model(ids)[0])


def test_lengths_give_each_sequences_state_after_its_last_real_token():
    model = char_model("gru")
    a, b = torch.randint(4, 15, (1, 5)), torch.randint(4, 15, (1, 3))
    batch = torch.zeros(2, 5, dtype=torch.long)
    batch[0], batch[1, :3] = a[0], b[0]
    logits, h = model(batch, lengths=torch.tensor([5, 3]))
    torch.testing.assert_close(logits[1, :3], model(b)[0][0])
    torch.testing.assert_close(h[:, 1], model(b)[1][:, 0])


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"vocab_size": 0}, "vocab_size"),
        ({"cell": "tcn"}, "cell must be one of"),
        ({"dropout": 1.0}, "dropout"),
        ({"num_layers": 0}, "num_layers"),
        ({"tie_weights": True, "embed_dim": 4, "hidden_size": 5}, "tie_weights needs"),
        ({"adaptive_cutoffs": (5, 3)}, "increasing"),
        ({"adaptive_cutoffs": (0,)}, "increasing"),
        ({"adaptive_cutoffs": ()}, "increasing"),
        ({"adaptive_cutoffs": (3, 6), "hidden_size": 15}, "at least 16"),
        (
            {"adaptive_cutoffs": (4,), "tie_weights": True, "embed_dim": 6, "hidden_size": 6},
            "cannot be combined",
        ),  # fmt: skip
    ],
)
def test_config_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        LMConfig(**{"vocab_size": 10, **kw})


def test_model_and_format_errors():
    vocab = Vocab(list(SPECIALS) + CHARS)
    with pytest.raises(ValueError, match="every cutoff must be below 14"):
        LanguageModel(LMConfig(len(vocab), hidden_size=16, adaptive_cutoffs=(5, 14)), vocab)
    with pytest.raises(ValueError, match="vocabulary of 15 for vocab_size=9"):
        LanguageModel(LMConfig(9), vocab)
    with pytest.raises(ValueError, match="start token 'x' is not in the vocabulary"):
        LanguageModel(LMConfig(len(vocab)), vocab, TextFormat("char", "x", None))
    with pytest.raises(ValueError, match="tokenizer"):
        TextFormat("bpe")
    with pytest.raises(ValueError, match="end must be a token"):
        TextFormat("char", None, "")
    with pytest.raises(ValueError, match=r"ids must be \(B, T\)"):
        char_model()(torch.tensor([1, 2, 3]))


# ---- probabilities ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, fmt, text, framed",
    [
        (char_model, TextFormat("char", "\n", "\n"), "abc", [14, 4, 5, 6, 14]),
        (char_model, TextFormat("char", "<bos>", "<eos>"), "ha", [2, 11, 4, 3]),
        (char_model, TextFormat("char", None, None), "abc", [4, 5, 6]),
        (word_model, TextFormat("word"), "The cat SAT on zebras", [2, 4, 5, 6, 7, 1, 3]),
        (word_model, TextFormat("whitespace", "<eos>", "<eos>"), "the Cat", [3, 4, 1, 3]),
    ],
)
def test_log_prob_is_the_sum_of_the_per_token_log_softmax_of_forward(make, fmt, text, framed):
    model = make(fmt=fmt)
    assert model._framed(text) == framed
    with torch.no_grad():
        expected = manual_log_probs(model, framed)
    got = model.token_log_probs([text])[0]
    torch.testing.assert_close(got, expected)
    assert model.log_prob(text) == pytest.approx(float(expected.sum()), abs=1e-5)
    assert model.prob(text) == pytest.approx(math.exp(float(expected.sum())), rel=1e-5)


def test_batched_and_chunked_scoring_equal_one_text_at_a_time(monkeypatch):
    model = char_model(num_layers=2)
    texts = ["a", "abc. ", "hg fed cba", "a" * 40, "bad cafe"]
    alone = [model.token_log_probs([t])[0] for t in texts]
    batched = model.token_log_probs(texts, batch_size=2)
    monkeypatch.setattr(lm_module, "LOGITS_BUDGET", 3 * len(model.vocab))  # 1-step chunks
    chunked = model.token_log_probs(texts)
    for a, b, c in zip(alone, batched, chunked, strict=True):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, c)


def test_score_and_perplexity():
    model = word_model()
    texts = ["the cat sat", "mat on a dog ran"]
    lps = model.token_log_probs(texts)
    scores = model.score(texts)
    assert [s.tokens for s in scores] == [4, 6]  # the words and <eos>
    for s, lp, text in zip(scores, lps, texts, strict=True):
        assert isinstance(s, Score) and s.text == text
        assert s.log_prob == pytest.approx(float(lp.sum()), abs=1e-5)
        assert s.prob == pytest.approx(math.exp(s.log_prob))
        assert s.perplexity == pytest.approx(math.exp(-s.log_prob / s.tokens))
    # perplexity = exp(-1/N sum log p) over both texts' 10 tokens
    total = sum(float(lp.sum()) for lp in lps)
    assert model.perplexity(texts) == pytest.approx(math.exp(-total / 10), rel=1e-5)
    assert model.perplexity("the cat sat") == pytest.approx(scores[0].perplexity, rel=1e-5)


def test_scoring_leaves_training_mode_alone():
    model = char_model(dropout=0.5).train()
    a, b = model.log_prob("abc"), model.log_prob("abc")
    assert a == b and model.training  # dropout off while scoring, training mode back after


@pytest.mark.parametrize(
    "make, fmt, text, match",
    [
        (char_model, None, "", "empty text"),
        (word_model, None, "   ", "empty text"),
        (char_model, None, "abé", r"1 character\(s\) outside the model's vocabulary of 11: 'é'"),
        (char_model, TextFormat("char", None, None), "a", "single token"),
    ],
)
def test_scoring_bad_input(make, fmt, text, match):
    with pytest.raises(ValueError, match=match):
        make(fmt=fmt).log_prob(text)
    with pytest.raises(TypeError, match="list of texts"):
        make().token_log_probs("abc")


# ---- sampling --------------------------------------------------------------------------------


def test_sampling_with_a_seed_is_reproducible_and_leaves_the_global_rng_alone():
    model = never_eos(char_model(fmt=TextFormat("char", None, None)))
    before = torch.get_rng_state()
    a = model.sample("ab", max_tokens=40, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    assert a == model.sample("ab", max_tokens=40, seed=3)
    assert len(a) == 40 and set(a) <= set(CHARS)
    others = {model.sample("ab", max_tokens=40, seed=s) for s in range(4, 9)}
    assert len(others - {a}) >= 4


def test_temperature_near_zero_and_top_1_equal_greedy():
    model = never_eos(char_model(num_layers=2, seed=5), sharpen=20.0)
    greedy = model.sample("ab", max_tokens=30, temperature=0)
    assert len(set(greedy)) > 1
    assert model.sample("ab", max_tokens=30, temperature=1e-4, seed=0) == greedy
    assert model.sample("ab", max_tokens=30, top_k=1, seed=1) == greedy
    # greedy by hand: feed back the argmax of the last logits each time
    ids = [model.vocab["\n"], *model.encode("ab")]
    out = []
    for _ in range(30):
        with torch.no_grad():
            y = int(model(torch.tensor([ids]))[0][0, -1].argmax())
        ids.append(y)
        out.append(y)
    assert greedy == model.decode(out)


def test_top_k_restricts_every_draw():
    model = never_eos(char_model(fmt=TextFormat("char", "<bos>", "<eos>"), seed=2), 10.0)
    context = [model.vocab.bos_id, *model.encode("a")]
    text = model.sample("a", max_tokens=25, top_k=3, temperature=3.0, seed=5)
    assert len(text) == 25
    for ch in text:
        with torch.no_grad():
            logits = model(torch.tensor([context]))[0][0, -1]
        logits[[0, 1, 2]] = float("-inf")  # never drawn: <pad>, <bos>; <unk> at char level
        assert model.vocab[ch] in torch.topk(logits, 3).indices.tolist()
        context.append(model.vocab[ch])


def test_sampling_stops_at_eos_and_at_max_tokens():
    model = word_model()
    with torch.no_grad():
        model.out.bias[3] = 1e4  # <eos> certain
    assert model.sample("the cat", seed=0) == ""
    with torch.no_grad():
        model.out.bias[3] = -1e4
    assert len(model.sample(seed=0).split()) == 20  # word level: 20 words by default
    assert len(never_eos(char_model(fmt=TextFormat("char", None, None))).sample("a", seed=0)) == 200
    assert model.sample("the", max_tokens=0) == ""


def test_sampling_never_draws_pad_or_bos():
    model = word_model()
    with torch.no_grad():
        model.out.bias[[0, 2]] = 1e4
    assert not {"<pad>", "<bos>"} & set(model.sample(seed=0, max_tokens=30).split())


def test_an_empty_prompt_needs_a_start_token():
    no_start = char_model(fmt=TextFormat("char", None, None))
    with pytest.raises(ValueError, match=r"empty prompt: this model has no start token \(<bos>\)"):
        no_start.sample("")
    assert len(char_model().sample("", max_tokens=5, seed=0)) <= 5  # starts from "\n"
    assert isinstance(word_model().sample(seed=0), str)  # starts from <bos>


def test_sampling_bad_input():
    model = char_model()
    with pytest.raises(ValueError, match="outside the model's vocabulary"):
        model.sample("ROMEO:")
    with pytest.raises(ValueError, match="max_tokens"):
        model.sample("a", max_tokens=-1)
    with pytest.raises(ValueError, match="temperature"):
        model.sample("a", temperature=-1.0)


# ---- training --------------------------------------------------------------------------------


def test_sentence_loss_is_the_mean_over_real_tokens():
    model = word_model()
    seqs = [[2, 4, 5, 6, 3], [2, 7, 3]]
    batch = collate_sentences(seqs)
    per_token = torch.cat([-manual_log_probs(model, s) for s in seqs]).detach()
    torch.testing.assert_close(model.loss(batch), per_token.mean())
    metrics = model.evaluate([batch])
    assert metrics["loss"] == pytest.approx(per_token.mean().item(), rel=1e-5)
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["loss"]))
    assert metrics["bits"] == pytest.approx(metrics["loss"] / math.log(2))
    with pytest.raises(TypeError, match="StreamLM"):
        model.loss(StreamBatch(torch.zeros(1, 2).long(), torch.zeros(1, 2).long(), True))


def test_adaptive_softmax_gives_normalised_log_probs_and_the_same_loss_on_every_path():
    model = word_model(hidden_size=16, adaptive_cutoffs=[6, 9])  # JSON's list taken as a tuple
    assert model.config.adaptive_cutoffs == (6, 9)
    model.eval()
    ids = torch.randint(0, len(model.vocab), (3, 8))
    logp, _ = model(ids)  # (B, T, V): log P(y | h), summing to one over the vocabulary
    assert logp.shape == (3, 8, len(model.vocab))
    torch.testing.assert_close(logp.logsumexp(-1), torch.zeros(3, 8), atol=1e-5, rtol=0)
    # the training loss (head + the target's cluster only) equals the full distribution's
    targets = torch.randint(1, len(model.vocab), (3, 8))
    h, _ = model.features(ids)
    full = F.cross_entropy(logp.flatten(0, 1), targets.flatten())
    torch.testing.assert_close(model.nll(h, targets), full)
    seqs = [[2, 4, 5, 6, 3], [2, 7, 11, 3]]
    per_token = torch.cat([-manual_log_probs(model, s) for s in seqs]).detach()
    torch.testing.assert_close(model.loss(collate_sentences(seqs)), per_token.mean())
    framed = model._framed("the cat sat on a mat")
    expected = manual_log_probs(model, framed).sum().item()
    assert model.log_prob("the cat sat on a mat") == pytest.approx(expected, abs=1e-5)
    assert isinstance(model.sample("the", seed=0), str)


def test_evaluate_carries_the_state_over_stream_chunks():
    model = char_model()
    ids = torch.randint(4, len(model.vocab), (120,))
    rows = StreamBatches(ids, 2, 7).data
    logits, _ = model(rows[:, :-1])
    expected = F.cross_entropy(logits.flatten(0, 1), rows[:, 1:].flatten())
    metrics = model.evaluate(StreamBatches(ids, 2, 7))
    assert metrics["loss"] == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="no tokens"):
        model.evaluate([])


def test_sentence_dataset_framing_matches_log_prob():
    model = word_model()
    framed = model._framed("the cat sat")
    metrics = model.evaluate([collate_sentences(SentenceDataset([framed]).seqs)])
    assert metrics["loss"] * 4 == pytest.approx(-model.log_prob("the cat sat"), rel=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_gpu_the_numbers_match_cpu():
    model = char_model(num_layers=2)
    expected = model.token_log_probs(["abc. def", "gh"])
    greedy = model.sample("ab", temperature=0, max_tokens=20)
    model.cuda()
    for a, b in zip(model.token_log_probs(["abc. def", "gh"]), expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert model.sample("ab", temperature=0, max_tokens=20) == greedy


def test_the_package_exports_the_language_model():
    import rnnlab.models

    assert rnnlab.models.LanguageModel is LanguageModel and rnnlab.models.LMConfig is LMConfig


@pytest.mark.parametrize("tie", [False, True])
def test_nll_equals_cross_entropy_of_the_logits_values_and_gradients(tie):
    """nll goes through linear_cross_entropy (no (N, V) logits kept): same loss and gradients
    as cross-entropy over forward's logits, with <pad> targets skipped."""
    model = word_model(tie_weights=tie, embed_dim=6, num_layers=2).double().train()
    ids = torch.randint(4, len(model.vocab), (3, 5))
    targets = torch.randint(4, len(model.vocab), (3, 5))
    targets[1, 3:] = 0
    params = list(model.parameters())
    h, _ = model.features(ids)
    ours = model.nll(h, targets, ignore_pad=True)
    g_ours = torch.autograd.grad(ours, params)
    h, _ = model.features(ids)
    ref = F.cross_entropy(model.logits(h).flatten(0, 1), targets.flatten(), ignore_index=0)
    g_ref = torch.autograd.grad(ref, params)
    torch.testing.assert_close(ours, ref, atol=1e-12, rtol=1e-12)
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("out", ["full", "tied", "adaptive"])
def test_stream_loss_under_bf16_autocast_is_close_to_float32(out):
    from rnnlab.models.truncated_bptt import StreamLM

    kw = {"full": {}, "tied": {"tie_weights": True}, "adaptive": {"adaptive_cutoffs": (6,)}}[out]
    model = char_model(embed_dim=16, hidden_size=16, num_layers=2, **kw)
    batch = StreamBatch(torch.randint(4, 15, (4, 12)), torch.randint(4, 15, (4, 12)), True)
    ref = StreamLM(model, 4).loss(batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = StreamLM(model, 4).loss(batch)
    assert low.dtype == torch.float32 and math.isfinite(float(low.detach()))
    assert abs(float(low.detach() - ref.detach())) < 1e-2 * float(ref.detach())
    low.backward()
    assert all(p.grad is None or p.grad.isfinite().all() for p in model.parameters())
