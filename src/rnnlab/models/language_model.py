"""Recurrent language models: the probability of a text, one token at a time.

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

By the chain rule a text's probability is the product of its tokens' conditionals,

    P(y_1, y_2, y_3) = P(y_1) P(y_2 | y_1) P(y_3 | y_1, y_2),

and a model is judged by its perplexity on held-out text, exp(-1/N sum_t log P(y_t | y_<t)).

A text is framed by a start token (the context of its first token) and an end token (scored
last, so the model also says where a text ends); see :class:`TextFormat`. Sentence-wise training
uses ``<bos>`` ... ``<eos>``; a word stream (PTB) ``<eos>`` ... ``<eos>``; a character stream
the newline, ``"\\n"`` ... ``"\\n"``. Character and word level share all the code: only the
tokenizer differs.

Contiguous-stream training with truncated BPTT goes through
:class:`rnnlab.models.truncated_bptt.StreamLM`, which carries the state from chunk to chunk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.models.sampling import next_token
from rnnlab.text.sentences import SentenceBatch
from rnnlab.text.stream import StreamBatch
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import BOS, EOS, Vocab

__all__ = ["LMConfig", "LanguageModel", "Score", "TextFormat"]

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}
TOKENIZERS = ("word", "whitespace", "char")
LOGITS_BUDGET = 1 << 24  # floats of logits held at once while scoring or evaluating (64 MiB)


@dataclass
class LMConfig:
    """Architecture of a :class:`LanguageModel`."""

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


@dataclass(frozen=True)
class TextFormat:
    """How a text becomes the model's tokens: the tokenizer, and the tokens that frame it.

    A text ``y_1 .. y_n`` is scored as ``start y_1 .. y_n end``: ``start`` is only context (the
    state that a text begins from), ``end`` is predicted like any token. ``None``: no such token
    (without a start token the first token of a text is context, not scored).
    """

    tokenizer: str = "word"  # "word" (rnnlab.text.tokenize), "whitespace" (pre-tokenised), "char"
    start: str | None = BOS
    end: str | None = EOS

    def __post_init__(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {self.tokenizer!r}")
        for name in ("start", "end"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise ValueError(f"{name} must be a token (a non-empty string) or None, got {v!r}")

    @property
    def level(self) -> str:
        """``"char"`` or ``"word"``."""
        return "char" if self.tokenizer == "char" else "word"


@dataclass
class Score:
    """A text's probability under the model.

    ``tokens`` is how many tokens were scored (the end token included); ``perplexity`` is
    ``exp(-log_prob / tokens)``.
    """

    text: str
    tokens: int
    log_prob: float  # natural log
    prob: float
    perplexity: float


class LanguageModel(nn.Module):
    """Embedding -> stacked RNN/LSTM/GRU (:mod:`rnnlab.nn`) -> linear to the vocabulary.

    Args:
        config: the architecture; ``config.vocab_size == len(vocab)``.
        vocab: the token <-> id map (``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3).
        text_format: tokenizer and framing of texts; its start and end tokens must be in
            ``vocab``.

    Example::

        lm = rnnlab.load("runs/shake")
        lm.sample("ROMEO:", max_tokens=200, temperature=0.8, seed=1)
        lm.log_prob("Todd met Pete") > lm.log_prob("Toad met Pit")
    """

    def __init__(self, config: LMConfig, vocab: Vocab, text_format: TextFormat | None = None):
        text_format = text_format or TextFormat()
        if len(vocab) != config.vocab_size:
            raise ValueError(f"vocabulary of {len(vocab)} for vocab_size={config.vocab_size}")
        for name in ("start", "end"):
            token = getattr(text_format, name)
            if token is not None and token not in vocab:
                raise ValueError(f"the {name} token {token!r} is not in the vocabulary")
        super().__init__()
        self.config, self.vocab, self.text_format = config, vocab, text_format
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim)
        self.rnn = CELLS[c.cell](
            c.embed_dim, c.hidden_size, num_layers=c.num_layers, batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
            variational_dropout=c.variational_dropout,
        )  # fmt: skip
        if c.adaptive_cutoffs:
            if c.adaptive_cutoffs[-1] >= c.vocab_size - 1:
                raise ValueError(
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

    @property
    def level(self) -> str:
        """``"char"`` or ``"word"``."""
        return self.text_format.level

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
                f"LanguageModel.loss takes a SentenceBatch, got {type(batch).__name__}; "
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

    # ---- text <-> ids ------------------------------------------------------------------------
    def tokens(self, text: str) -> list[str]:
        """Split ``text`` into the model's tokens (its :attr:`TextFormat.tokenizer`)."""
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}")
        if self.text_format.tokenizer == "char":
            return list(text)
        if self.text_format.tokenizer == "whitespace":
            return text.split()
        return tokenize(text) if text.strip() else []

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (no framing). Words outside the vocabulary become ``<unk>``.

        Raises:
            ValueError: at character level, characters the model has never seen (listed).
        """
        tokens = self.tokens(text)
        if self.level == "char":
            unknown = sorted({c for c in tokens if c not in self.vocab})
            if unknown:
                raise ValueError(
                    f"{len(unknown)} character(s) outside the model's vocabulary of "
                    f"{len(self.vocab) - 4}: {''.join(unknown)!r}"
                )
        return self.vocab.encode(tokens)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``: characters joined as they are (``<unk>`` as U+FFFD), words with
        spaces; ``<pad>``, ``<bos>`` and ``<eos>`` left out."""
        tokens = self.vocab.decode(ids, skip_special=True)
        if self.level == "char":
            return "".join(
                "\ufffd" if t == self.vocab.itos[self.vocab.unk_id] else t for t in tokens
            )
        return " ".join(tokens)

    def _framed(self, text: str) -> list[int]:
        """``start + ids(text) + end`` (each frame token when the format has it)."""
        fmt, ids = self.text_format, self.encode(text)
        if not ids:
            raise ValueError("cannot score an empty text")
        head = [self.vocab[fmt.start]] if fmt.start is not None else []
        tail = [self.vocab[fmt.end]] if fmt.end is not None else []
        framed = head + ids + tail
        if len(framed) < 2:
            raise ValueError(
                f"{text!r} is a single token and the model has no start or end token: "
                "nothing to predict"
            )
        return framed

    # ---- probabilities -----------------------------------------------------------------------
    @torch.no_grad()
    def token_log_probs(self, texts: Sequence[str], batch_size: int = 64) -> list[torch.Tensor]:
        """log P(y_t | y_<t) of every scored token of every text (in eval mode).

        Returns:
            One 1-D tensor per text: its tokens, then the end token (without a start token, the
            first token is context and has no entry).
        """
        if isinstance(texts, str):
            raise TypeError("token_log_probs takes a list of texts, not a single string")
        seqs = []
        for i, text in enumerate(texts):
            try:
                seqs.append(self._framed(text))
            except ValueError as e:
                raise ValueError(f"text {i}: {e}") from e
        out: list[torch.Tensor | None] = [None] * len(seqs)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        with _eval_mode(self):
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                for i, lp in zip(idx, self._log_probs([seqs[i] for i in idx]), strict=True):
                    out[i] = lp
        return out  # type: ignore[return-value]

    def _log_probs(self, seqs: list[list[int]]) -> list[torch.Tensor]:
        """Per-target log-probs of framed id sequences, read in time chunks with the state
        carried (the same numbers as one long forward, with bounded memory)."""
        device = self.embedding.weight.device
        B, T = len(seqs), max(len(s) for s in seqs) - 1
        inputs = torch.zeros(B, T, dtype=torch.long)  # (B, T), right-padded
        targets = torch.zeros(B, T, dtype=torch.long)  # (B, T)
        for b, s in enumerate(seqs):
            inputs[b, : len(s) - 1] = torch.tensor(s[:-1])
            targets[b, : len(s) - 1] = torch.tensor(s[1:])
        lengths = torch.tensor([len(s) - 1 for s in seqs])  # (B,)
        inputs, targets, lengths = inputs.to(device), targets.to(device), lengths.to(device)
        step = max(1, LOGITS_BUDGET // (B * self.config.vocab_size))
        state, chunks = None, []
        for t0 in range(0, T, step):
            x = inputs[:, t0 : t0 + step]  # (B, Tc)
            # rows already finished run on a dummy step; their outputs are never read
            chunk_lengths = (lengths - t0).clamp(1, x.shape[1])  # (B,)
            logits, state = self(x, state, lengths=chunk_lengths)  # (B, Tc, V)
            logp = logits.log_softmax(-1)  # (B, Tc, V)
            y = targets[:, t0 : t0 + step]  # (B, Tc)
            chunks.append(logp.gather(-1, y.unsqueeze(-1)).squeeze(-1).cpu())  # (B, Tc)
        lp = torch.cat(chunks, dim=1)  # (B, T)
        return [lp[b, : len(s) - 1] for b, s in enumerate(seqs)]

    def log_prob(self, text: str) -> float:
        """Natural log of the text's probability, end token included: the chain rule,
        log P(y_1 .. y_n) = sum_t log P(y_t | y_<t)."""
        # P(y1, y2, y3) = P(y1) P(y2 | y1) P(y3 | y1, y2): a sum of the tokens' log-probs
        return float(self.token_log_probs([text])[0].sum())

    def prob(self, text: str) -> float:
        """The text's probability, exp(:meth:`log_prob`) (underflows to 0 for long texts)."""
        return math.exp(self.log_prob(text))

    def score(self, texts: Sequence[str]) -> list[Score]:
        """Log-probability, probability and per-token perplexity of each text."""
        scores = []
        for text, lp in zip(texts, self.token_log_probs(texts), strict=True):
            total, n = float(lp.sum()), len(lp)
            scores.append(Score(text, n, total, math.exp(total), math.exp(-total / n)))
        return scores

    def perplexity(self, texts: str | Sequence[str]) -> float:
        """Per-token perplexity of a corpus of texts, each framed on its own:

        perplexity = exp(-1/N sum log p) over all N scored tokens (end tokens included).
        """
        lps = self.token_log_probs([texts] if isinstance(texts, str) else texts)
        if not lps:
            raise ValueError("perplexity of an empty corpus")
        total, n = sum(float(lp.sum()) for lp in lps), sum(len(lp) for lp in lps)
        return math.exp(-total / n)

    # ---- sampling ------------------------------------------------------------------------
    @torch.no_grad()
    def sample(
        self,
        prompt: str = "",
        max_tokens: int | None = None,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ) -> str:
        """Continue ``prompt``: draw the next token from P(y | previous tokens), feed it back,
        until ``<eos>`` or ``max_tokens``.

        Args:
            prompt: the text to continue, after the start token; ``""``: start from the start
                token alone.
            max_tokens: the most tokens to draw; default 20 (word level) or 200 (characters).
            temperature: divides the logits; 0 is greedy (the most probable token each time).
                ``<pad>`` and ``<bos>`` are never drawn, nor ``<unk>`` at character level.
            top_k: draw only among the ``k`` most probable tokens; None: among all.
            seed: seeds a private generator (the same seed, the same text); None: fresh.

        Returns:
            The continuation only (words joined by spaces), without ``<eos>``.

        Raises:
            ValueError: an empty prompt for a model without a start token, or characters the
                model does not know.
        """
        if max_tokens is None:
            max_tokens = 200 if self.level == "char" else 20
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
            raise ValueError(f"max_tokens must be an int >= 0, got {max_tokens!r}")
        context = self.encode(prompt) if prompt else []
        if self.text_format.start is not None:
            context.insert(0, self.vocab[self.text_format.start])
        if not context:
            raise ValueError(
                "empty prompt: this model has no start token (<bos>) to begin from, "
                "so give it a prompt"
            )
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        banned = [self.vocab.pad_id, self.vocab.bos_id]  # never a next token
        if self.level == "char":
            banned.append(self.vocab.unk_id)  # a character model has no unknown characters
        out: list[int] = []
        with _eval_mode(self):
            device = self.embedding.weight.device
            logits, state = self(torch.tensor([context], device=device))  # (1, T, V)
            for _ in range(max_tokens):
                z = logits[0, -1].float().cpu()  # (V,)
                z[banned] = float("-inf")
                y = next_token(z, temperature, top_k, generator)
                if y == self.vocab.eos_id:
                    break
                out.append(y)
                logits, state = self(torch.tensor([[y]], device=device), state)
        return self.decode(out)

    def config_dict(self) -> dict:
        """Architecture and text format as plain JSON-able data."""
        return {"model": asdict(self.config), "text_format": asdict(self.text_format)}


class _eval_mode:
    """Context manager: the module in eval mode inside, its previous mode restored after."""

    def __init__(self, module: nn.Module) -> None:
        self.module, self.was_training = module, module.training

    def __enter__(self) -> nn.Module:
        self.module.eval()
        return self.module

    def __exit__(self, *exc) -> None:
        self.module.train(self.was_training)
