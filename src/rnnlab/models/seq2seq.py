"""Encoder-decoder translation: a conditional language model of the target given the source.

Symbols: B batch, S source length, T target steps, E embedding size, H encoder hidden units per
direction, D directions, K = D*H encoder output size, Hd decoder state size, V target vocabulary.

    encoder:  h_1 .. h_S = BiRNN(dropout(Emb_src(x_1 .. x_S)))          (B, S, K), one fused call
    bridge:   s_0 = tanh(W_b [h->_S; h<-_1])                             (B, Hd) (LSTM: c_0 = W_c..)
    decoder:  P(y_t | y_<t, x) = softmax(W_o f_t + b_o)                   (B, V)

and the decoder step f_t depends on the attention (``Seq2SeqConfig.attention``):

    "none" (Cho et al. 2014, the plain context-vector model; c = [h->_S; h<-_1] for every t):
        s_t = RNN([e_t; c], s_{t-1});                   f_t = tanh(W_r [s_t; c; e_t])
    "bahdanau" (Bahdanau et al. 2015; attention from the previous state, additive score):
        c_t = attend(s_{t-1}, h);  s_t = RNN([e_t; c_t], s_{t-1});  f_t = tanh(W_r [s_t; c_t; e_t])
    "dot" / "general" (Luong et al. 2015; attention from the new state, multiplicative score):
        s_t = RNN(e_t, s_{t-1});  c_t = attend(s_t, h);  f_t = tanh(W_c [c_t; s_t])

with e_t = dropout(Emb_tgt(y_{t-1})), y_0 = ``<bos>``, and dropout on f_t before W_o. f_t has E
units: Bahdanau's "deep output" readout (his is a maxout layer; ours tanh) and Luong's attentional
vector h~_t, so the output layer W_o (V, E) can be the target embedding itself
(``tie_embeddings``, Press & Wolf 2017), and its GEMM, the costliest of a step, stays small.
Training minimises the cross-entropy of ``y_1 .. y_n <eos>`` over real (non-padded) target tokens.

Teacher forcing: with ratio r, each step is fed the gold previous token with probability r and
the model's own argmax otherwise (r = 1 in evaluation). Speed: at r = 1, "none", "dot" and
"general" know every decoder input in advance, so the decoder RNN runs as one fused call over all
T steps (the cell's weights in :mod:`rnnlab.nn`'s BPTT Function), attention is batched over the
steps, and the output layer is one GEMM for all of them; "bahdanau" must loop over the steps, but
still projects to the vocabulary in one GEMM after the loop. The fast path computes the same
function as the step loop (tested).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.models.attention import ATTENTIONS, make_attention
from rnnlab.nn.native_bptt import function
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import EOS, Vocab

__all__ = [
    "DEFAULT_ALPHA",
    "Memory",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Translation",
    "TranslationBatch",
    "detokenize",
]

CELLS = {"lstm": (rnn.LSTM, rnn.LSTMCell), "gru": (rnn.GRU, rnn.GRUCell)}
ATTENTION_KINDS = ("none", *ATTENTIONS)
# Length normalisation of the beam's final choice, score / length**alpha, wherever a translator
# decodes (Seq2Seq.translate, rnnlab translate and evaluate, the training run's final BLEU): 1,
# the log-probability per token, as the translation benchmark's figures are measured. 0 (the raw
# log-probability) favours short translations, which lose BLEU to the brevity penalty.
DEFAULT_ALPHA = 1.0
# the files of a saved translator beside config.json (rnnlab.saved): its two vocabularies
SRC_VOCAB, TGT_VOCAB = "src_vocab.json", "tgt_vocab.json"


@dataclass
class Seq2SeqConfig:
    """Architecture (and teacher forcing) of a :class:`Seq2Seq`."""

    src_vocab_size: int
    tgt_vocab_size: int
    cell: str = "gru"  # "lstm" | "gru", encoder and decoder
    attention: str = "bahdanau"  # "none" | "bahdanau" | "dot" | "general"
    embed_dim: int = 256
    hidden_size: int = 256  # H: encoder units per direction
    dec_hidden_size: int | None = None  # Hd; None: D*H (what "dot" needs)
    attn_size: int | None = None  # A of additive attention; None: Hd
    num_layers: int = 1  # encoder layers
    bidirectional: bool = True
    dropout: float = 0.3  # embeddings, between encoder layers, before the output layer
    teacher_forcing: float = 1.0  # probability of feeding the gold previous token in training
    tie_embeddings: bool = True  # the output layer's weight is the target embedding
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        for name in ("src_vocab_size", "tgt_vocab_size", "embed_dim", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("dec_hidden_size", "attn_size"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be a positive int or None, got {v!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
        for name in ("dropout", "teacher_forcing", "label_smoothing"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v!r}")
        if self.dropout == 1.0:
            raise ValueError("dropout must be < 1")
        if self.attention == "dot" and self.dec_size != self.key_size:
            raise ValueError(
                f"dot attention needs dec_hidden_size == encoder output size {self.key_size}, "
                f"got {self.dec_size}; use 'general' or leave dec_hidden_size unset"
            )

    @property
    def key_size(self) -> int:
        """K = D*H, the size of an encoder output."""
        return self.hidden_size * (2 if self.bidirectional else 1)

    @property
    def dec_size(self) -> int:
        """Hd, the decoder state size."""
        return self.dec_hidden_size or self.key_size


class TranslationBatch(NamedTuple):
    """A padded batch of sentence pairs (LongTensors, right-padded with ``<pad>`` = 0).

    ``src`` (B, S) source ids and ``src_lengths`` (B,); ``tgt_in`` (B, T) = ``<bos> y_1 .. y_n``
    and ``tgt_out`` (B, T) = ``y_1 .. y_n <eos>`` (T = the longest n + 1).
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor


class Memory(NamedTuple):
    """What the decoder reads of the source: encoder outputs (B, S, K), mask (B, S) True at real
    tokens, attention keys (B, S, A) or None, the summary [h->_S; h<-_1] (B, K), and an LSTM's
    final cell states [c->_S; c<-_1] (B, K) (None for a GRU)."""

    out: torch.Tensor
    mask: torch.Tensor
    keys: torch.Tensor | None
    summary: torch.Tensor
    cell_summary: torch.Tensor | None = None

    def select(self, index: torch.Tensor) -> Memory:
        """The rows ``index`` (N,) of every field (beam search repeats and reorders rows)."""
        return Memory(*(None if f is None else f.index_select(0, index) for f in self))


@dataclass
class Translation:
    """One decoded sentence: its text, target tokens (without ``<eos>``), model score
    (sum of log-probabilities, ``<eos>`` included), attention (one row over the source tokens
    per output token, ``<eos>`` last when the sentence ended; None without attention), and
    whether it ended with ``<eos>`` (False: cut at the length limit)."""

    text: str
    tokens: list[str]
    src_tokens: list[str]
    score: float
    attention: torch.Tensor | None  # (len(output_tokens), len(src_tokens))
    finished: bool = True

    @property
    def output_tokens(self) -> list[str]:
        """The tokens the attention rows belong to: ``tokens``, then ``<eos>`` if it ended."""
        return [*self.tokens, EOS] if self.finished else list(self.tokens)


_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}]|'s|'re|'ve|'ll|'d|'m|n't)(?= |$)")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenize(tokens: Sequence[str]) -> str:
    """Join word tokens into text: no space before closing punctuation and clitics, none after
    opening brackets (``["a", "dog", "'s", "toy", "."]`` -> ``"a dog's toy."``)."""
    text = " ".join(tokens)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text)


class Seq2Seq(nn.Module):
    """Encoder-decoder with attention (see the module docstring for the equations).

    Args:
        config: the architecture; vocabulary sizes equal ``len(src_vocab)``, ``len(tgt_vocab)``.
        src_vocab, tgt_vocab: token <-> id maps (``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2,
            ``<eos>`` 3).
        languages: (source, target) language codes, for the record (``("de", "en")``).

    Example::

        mt = rnnlab.load("runs/mt")
        [t] = mt.translate(["Ein Hund rennt durch das Gras."], beam=5)
        t.text, t.attention.shape   # 'a dog runs through the grass.', (7, 8)
    """

    task = "translate"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(
        self,
        config: Seq2SeqConfig,
        src_vocab: Vocab,
        tgt_vocab: Vocab,
        languages: tuple[str, str] = ("src", "tgt"),
    ) -> None:
        if (len(src_vocab), len(tgt_vocab)) != (config.src_vocab_size, config.tgt_vocab_size):
            raise ValueError(
                f"vocabularies of {len(src_vocab)} and {len(tgt_vocab)} for src_vocab_size="
                f"{config.src_vocab_size}, tgt_vocab_size={config.tgt_vocab_size}"
            )
        super().__init__()
        self.config, self.src_vocab, self.tgt_vocab = config, src_vocab, tgt_vocab
        self.languages = (str(languages[0]), str(languages[1]))
        c = config
        E, H, K, Hd = c.embed_dim, c.hidden_size, c.key_size, c.dec_size
        layer, cell = CELLS[c.cell]
        self.src_embedding = nn.Embedding(c.src_vocab_size, E, padding_idx=0)
        self.tgt_embedding = nn.Embedding(c.tgt_vocab_size, E, padding_idx=0)
        self.drop = nn.Dropout(c.dropout)
        self.encoder = layer(
            E, H, num_layers=c.num_layers, bidirectional=c.bidirectional, batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
        )  # fmt: skip
        self.bridge = nn.Linear(K, Hd)  # s_0 = tanh(W_b [h->_S; h<-_1])
        self.bridge_c = nn.Linear(K, Hd) if c.cell == "lstm" else None  # c_0 = W_c [c->; c<-]
        luong = c.attention in ("dot", "general")
        self.decoder = cell(E if luong else E + K, Hd)
        self.attention = None
        if c.attention != "none":
            self.attention = make_attention(c.attention, Hd, K, c.attn_size or Hd)
        # f_t = tanh(W_c [c_t; s_t]) (Luong) or tanh(W_r [s_t; c_t; e_t]) (readout)
        self.readout = nn.Linear(K + Hd if luong else Hd + K + E, E)
        self.out = nn.Linear(E, c.tgt_vocab_size)
        if c.tie_embeddings:
            # one matrix is the output layer too: N(0, 1/E) (fairseq's scale for a shared matrix)
            # and a zero bias; PyTorch's N(0, 1) would start the softmax far too peaked
            nn.init.normal_(self.tgt_embedding.weight, 0.0, E**-0.5)
            with torch.no_grad():
                self.tgt_embedding.weight[0].zero_()  # <pad>
            nn.init.zeros_(self.out.bias)
            self.out.weight = self.tgt_embedding.weight  # (V, E)

    # ---- encoder -------------------------------------------------------------------------
    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> Memory:
        """Read a right-padded source batch ``src`` (B, S) with lengths (B,)."""
        if src.dim() != 2:
            raise ValueError(f"src must be (B, S), got shape {tuple(src.shape)}")
        emb = self.drop(self.src_embedding(src))  # (B, S, E)
        out, state = self.encoder(emb, lengths=src_lengths)  # (B, S, K), zeros at padding
        h_n = state[0] if isinstance(state, tuple) else state  # (L*D, B, H)
        D = 2 if self.config.bidirectional else 1
        summary = torch.cat(list(h_n[-D:]), dim=-1)  # (B, K): last layer, [h->_S; h<-_1]
        mask = torch.arange(src.shape[1], device=src.device) < src_lengths.unsqueeze(1)  # (B, S)
        keys = None if self.attention is None else self.attention.keys(out)
        cell_summary = None
        if isinstance(state, tuple):  # LSTM: the cell states feed c_0
            cell_summary = torch.cat(list(state[1][-D:]), dim=-1)  # (B, K)
        return Memory(out, mask, keys, summary, cell_summary)

    def init_state(self, memory: Memory):
        """s_0 = tanh(W_b summary) (B, Hd); an LSTM's (s_0, c_0) with c_0 = W_c [c->; c<-]."""
        s0 = torch.tanh(self.bridge(memory.summary))  # (B, Hd)
        if self.bridge_c is None:
            return s0
        return s0, self.bridge_c(memory.cell_summary)

    # ---- decoder -------------------------------------------------------------------------
    def _features(self, s, e, context):
        """f_t (..., E) from the new state s (..., Hd), embedding e (..., E), context (..., K)."""
        if self.config.attention in ("dot", "general"):
            # f_t = tanh(W_c [c_t; s_t])
            return torch.tanh(self.readout(torch.cat([context, s], dim=-1)))
        # f_t = tanh(W_r [s_t; c_t; e_t])
        return torch.tanh(self.readout(torch.cat([s, context, e], dim=-1)))

    def _step(self, y_prev: torch.Tensor, state, memory: Memory):
        """One decoder step: (features f_t (N, E), new state, attention weights (N, S) or None)."""
        e = self.drop(self.tgt_embedding(y_prev))  # (N, E)
        h_prev = state[0] if isinstance(state, tuple) else state  # (N, Hd)
        weights = None
        kind = self.config.attention
        if kind == "none":
            context = memory.summary  # (N, K)
            state = self.decoder(torch.cat([e, context], dim=-1), state)
        elif kind == "bahdanau":
            # c_t = attend(s_{t-1}, h) ; s_t = RNN([e_t; c_t], s_{t-1})
            context, weights = self.attention(h_prev, memory.out, memory.mask, memory.keys)
            state = self.decoder(torch.cat([e, context], dim=-1), state)
        else:
            # s_t = RNN(e_t, s_{t-1}) ; c_t = attend(s_t, h)
            state = self.decoder(e, state)
            s = state[0] if isinstance(state, tuple) else state
            context, weights = self.attention(s, memory.out, memory.mask, memory.keys)
        s = state[0] if isinstance(state, tuple) else state  # (N, Hd)
        return self._features(s, e, context), state, weights

    def step(self, y_prev: torch.Tensor, state, memory: Memory):
        """One decoding step for ``N`` rows: previous tokens (N,) -> next-token logits (N, V),
        the new state, and the attention weights (N, S) (None without attention)."""
        f, state, weights = self._step(y_prev, state, memory)
        return self.out(self.drop(f)), state, weights

    def _fused_states(self, x: torch.Tensor, state) -> torch.Tensor:
        """The decoder cell run over all steps in one BPTT Function call: x (B, T, I) -> s (B, T,
        Hd); the same function as T calls of the cell."""
        cell = self.decoder
        w = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        xt = x.transpose(0, 1)  # (T, B, I), time-major
        fn = function(self.config.cell, cell.engine, cell.weight_hh)  # the cell's engine
        if self.config.cell == "gru":
            out, _ = fn.apply(xt, state, *w, True, None, False, None)
        else:
            out, _, _ = fn.apply(xt, state[0], state[1], *w, None, False, None)
        return out.transpose(0, 1)  # (B, T, Hd)

    def forward(self, batch: TranslationBatch, teacher_forcing: float = 1.0) -> torch.Tensor:
        """Next-token logits (B, T, V) for every target position, feeding the gold previous
        token with probability ``teacher_forcing`` (else the model's argmax)."""
        memory = self.encode(batch.src, batch.src_lengths)
        state = self.init_state(memory)
        tgt_in = batch.tgt_in  # (B, T)
        B, T = tgt_in.shape
        kind = self.config.attention
        if teacher_forcing >= 1.0 and kind != "bahdanau":
            e = self.drop(self.tgt_embedding(tgt_in))  # (B, T, E)
            if kind == "none":
                c = memory.summary.unsqueeze(1).expand(B, T, -1)  # (B, T, K)
                s = self._fused_states(torch.cat([e, c], dim=-1), state)  # (B, T, Hd)
            else:
                s = self._fused_states(e, state)  # (B, T, Hd)
                c, _ = self.attention(s, memory.out, memory.mask, memory.keys)  # (B, T, K)
            return self.out(self.drop(self._features(s, e, c)))  # one GEMM: (B, T, V)
        feats, logits = [], []
        y = tgt_in[:, 0]  # <bos>
        for t in range(T):
            f, state, _ = self._step(y, state, memory)  # (B, E)
            if teacher_forcing >= 1.0:
                feats.append(f)
                if t + 1 < T:
                    y = tgt_in[:, t + 1]
                continue
            z = self.out(self.drop(f))  # (B, V): the next input may need the prediction
            logits.append(z)
            if t + 1 < T:
                gold = torch.rand(B, device=z.device) < teacher_forcing  # (B,)
                y = torch.where(gold, tgt_in[:, t + 1], z.detach().argmax(-1))
        if feats:
            return self.out(self.drop(torch.stack(feats, dim=1)))  # one GEMM: (B, T, V)
        return torch.stack(logits, dim=1)  # (B, T, V)

    # ---- training (rnnlab.train.Trainer) --------------------------------------------------
    def loss(self, batch: TranslationBatch) -> torch.Tensor:
        """Mean cross-entropy per real target token, teacher forcing at the configured ratio."""
        logits = self(batch, self.config.teacher_forcing)  # (B, T, V)
        return F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=0,
                               label_smoothing=self.config.label_smoothing)  # fmt: skip

    @torch.no_grad()
    def evaluate(self, loader: Iterable[TranslationBatch]) -> dict[str, float]:
        """Teacher-forced ``loss`` (nats per target token, no label smoothing) and
        ``perplexity`` over a loader."""
        total, count = 0.0, 0
        for batch in loader:
            logits = self(batch, 1.0)
            total += float(F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(),
                                           ignore_index=0, reduction="sum"))  # fmt: skip
            count += int((batch.tgt_out != 0).sum())
        if count == 0:
            raise ValueError("evaluate(): the loader yielded no target tokens")
        return {"loss": total / count, "perplexity": math.exp(total / count)}

    # ---- text in, text out ------------------------------------------------------------------
    def src_tokens(self, text: str) -> list[str]:
        """The source tokens of ``text`` (:func:`rnnlab.text.tokenize`: lower-cased words)."""
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}")
        if not text.strip():
            raise InputError("cannot translate an empty text")
        return tokenize(text)

    @torch.no_grad()
    def translate(
        self,
        texts: Sequence[str],
        beam: int = 1,
        max_len: int | None = None,
        alpha: float = DEFAULT_ALPHA,
        batch_size: int = 64,
    ) -> list[Translation]:
        """Translate ``texts`` (greedy for ``beam=1``, else beam search), in eval mode.

        Args:
            texts: source sentences.
            beam: beam size K (1: greedy).
            max_len: most target tokens per sentence; None: 2 * source length + 10.
            alpha: length normalisation of the beam's final choice, score / length**alpha
                (:data:`DEFAULT_ALPHA`: per token).
            batch_size: sentences decoded at once (sorted by length).
        """
        from rnnlab.models.beam import beam_search, greedy_decode

        if isinstance(texts, str):
            raise TypeError("translate takes a list of texts, not a single string")
        toks = [self.src_tokens(t) for t in texts]
        order = sorted(range(len(toks)), key=lambda i: len(toks[i]))
        out: list[Translation | None] = [None] * len(toks)
        was_training = self.training
        self.eval()
        try:
            device = self.out.weight.device
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                ids = [self.src_vocab.encode(toks[i]) for i in idx]
                S = max(len(s) for s in ids)
                src = torch.zeros(len(ids), S, dtype=torch.long)  # (B, S)
                for b, s in enumerate(ids):
                    src[b, : len(s)] = torch.tensor(s)
                lengths = torch.tensor([len(s) for s in ids])  # (B,)
                limit = max_len if max_len is not None else 2 * S + 10
                src, lengths = src.to(device), lengths.to(device)
                if beam == 1:
                    hyps = greedy_decode(self, src, lengths, limit)
                else:
                    hyps = beam_search(self, src, lengths, beam, limit, alpha)
                for i, hyp in zip(idx, hyps, strict=True):
                    words = self.tgt_vocab.decode(hyp.tokens, skip_special=True)
                    att = None if hyp.attention is None else hyp.attention[:, : len(toks[i])]
                    out[i] = Translation(
                        detokenize(words), words, toks[i], hyp.score, att, hyp.finished
                    )
        finally:
            self.train(was_training)
        return out  # type: ignore[return-value]

    # ---- a saved model directory (rnnlab.saved) ------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (architecture, languages) and the other files: the two
        vocabularies."""
        config = {"model": asdict(self.config), "languages": list(self.languages)}
        return config, {SRC_VOCAB: self.src_vocab, TGT_VOCAB: self.tgt_vocab}

    @classmethod
    def from_saved(cls, config: dict, files) -> Seq2Seq:
        """The model :meth:`to_saved` describes, with fresh weights (``files.vocab(name)`` reads
        a vocabulary of the directory)."""
        c, languages = Seq2SeqConfig(**config["model"]), tuple(config["languages"])
        return cls(c, files.vocab(SRC_VOCAB), files.vocab(TGT_VOCAB), languages)
