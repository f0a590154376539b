"""Seq2Seq: the fused teacher-forced path equals the step-by-step decoder (outputs and
gradients) for every cell and attention; padding and batch neighbours change nothing; teacher
forcing below 1 feeds the model's own argmax; the loss ignores padding; a small model learns to
reverse token sequences to near 100% exact match in seconds."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from rnnlab.models.seq2seq import (
    Seq2Seq,
    Seq2SeqConfig,
    TranslationBatch,
    detokenize,
)
from rnnlab.text import Vocab

SYMBOLS = list("abcdefgh")
VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", *SYMBOLS])
CASES = [(cell, att) for cell in ("gru", "lstm") for att in ("none", "bahdanau", "dot", "general")]


def make_batch(pairs: list[tuple[list[str], list[str]]]) -> TranslationBatch:
    """Right-padded ids: src, lengths, <bos> y and y <eos>."""
    src = [VOCAB.encode(s) for s, _ in pairs]
    tgt = [VOCAB.encode(t) for _, t in pairs]
    B, S, T = len(pairs), max(map(len, src)), max(map(len, tgt)) + 1
    x, t_in, t_out = (torch.zeros(B, n, dtype=torch.long) for n in (S, T, T))
    for i, (s, t) in enumerate(zip(src, tgt, strict=True)):
        x[i, : len(s)] = torch.tensor(s)
        t_in[i, : len(t) + 1] = torch.tensor([VOCAB.bos_id, *t])
        t_out[i, : len(t) + 1] = torch.tensor([*t, VOCAB.eos_id])
    return TranslationBatch(x, torch.tensor([len(s) for s in src]), t_in, t_out)


def random_pairs(r: random.Random, n: int, lo: int = 3, hi: int = 6, reverse: bool = True):
    seqs = [[r.choice(SYMBOLS) for _ in range(r.randint(lo, hi))] for _ in range(n)]
    return [(s, s[::-1] if reverse else s) for s in seqs]


def model(cell: str, attention: str, **kw) -> Seq2Seq:
    torch.manual_seed(0)
    cfg = Seq2SeqConfig(len(VOCAB), len(VOCAB), cell=cell, attention=attention, embed_dim=8,
                        hidden_size=6, dropout=0.0, **kw)  # fmt: skip
    return Seq2Seq(cfg, VOCAB, VOCAB).double()


def step_by_step(m: Seq2Seq, batch: TranslationBatch) -> torch.Tensor:
    """The decoder one step at a time through ``step`` (the plain path): logits (B, T, V)."""
    memory = m.encode(batch.src, batch.src_lengths)
    state, out = m.init_state(memory), []
    for t in range(batch.tgt_in.shape[1]):
        logits, state, _ = m.step(batch.tgt_in[:, t], state, memory)
        out.append(logits)
    return torch.stack(out, 1)


@pytest.mark.parametrize("cell,attention", CASES)
def test_fused_forward_equals_the_step_loop(cell, attention):
    m = model(cell, attention)
    batch = make_batch(random_pairs(random.Random(0), 5, 1, 7))
    fast = m(batch, 1.0)
    slow = step_by_step(m, batch)
    torch.testing.assert_close(fast, slow)
    weight = torch.randn_like(fast)
    g_fast = torch.autograd.grad((fast * weight).sum(), list(m.parameters()), allow_unused=True)
    g_slow = torch.autograd.grad((slow * weight).sum(), list(m.parameters()), allow_unused=True)
    for (name, _), a, b in zip(m.named_parameters(), g_fast, g_slow, strict=True):
        if a is None or b is None:
            assert a is None and b is None, name
        else:
            torch.testing.assert_close(a, b, msg=name)


@pytest.mark.parametrize("cell,attention", [("gru", "bahdanau"), ("lstm", "general")])
def test_a_sentence_does_not_depend_on_its_batch(cell, attention):
    m = model(cell, attention)
    pairs = random_pairs(random.Random(1), 4, 1, 7)
    together = m(make_batch(pairs), 1.0)
    for i, pair in enumerate(pairs):
        alone = m(make_batch([pair]), 1.0)  # no padding at all
        n = alone.shape[1]
        torch.testing.assert_close(together[i, :n], alone[0])


def test_teacher_forcing_zero_feeds_the_models_own_argmax():
    m = model("gru", "bahdanau")
    batch = make_batch(random_pairs(random.Random(2), 3))
    logits = m(batch, teacher_forcing=0.0)
    memory = m.encode(batch.src, batch.src_lengths)
    state, y = m.init_state(memory), batch.tgt_in[:, 0]
    for t in range(batch.tgt_in.shape[1]):
        z, state, _ = m.step(y, state, memory)
        torch.testing.assert_close(logits[:, t], z)
        y = z.argmax(-1)
    assert not torch.allclose(logits, m(batch, 1.0))  # the gold inputs would differ


def test_loss_is_the_mean_over_real_target_tokens():
    m = model("lstm", "dot")
    batch = make_batch(random_pairs(random.Random(3), 4, 1, 6))
    logits = m(batch, 1.0)
    nll = -logits.log_softmax(-1).gather(-1, batch.tgt_out.unsqueeze(-1)).squeeze(-1)
    real = batch.tgt_out != 0
    torch.testing.assert_close(m.loss(batch), nll[real].mean())
    metrics = m.evaluate([batch, batch])
    assert metrics["loss"] == pytest.approx(float(nll[real].mean().detach()))
    m.config.label_smoothing = 0.1
    smoothed = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=0,
                               label_smoothing=0.1)  # fmt: skip
    torch.testing.assert_close(m.loss(batch), smoothed)


def test_learns_to_reverse_sequences():
    """Reverse 3-6 symbols (8 kinds): after 300 Adam steps with the rate decayed linearly to 0,
    >= 90% of unseen sequences come out exactly reversed (chance: ~0).

    The decay is what makes this reliable: at a constant 1e-2 the last steps still bounce, and
    8 seeds ended anywhere in 0.835-1.0 (0.945 for seed 0 on an AMD EPYC); decayed, all reach 1.0.
    """
    torch.manual_seed(0)
    r = random.Random(0)
    cfg = Seq2SeqConfig(len(VOCAB), len(VOCAB), cell="gru", attention="bahdanau", embed_dim=16,
                        hidden_size=32, dropout=0.0)  # fmt: skip
    m = Seq2Seq(cfg, VOCAB, VOCAB)
    steps = 300
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    decay = torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, total_iters=steps)
    for _ in range(steps):
        loss = m.loss(make_batch(random_pairs(r, 32)))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        decay.step()
    test = random_pairs(random.Random(99), 200)
    out = m.translate([" ".join(s) for s, _ in test])
    exact = sum(o.tokens == t for o, (_, t) in zip(out, test, strict=True)) / len(test)
    # 3 seeds x 1/2 threads: 1.0 (8 seeds x 1 thread too); threshold 0.9 leaves >= 0.1 margin
    assert exact >= 0.9, exact
    # attention rows: one per output token (and <eos>), summing to 1 over the source tokens
    for o, (s, _) in zip(out[:20], test[:20], strict=True):
        assert o.finished and o.output_tokens == [*o.tokens, "<eos>"]
        assert o.attention.shape == (len(o.tokens) + 1, len(s))
        torch.testing.assert_close(o.attention.sum(-1), torch.ones(len(o.tokens) + 1))
    # reversal attends mostly to the mirrored source position: output i reads source n - 1 - i
    rows = hits = 0
    for o, (s, t) in zip(out, test, strict=True):
        if o.tokens == t:
            n = len(s)
            peaks = o.attention[:n].argmax(-1)
            hits += int((peaks == torch.arange(n - 1, -1, -1)).sum())
            rows += n
    # 3 seeds x 1/2 threads: 1.0 (8 seeds: >= 0.998); threshold 0.9 leaves >= 0.098 margin
    assert hits / rows > 0.9, hits / rows


def test_translate_errors_and_eval_mode():
    m = model("gru", "general").float()
    m.train()
    with pytest.raises(TypeError, match="list of texts"):
        m.translate("a b")
    with pytest.raises(ValueError, match="empty"):
        m.translate(["  "])
    m.translate(["a b"])
    assert m.training  # restored


@pytest.mark.parametrize("beam", [1, 3])
def test_a_translation_cut_at_max_len_has_one_attention_row_per_token(beam):
    m = model("gru", "bahdanau").float()
    with torch.no_grad():
        m.out.bias[VOCAB.eos_id] = -100.0  # never ends
    [t] = m.translate(["a b c"], beam=beam, max_len=4)
    assert not t.finished and len(t.tokens) == 4 and t.output_tokens == t.tokens
    assert t.attention.shape == (4, 3)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(cell="rnn"), "cell must be"),
        (dict(attention="luong"), "attention must be"),
        (dict(attention="dot", dec_hidden_size=5), "dot attention needs"),
        (dict(dropout=1.0), "dropout must be < 1"),
        (dict(teacher_forcing=1.5), "teacher_forcing"),
        (dict(hidden_size=0), "hidden_size"),
    ],
)
def test_config_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        Seq2SeqConfig(10, 10, **kw)
    with pytest.raises(ValueError, match="vocabularies"):
        Seq2Seq(Seq2SeqConfig(10, 10), VOCAB, VOCAB)


@pytest.mark.parametrize(
    "tokens,text",
    [
        (["a", "dog", "'s", "toy", "."], "a dog's toy."),
        (["it", "is", "n't", "(", "really", ")", "here", "!"], "it isn't (really) here!"),
        (
            ["two", "men", ",", "one", "woman", ":", "x-ray", "50", "%"],
            "two men, one woman: x-ray 50%",
        ),
        ([], ""),
    ],
)
def test_detokenize(tokens, text):
    assert detokenize(tokens) == text
