"""Image captioning: a CNN encoder and an LSTM decoder, with or without soft attention.

Symbols: B images, N captions (each of one image: ``image_index`` (N,)), T caption steps, L grid
positions, D feature size, E embedding size, H decoder units, A attention size, V vocabulary.
The encoder turns an image into annotation vectors a_1 .. a_L (L, D): ours
(:class:`~rnnlab.models.image_encoder.ConvEncoder`, ``encoder="cnn"``, trained end to end with the
decoder) or a frozen ImageNet EfficientNet-Lite0 (``encoder="efficientnet-lite0"``,
:class:`~rnnlab.models.pretrained_encoder.PretrainedEncoder`: its head's 1280 features at stride
32, a 4 x 4 grid at 128 px; the ``pretrained`` extra); the decoder is a conditional language
model of the caption y_1 .. y_n ``<eos>``, y_0 = ``<bos>``, with e_t = Emb(y_{t-1}) (E,):

Show and Tell (Vinyals et al. 2015; ``attention=False``): the image is the first input only,

    x_{-1} = W_I mean_i(a_i);   (h_{-1}, c_{-1}) = LSTM(x_{-1}, 0)
    (h_t, c_t) = LSTM(e_t, (h_{t-1}, c_{t-1}))
    P(y_t | y_<t, I) = softmax(L_o dropout(e_t + L_h h_t))

Show, Attend and Tell (Xu et al. 2015, soft attention; ``attention=True``):

    h_0 = tanh(W_h0 mean_i a_i),  c_0 = tanh(W_c0 mean_i a_i)
    e_ti = w^T tanh(W_a a_i + U_a h_{t-1})                   (f_att, additive)
    alpha_ti = exp(e_ti) / sum_k exp(e_tk)                    (softmax over the L positions)
    z_t = beta_t * sum_i alpha_ti a_i,  beta_t = sigmoid(W_beta h_{t-1})     (the gate, sec. 4.2.1)
    (h_t, c_t) = LSTM([e_t; z_t], (h_{t-1}, c_{t-1}))
    P(y_t | y_<t, I) = softmax(L_o dropout(e_t + L_h h_t + L_z z_t))      (the deep output)

L_o is the embedding matrix itself (tied, (V, E)). Training minimises the cross-entropy per real
caption token (padding masked) plus, with attention, the doubly stochastic regularisation

    lambda * sum_i (1 - sum_t alpha_ti)^2

over a caption's real steps, here averaged over the L positions and the captions (so
``lambda = 1`` weighs it like one token's loss). Teacher forcing throughout; without attention
the LSTM runs over all steps in one fused call. Decoding is :mod:`rnnlab.models.beam`'s greedy
and beam search, shared with the translator: this model has ``encode``, ``init_state``, ``step``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.models.attention import AdditiveAttention
from rnnlab.models.image_encoder import ConvEncoder
from rnnlab.nn.native_bptt import function
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import EOS, Vocab

__all__ = [
    "Caption",
    "CaptionBatch",
    "CaptionConfig",
    "CaptionMemory",
    "Captioner",
    "caption_bleu",
    "caption_tokens",
]

VOCAB_FILE = "vocab.json"  # beside config.json in a saved captioner (rnnlab.saved)
NO_UNK = (Vocab.unk_id,)  # never generated: no reference caption says "<unk>"
ENCODERS = ("cnn", "efficientnet-lite0")  # CaptionConfig.encoder


def caption_tokens(text: str) -> list[str]:
    """A caption as the model's tokens: :func:`rnnlab.text.tokenize` (lower-cased words) without
    punctuation-only tokens (captioning evaluations drop punctuation, as coco-caption's
    tokenizer does; a caption's final " ." carries nothing)."""
    return [t for t in tokenize(text) if any(ch.isalnum() for ch in t)]


def caption_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> dict:
    """BLEU-1..4 of captions as the captioning papers report them: cumulative BLEU-n (uniform
    weights over orders 1..n, brevity penalty, no smoothing) over the corpus, every image against
    all its references, lower-cased, punctuation dropped (:func:`caption_tokens`).

    Args:
        hypotheses: one caption per image (str).
        references: per image, its reference captions (any number >= 1).

    Returns:
        ``{"bleu1": .., "bleu4": ..}`` in [0, 1].
    """
    from rnnlab.metrics.bleu import corpus_bleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} images")
    hyps = [" ".join(caption_tokens(h)) if h.strip() else "" for h in hypotheses]
    R = max(len(r) for r in references)
    refs = [[" ".join(caption_tokens(r[k])) if k < len(r) else None for r in references]
            for k in range(R)]  # fmt: skip
    return {f"bleu{n}": corpus_bleu(hyps, refs, smooth="none", tokenize="none",
                                    max_order=n).score / 100 for n in range(1, 5)}  # fmt: skip


@dataclass
class CaptionConfig:
    """Architecture of a :class:`Captioner`."""

    vocab_size: int
    attention: bool = True  # Show, Attend and Tell; False: Show and Tell
    image_size: int = 128  # S: images are resized to S x S
    encoder: str = "cnn"  # "cnn": ours, trained end to end; "efficientnet-lite0": frozen ImageNet
    channels: tuple[int, ...] = (32, 64, 128, 256)  # the CNN's stages; D = the last
    depth: int = 2  # convolutions per CNN stage (after the first)
    embed_dim: int = 256  # E
    hidden_size: int = 512  # H
    attn_size: int = 256  # A
    dropout: float = 0.5  # before the output layer
    doubly_stochastic: float = 1.0  # lambda of the attention regulariser (0: off)

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        for name in ("vocab_size", "embed_dim", "hidden_size", "attn_size", "depth"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not self.channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1
                                    for c in self.channels):  # fmt: skip
            raise ValueError(f"channels must be positive ints, got {self.channels!r}")
        if isinstance(self.image_size, bool) or not isinstance(self.image_size, int) \
                or self.image_size < 2 ** len(self.channels):  # fmt: skip
            raise ValueError(f"image_size must be an int >= {2 ** len(self.channels)} for "
                             f"{len(self.channels)} stages, got {self.image_size!r}")  # fmt: skip
        if not isinstance(self.attention, bool):
            raise ValueError(f"attention must be True or False, got {self.attention!r}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if isinstance(self.dropout, bool) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if isinstance(self.doubly_stochastic, bool) or not self.doubly_stochastic >= 0:
            raise ValueError(f"doubly_stochastic must be >= 0, got {self.doubly_stochastic!r}")


class CaptionBatch(NamedTuple):
    """B images and N captions of them: ``images`` (B, 3, S, S) uint8, ``image_index`` (N,) the
    image of each caption, ``tgt_in`` (N, T) = ``<bos> y_1 .. y_n`` and ``tgt_out`` (N, T) =
    ``y_1 .. y_n <eos>``, right-padded with ``<pad>`` = 0."""

    images: torch.Tensor
    image_index: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor


class CaptionMemory(NamedTuple):
    """What the decoder reads of the images: annotation vectors (B, L, D), a mask (B, L) (all
    True: every grid cell is real), attention keys W_a a_i (B, L, A) or None, mean_i a_i (B, D)."""

    feats: torch.Tensor
    mask: torch.Tensor
    keys: torch.Tensor | None
    mean: torch.Tensor

    def select(self, index: torch.Tensor) -> CaptionMemory:
        """The rows ``index`` (N,) of every field (a caption's image; beam search's rows)."""
        return CaptionMemory(*(None if f is None else f.index_select(0, index) for f in self))


@dataclass
class Caption:
    """One generated caption: its text, tokens (without ``<eos>``), model score (sum of
    log-probabilities, ``<eos>`` included), attention (one (G, G) map per output token, ``<eos>``
    last when it ended; None without attention), and whether it ended (False: cut at max_len)."""

    text: str
    tokens: list[str]
    score: float
    attention: torch.Tensor | None  # (len(output_tokens), G, G)
    finished: bool = True

    @property
    def output_tokens(self) -> list[str]:
        """The tokens the attention maps belong to: ``tokens``, then ``<eos>`` if it ended."""
        return [*self.tokens, EOS] if self.finished else list(self.tokens)


class Captioner(nn.Module):
    """A CNN encoder and an LSTM decoder (see the module docstring for the equations).

    Args:
        config: the architecture; ``vocab_size == len(vocab)``.
        vocab: caption token <-> id (``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3).

    Example::

        cap = rnnlab.load("runs/caption")
        [c] = cap.caption_files(["dog.jpg"], beam=3)
        c.text, c.attention.shape    # 'a dog runs through the grass', (7, 8, 8)
    """

    task = "caption"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: CaptionConfig, vocab: Vocab) -> None:
        if len(vocab) != config.vocab_size:
            raise ValueError(f"a vocabulary of {len(vocab)} for vocab_size={config.vocab_size}")
        super().__init__()
        self.config, self.vocab = config, vocab
        c = config
        E, H, A = c.embed_dim, c.hidden_size, c.attn_size
        if c.encoder == "cnn":
            self.encoder = ConvEncoder(c.channels, c.depth)
        else:  # frozen: its weights come from the package, then from a saved model's file
            from rnnlab.models.pretrained_encoder import PretrainedEncoder

            self.encoder = PretrainedEncoder(grid_stride=32)
        D = self.encoder.out_size
        self.grid = self.encoder.grid_side(c.image_size)  # G
        self.embedding = nn.Embedding(c.vocab_size, E, padding_idx=0)
        self.drop = nn.Dropout(c.dropout)
        if c.attention:
            self.init_h, self.init_c = nn.Linear(D, H), nn.Linear(D, H)
            self.attention = AdditiveAttention(H, D, A)  # e_ti = w^T tanh(W_a a_i + U_a h)
            self.gate = nn.Linear(H, 1)  # beta_t = sigmoid(W_beta h_{t-1})
            self.decoder = rnn.LSTMCell(E + D, H)
            self.ctx_out = nn.Linear(D, E, bias=False)  # L_z
            self.image_in = None
        else:
            self.image_in = nn.Linear(D, E)  # W_I
            self.decoder = rnn.LSTMCell(E, H)
            self.attention = None
        self.hidden_out = nn.Linear(H, E)  # L_h
        self.out = nn.Linear(E, c.vocab_size)
        # L_o is the embedding: N(0, 1/E) and a zero bias, so the softmax starts near uniform
        nn.init.normal_(self.embedding.weight, 0.0, E**-0.5)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        nn.init.zeros_(self.out.bias)
        self.out.weight = self.embedding.weight  # (V, E)

    # ---- encoder ---------------------------------------------------------------------------
    def encode(self, images: torch.Tensor, lengths: torch.Tensor | None = None) -> CaptionMemory:
        """uint8 images (B, 3, S, S) -> :class:`CaptionMemory`. ``lengths`` is unused (the beam
        code passes source lengths)."""
        S = self.config.image_size
        if images.dim() != 4 or tuple(images.shape[1:]) != (3, S, S):
            raise InputError(f"images must be (B, 3, {S}, {S}), got {tuple(images.shape)}")
        feats = self.encoder(images)  # (B, L, D)
        mask = torch.ones(feats.shape[:2], dtype=torch.bool, device=feats.device)  # (B, L)
        keys = None if self.attention is None else self.attention.keys(feats)  # (B, L, A)
        return CaptionMemory(feats, mask, keys, feats.mean(dim=1))

    def init_state(self, memory: CaptionMemory) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's state before ``<bos>``: (h, c), each (B, H)."""
        if self.attention is not None:
            # h_0 = tanh(W_h0 mean_i a_i),  c_0 = tanh(W_c0 mean_i a_i)
            return torch.tanh(self.init_h(memory.mean)), torch.tanh(self.init_c(memory.mean))
        # x_{-1} = W_I mean_i(a_i);  (h_{-1}, c_{-1}) = LSTM(x_{-1}, 0)
        return self.decoder(self.image_in(memory.mean))

    # ---- decoder ---------------------------------------------------------------------------
    def _step(self, y_prev: torch.Tensor, state, memory: CaptionMemory):
        """One step: (features f_t (N, E), new state, alpha (N, L) or None)."""
        e = self.embedding(y_prev)  # (N, E)
        if self.attention is None:
            # (h_t, c_t) = LSTM(e_t, (h_{t-1}, c_{t-1}))
            state = self.decoder(e, state)
            # f_t = e_t + L_h h_t
            return e + self.hidden_out(state[0]), state, None
        h_prev = state[0]  # (N, H)
        # e_ti = w^T tanh(W_a a_i + U_a h_{t-1});  alpha = softmax;  sum_i alpha_ti a_i
        context, alpha = self.attention(h_prev, memory.feats, memory.mask, memory.keys)
        # z_t = beta_t * sum_i alpha_ti a_i,  beta_t = sigmoid(W_beta h_{t-1})
        z = torch.sigmoid(self.gate(h_prev)) * context  # (N, D)
        # (h_t, c_t) = LSTM([e_t; z_t], (h_{t-1}, c_{t-1}))
        state = self.decoder(torch.cat([e, z], dim=-1), state)
        # f_t = e_t + L_h h_t + L_z z_t
        return e + self.hidden_out(state[0]) + self.ctx_out(z), state, alpha

    def step(self, y_prev: torch.Tensor, state, memory: CaptionMemory):
        """One decoding step for N rows: previous tokens (N,) -> next-token logits (N, V), the
        new state, and the attention weights (N, L) (None without attention)."""
        f, state, alpha = self._step(y_prev, state, memory)
        # P(y_t | y_<t, I) = softmax(L_o dropout(f_t))
        return self.out(self.drop(f)), state, alpha

    def _fused(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder LSTM from a zero state over all steps in one BPTT Function call:
        x (N, T, E) -> h (N, T, H); the same function as T calls of the cell."""
        cell = self.decoder
        N, H = x.shape[0], self.config.hidden_size
        zero = x.new_zeros(N, H)
        fn = function("lstm", cell.engine, cell.weight_hh)
        w = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        out, _, _ = fn.apply(x.transpose(0, 1), zero, zero, *w, None, False, None)
        return out.transpose(0, 1)  # (N, T, H)

    def _features(self, batch: CaptionBatch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced f_t for every caption step (N, T, E) (zeros after a caption's end,
        with attention) and the attention weights (N, T, L) (zeros there too; None without)."""
        memory = self.encode(batch.images).select(batch.image_index)  # rows: captions
        tgt_in = batch.tgt_in  # (N, T)
        if self.attention is None:
            e = self.embedding(tgt_in)  # (N, T, E)
            v = self.image_in(memory.mean).unsqueeze(1)  # (N, 1, E): x_{-1}
            h = self._fused(torch.cat([v, e], dim=1))[:, 1:]  # (N, T, H)
            return e + self.hidden_out(h), None  # f_t = e_t + L_h h_t
        # packed steps: captions longest first, so the captions still running at step t are
        # the first n_t rows (the decoder is causal: a caption's end never changes its start)
        lengths = (batch.tgt_out != 0).sum(dim=1)  # (N,) real tokens, <eos> included
        order = torch.argsort(lengths, descending=True, stable=True)  # (N,)
        running = (lengths[order].unsqueeze(0) > torch.arange(tgt_in.shape[1]).unsqueeze(1)
                   ).sum(dim=1).tolist()  # (T,) n_t  # fmt: skip
        memory, tgt_in = memory.select(order), tgt_in[order]
        state = self.init_state(memory)
        feats, alphas = [], []
        for t, n in enumerate(running):
            if n == 0:
                break
            rows = CaptionMemory(memory.feats[:n], memory.mask[:n], memory.keys[:n],
                                 memory.mean[:n])  # fmt: skip
            f, state, alpha = self._step(tgt_in[:n, t], (state[0][:n], state[1][:n]), rows)
            feats.append(f)  # (n_t, E)
            alphas.append(alpha)  # (n_t, L)
        inverse = torch.argsort(order)  # (N,) back to the batch's order
        T = tgt_in.shape[1]
        f = nn.utils.rnn.pad_sequence(feats, batch_first=True).transpose(0, 1)  # (N, t, E)
        a = nn.utils.rnn.pad_sequence(alphas, batch_first=True).transpose(0, 1)  # (N, t, L)
        f, a = F.pad(f, (0, 0, 0, T - f.shape[1])), F.pad(a, (0, 0, 0, T - a.shape[1]))
        return f[inverse], a[inverse]  # (N, T, E), (N, T, L)

    def forward(self, batch: CaptionBatch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced next-token logits (N, T, V) and the attention weights (N, T, L)
        (zeros after a caption's end; None without attention)."""
        f, alphas = self._features(batch)
        # P(y_t | y_<t, I) = softmax(L_o dropout(f_t))
        return self.out(self.drop(f)), alphas

    # ---- training (rnnlab.train.Trainer) -------------------------------------------------
    def _objective(self, batch: CaptionBatch) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(summed cross-entropy over real tokens, the regulariser term, number of tokens).
        The output layer, the costliest product, runs on the real tokens only."""
        f, alphas = self._features(batch)  # (N, T, E), (N, T, L)
        real = batch.tgt_out != 0  # (N, T)
        logits = self.out(self.drop(f[real]))  # (M, V), M real tokens
        ce = F.cross_entropy(logits, batch.tgt_out[real], reduction="sum")
        reg = logits.new_zeros(())
        lam = self.config.doubly_stochastic
        if alphas is not None and lam > 0:
            # lambda * sum_i (1 - sum_t alpha_ti)^2 (alphas are 0 after a caption's end);
            # the mean over the L positions and the captions
            reg = lam * ((1.0 - alphas.sum(dim=1)) ** 2).mean()
        return ce, reg, int(real.sum())

    def loss(self, batch: CaptionBatch) -> torch.Tensor:
        """Mean cross-entropy per real caption token, plus the attention regulariser."""
        ce, reg, count = self._objective(batch)
        return ce / max(count, 1) + reg

    @torch.no_grad()
    def evaluate(self, loader: Iterable[CaptionBatch]) -> dict[str, float]:
        """Teacher-forced ``loss`` (nats per caption token), ``perplexity``, and the greedy
        captions' ``bleu4`` (and ``bleu1``) against each image's captions in the batches."""
        from rnnlab.models.beam import greedy_decode

        total, count, hyps, refs = 0.0, 0, [], []
        for batch in loader:
            ce, _, n = self._objective(batch)
            total, count = total + float(ce), count + n
            for b, hyp in enumerate(greedy_decode(self, batch.images, None, 30, NO_UNK)):
                hyps.append(" ".join(self.vocab.decode(hyp.tokens, skip_special=True)))
                rows = (batch.image_index == b).nonzero().flatten().tolist()
                refs.append(
                    [
                        " ".join(self.vocab.decode(batch.tgt_out[r].tolist(), skip_special=True))
                        for r in rows
                    ]
                )
        if count == 0:
            raise ValueError("evaluate(): the loader yielded no caption tokens")
        bleu = caption_bleu(hyps, refs)
        return {"loss": total / count, "perplexity": math.exp(total / count),
                "bleu1": bleu["bleu1"], "bleu4": bleu["bleu4"]}  # fmt: skip

    # ---- images in, captions out -------------------------------------------------------------
    @torch.no_grad()
    def caption(self, images: torch.Tensor, beam: int = 1, max_len: int = 30,
                batch_size: int = 100, alpha: float = 0.0) -> list[Caption]:  # fmt: skip
        """Caption uint8 images (B, 3, S, S) (greedy for ``beam=1``, else beam search, the
        translator's, :mod:`rnnlab.models.beam`), in eval mode, never producing ``<unk>``.
        ``alpha``: the beam's final choice is by score / length**alpha (0: the raw
        log-probability, as Show and Tell).

        Returns:
            B captions; ``attention`` (tokens, G, G) when the model attends.
        """
        from rnnlab.models.beam import beam_search, greedy_decode

        if images.dtype != torch.uint8:
            raise InputError(f"images must be uint8 RGB, got {images.dtype}")
        was_training = self.training
        self.eval()
        out: list[Caption] = []
        try:
            device = self.out.weight.device
            for start in range(0, images.shape[0], batch_size):
                x = images[start : start + batch_size].to(device)
                if beam == 1:
                    hyps = greedy_decode(self, x, None, max_len, NO_UNK)
                else:
                    hyps = beam_search(self, x, None, beam, max_len, alpha, NO_UNK)
                for hyp in hyps:
                    words = self.vocab.decode(hyp.tokens, skip_special=True)
                    att = None
                    if hyp.attention is not None:
                        att = hyp.attention.view(-1, self.grid, self.grid).cpu()
                    out.append(Caption(" ".join(words), words, hyp.score, att, hyp.finished))
        finally:
            self.train(was_training)
        return out

    def caption_files(self, paths: Sequence[str | os.PathLike], beam: int = 1,
                      max_len: int = 30, alpha: float = 0.0) -> list[Caption]:  # fmt: skip
        """Caption image files (any size: each is resized to S x S, as in training)."""
        from rnnlab.data.captioning import load_image

        S = self.config.image_size
        images = torch.stack([load_image(p, S) for p in paths]) if paths else None
        return [] if images is None else self.caption(images, beam, max_len, alpha=alpha)

    # ---- a saved model directory (rnnlab.saved) ------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (the architecture) and the vocabulary file."""
        config = asdict(self.config)
        config["channels"] = list(config["channels"])
        return {"model": config}, {VOCAB_FILE: self.vocab}

    @classmethod
    def from_saved(cls, config: dict, files) -> Captioner:
        """The model :meth:`to_saved` describes, with fresh weights."""
        return cls(CaptionConfig(**config["model"]), files.vocab(VOCAB_FILE))
