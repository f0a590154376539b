"""The recurrent language-model network: token ids in, next-token scores out.

Symbols: B batch, T time, E embedding size, H hidden units, L layers, V vocabulary.

    e_t = dropout(Embedding(y_{t-1}))             (B, T, E); dropout standard or variational
    h_t = RNN/LSTM/GRU(e_1 .. e_t; state)         (B, T, H): L stacked layers, dropout between
    z_t = W_out dropout(h_t) + b_out              (B, T, V); W_out is the embedding when tied
    P(y_t | y_<t) = softmax(z_t)

or, with an adaptive softmax (Grave et al. 2017; ``adaptive_cutoffs``), the frequency-sorted
vocabulary split into a head of frequent words and tail clusters c_1 .. c_K:

    P(y | h) = softmax(W_head h)[y]                                 y in the head
    P(y | h) = softmax(W_head h)[c_k] * softmax(W_k P_k h)[y]      y in cluster c_k

where a tail cluster's words get a smaller projection P_k (H -> H / 4^k). Most tokens are head
words, so a training step computes a small softmax for most of them (PyTorch's
``AdaptiveLogSoftmaxWithLoss``); the model's "logits" are then the exact log-probabilities.
With a full softmax the training loss goes through :func:`rnnlab.nn.linear_cross_entropy`,
which never holds the (N, V) logits.

The network knows ids only; :class:`rnnlab.models.language_model.LanguageModel` adds the
vocabulary and what a text is (tokenizer, framing), and scores and samples texts. Contiguous-stream
training with truncated BPTT goes through :class:`rnnlab.models.truncated_bptt.StreamLM`, which
carries the state from chunk to chunk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.text.sentences import SentenceBatch
from rnnlab.text.stream import StreamBatch

__all__ = ["CELLS", "LMConfig", "LMNetwork"]

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}


@dataclass
class LMConfig:
    """Architecture of an :class:`LMNetwork` (and so of a ``LanguageModel``)."""

    vocab_size: int
    cell: str = "lstm"  # "rnn" | "lstm" | "gru"
    embed_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.0  # on the embeddings, between layers and before the output layer
    tie_weights: bool = False  # the output layer reuses the embedding (embed_dim == hidden_size)
    # one dropout mask per sequence at every dropout site (Gal & Ghahramani 2016), not per step
    variational_dropout: bool = False
    # adaptive softmax: ids where the head and each tail cluster end, e.g. (2000, 6000); None:
    # one full softmax. Ids are frequency-sorted (Vocab.build), so the head holds frequent words.
    adaptive_cutoffs: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_dim", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        if isinstance(self.dropout, bool) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.adaptive_cutoffs is not None:
            cuts = tuple(self.adaptive_cutoffs)  # JSON gives a list
            if (not cuts or any(isinstance(c, bool) or not isinstance(c, int) for c in cuts)
                    or list(cuts) != sorted(set(cuts)) or cuts[0] < 1):  # fmt: skip
                raise ValueError(
                    "adaptive_cutoffs must be increasing positive ids, got "
                    f"{self.adaptive_cutoffs!r}"
                )
            if self.hidden_size < 4 ** len(cuts):
                raise ValueError(
                    f"{len(cuts)} tail clusters project to hidden_size / 4^k units: hidden_size "
                    f"must be at least {4 ** len(cuts)}, got {self.hidden_size}"
                )
            if self.tie_weights:
                raise ValueError("tie_weights and adaptive_cutoffs cannot be combined")
            self.adaptive_cutoffs = cuts
        if self.tie_weights and self.embed_dim != self.hidden_size:
            raise ValueError(
                f"tie_weights needs embed_dim == hidden_size, got {self.embed_dim} and "
                f"{self.hidden_size}"
            )


class LMNetwork(nn.Module):
    """Embedding -> stacked RNN/LSTM/GRU (:mod:`rnnlab.nn`) -> linear (or adaptive softmax) to
    the vocabulary, on ids (the module docstring has the equations).

    A :class:`rnnlab.train.Trainer` trains it through :meth:`loss` (sentence batches) and
    :meth:`evaluate` (sentence or stream batches).
    """

    def __init__(self, config: LMConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim)
        self.rnn = CELLS[c.cell](
            c.embed_dim, c.hidden_size, num_layers=c.num_layers, batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
            variational_dropout=c.variational_dropout,
        )  # fmt: skip
        if c.adaptive_cutoffs:
            if c.adaptive_cutoffs[-1] >= c.vocab_size - 1:
                raise InputError(
                    f"adaptive softmax cutoffs {list(c.adaptive_cutoffs)} leave no words for the "
                    f"last cluster of a vocabulary of {c.vocab_size}: every cutoff must be below "
                    f"{c.vocab_size - 1}"
                )
            self.out = nn.AdaptiveLogSoftmaxWithLoss(
                c.hidden_size, c.vocab_size, list(c.adaptive_cutoffs), div_value=4.0
            )
        else:
            self.out = nn.Linear(c.hidden_size, c.vocab_size)
        # Untied: PyTorch's initialisation (embedding ~ N(0, 1), so that the gates respond to
        # the input from the first step; Zaremba's U(-0.1, 0.1) learns several times slower
        # with Adam on tiny-shakespeare). Tied: the one matrix is the output layer too, so
        # U(-0.1, 0.1) and a zero bias, as in Press & Wolf (2017) and PyTorch's
        # word_language_model. The cells keep PyTorch's U(-1/sqrt(H), 1/sqrt(H)).
        if c.tie_weights:
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
            nn.init.zeros_(self.out.bias)
            self.out.weight = self.embedding.weight  # (V, H) == (V, E)

    # ---- ids -> logits -----------------------------------------------------------------------
    def forward(self, ids: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """Next-token logits for every position.

        Args:
            ids: (B, T) token ids.
            state: the recurrent state to start from, as the cell returns it ((L, B, H), or a
                pair for the LSTM); zeros when None.
            lengths: (B,) real lengths of a right-padded batch; the returned state is then each
                sequence's state after its last real token.

        Returns:
            logits (B, T, V) (with an adaptive softmax: the log-probabilities) and the state
            after the last step.
        """
        h, state = self.features(ids, state, lengths)  # (B, T, H)
        return self.logits(h), state  # (B, T, V)

    def features(self, ids: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """The top layer's states after dropout, (B, T, H), and the state after the last step:
        what the output layer reads (arguments as :meth:`forward`)."""
        if ids.dim() != 2:
            raise ValueError(f"ids must be (B, T), got shape {tuple(ids.shape)}")
        emb = self._drop(self.embedding(ids))  # (B, T, E)
        h, state = self.rnn(emb, state, lengths=lengths)  # (B, T, H)
        return self._drop(h), state

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Output scores (B, T, V) of features (B, T, H): z_t = W_out h_t + b_out, or the
        adaptive softmax's log P(y | h_t) (already normalised)."""
        if isinstance(self.out, nn.AdaptiveLogSoftmaxWithLoss):
            B, T, H = h.shape
            with torch.autocast(h.device.type, enabled=False):  # as in nll
                h2 = h.reshape(B * T, H).to(self.out.head.weight.dtype)
                return self.out.log_prob(h2).view(B, T, -1)  # (B, T, V)
        return self.out(h)  # (B, T, V)

    def nll(self, h: torch.Tensor, targets: torch.Tensor, ignore_pad: bool = False):
        """Mean -log P(y_t | y_<t) over targets (B, T) given features h (B, T, H); targets equal
        to ``<pad>`` (0) are skipped when ``ignore_pad``. With an adaptive softmax only each
        target's head and cluster are computed, not the whole vocabulary."""
        h2, y = h.reshape(-1, h.shape[-1]), targets.reshape(-1)  # (B*T, H), (B*T,)
        if ignore_pad:
            real = y != 0
            h2, y = h2[real], y[real]  # (N, H), (N,)
        if isinstance(self.out, nn.AdaptiveLogSoftmaxWithLoss):
            # PyTorch's adaptive softmax mixes dtypes under autocast (index_copy_ of bfloat16
            # into float32), so it runs in the parameters' precision
            with torch.autocast(h2.device.type, enabled=False):
                return self.out(h2.to(self.out.head.weight.dtype), y).loss
        # = F.cross_entropy(self.out(h2), y), without storing the (N, V) logits
        return rnn.linear_cross_entropy(h2, self.out.weight, self.out.bias, y)

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        """Dropout on (B, T, F): a fresh mask per step, or one per sequence (variational)."""
        p = self.config.dropout
        if self.config.variational_dropout:
            return rnn.locked_dropout(x, p, self.training, time_dim=1)
        return F.dropout(x, p, self.training)

    # ---- training (rnnlab.train.Trainer) ----------------------------------------------------
    def loss(self, batch: SentenceBatch) -> torch.Tensor:
        """Mean cross-entropy (nats per token) over the real targets of a sentence batch.

        Stream batches need the state carried between them: train a
        :class:`~rnnlab.models.truncated_bptt.StreamLM`.
        """
        if not isinstance(batch, SentenceBatch):
            raise TypeError(
                f"{type(self).__name__}.loss takes a SentenceBatch, got {type(batch).__name__}; "
                "contiguous-stream batches are trained through StreamLM(model, batch_size)"
            )
        h, _ = self.features(batch.inputs, lengths=batch.lengths)  # (B, T, H)
        return self.nll(h, batch.targets, ignore_pad=True)  # padded targets are <pad> = 0

    @torch.no_grad()
    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """Per-token metrics over a loader of sentence or stream batches.

        Stream batches carry the state from chunk to chunk (reset where ``first``), so every
        target is predicted from all the text before it in its row.

        Returns:
            ``loss`` (nats per token), ``perplexity`` = exp(loss), ``bits`` per token.
        """
        total, count, state = 0.0, 0, None
        for batch in loader:
            if isinstance(batch, StreamBatch):
                logits, state = self(batch.inputs, None if batch.first else state)
                targets = batch.targets  # (B, T)
            else:
                logits, _ = self(batch.inputs, lengths=batch.lengths)
                targets = batch.targets
            total += float(
                F.cross_entropy(
                    logits.flatten(0, 1), targets.flatten(), ignore_index=0, reduction="sum"
                )
            )
            count += int((targets != 0).sum())
        if count == 0:
            raise ValueError("evaluate(): the loader yielded no tokens")
        # perplexity = exp(-1/N sum_t log P(y_t | y_<t))
        loss = total / count
        return {"loss": loss, "perplexity": math.exp(loss), "bits": loss / math.log(2)}
