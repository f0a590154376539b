"""Language models of text: the probability of a text, one token at a time.

:class:`LanguageModel` is the network of :mod:`rnnlab.models.lm_network` (embedding, recurrent
stack, output layer; ids in, next-token scores out) with a vocabulary and a :class:`TextFormat`,
so that it reads texts: it encodes them, scores them and samples new ones.

By the chain rule a text's probability is the product of its tokens' conditionals,

    P(y_1, y_2, y_3) = P(y_1) P(y_2 | y_1) P(y_3 | y_1, y_2),

and a model is judged by its perplexity on held-out text, exp(-1/N sum_t log P(y_t | y_<t)).

A text is framed by a start token (the context of its first token) and an end token (scored
last, so the model also says where a text ends); see :class:`TextFormat`. Sentence-wise training
uses ``<bos>`` ... ``<eos>``; a word stream (PTB) ``<eos>`` ... ``<eos>``; a character stream
the newline, ``"\\n"`` ... ``"\\n"``. Character and word level share all the code: only the
tokenizer differs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from rnnlab.errors import InputError
from rnnlab.models.lm_network import LMConfig, LMNetwork
from rnnlab.models.sampling import next_token
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import BOS, EOS, Vocab

__all__ = ["LMConfig", "LanguageModel", "Score", "TextFormat"]

TOKENIZERS = ("word", "whitespace", "char")
LOGITS_BUDGET = 1 << 24  # floats of logits held at once while scoring or evaluating (64 MiB)
VOCAB = "vocab.json"  # the vocabulary's file in a saved model directory (rnnlab.saved)


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


class LanguageModel(LMNetwork):
    """An :class:`~rnnlab.models.lm_network.LMNetwork` that knows its vocabulary and how a text
    becomes tokens: texts in, probabilities and samples out.

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

    task = "lm"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: LMConfig, vocab: Vocab, text_format: TextFormat | None = None):
        text_format = text_format or TextFormat()
        if len(vocab) != config.vocab_size:
            raise ValueError(f"vocabulary of {len(vocab)} for vocab_size={config.vocab_size}")
        for name in ("start", "end"):
            token = getattr(text_format, name)
            if token is not None and token not in vocab:
                raise ValueError(f"the {name} token {token!r} is not in the vocabulary")
        super().__init__(config)
        self.vocab, self.text_format = vocab, text_format

    @property
    def level(self) -> str:
        """``"char"`` or ``"word"``."""
        return self.text_format.level

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
                raise InputError(
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
            raise InputError("cannot score an empty text")
        head = [self.vocab[fmt.start]] if fmt.start is not None else []
        tail = [self.vocab[fmt.end]] if fmt.end is not None else []
        framed = head + ids + tail
        if len(framed) < 2:
            raise InputError(
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
            except InputError as e:
                raise InputError(f"text {i}: {e}") from e
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
            raise InputError("perplexity of an empty corpus")
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
            raise InputError(f"max_tokens must be an int >= 0, got {max_tokens!r}")
        context = self.encode(prompt) if prompt else []
        if self.text_format.start is not None:
            context.insert(0, self.vocab[self.text_format.start])
        if not context:
            raise InputError(
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

    # ---- a saved model directory (rnnlab.saved) ------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (architecture, text format) and the other files: the
        vocabulary."""
        return {"model": asdict(self.config), "text_format": asdict(self.text_format)}, {
            VOCAB: self.vocab
        }

    @classmethod
    def from_saved(cls, config: dict, files) -> LanguageModel:
        """The model :meth:`to_saved` describes, with fresh weights (``files.vocab(name)`` reads
        a vocabulary of the directory)."""
        lm_config, text_format = LMConfig(**config["model"]), TextFormat(**config["text_format"])
        return cls(lm_config, files.vocab(VOCAB), text_format)


class _eval_mode:
    """Context manager: the module in eval mode inside, its previous mode restored after."""

    def __init__(self, module: nn.Module) -> None:
        self.module, self.was_training = module, module.training

    def __enter__(self) -> nn.Module:
        self.module.eval()
        return self.module

    def __exit__(self, *exc) -> None:
        self.module.train(self.was_training)
