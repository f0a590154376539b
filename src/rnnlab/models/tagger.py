"""Many-to-many, aligned: one tag per token (named entities, chunks, parts of speech).

Symbols: B batch, T words, W characters per word, N real words in the batch, E word embedding,
K character embedding, Q character hidden units, S casing features, H hidden units, D directions
(2), C tags.

    e_t = Embedding(norm(w_t))                    (B, T, E): lower-cased, digits -> 0
    c_t = [h_fwd_last ; h_bwd_first] of a BiLSTM over the characters of w_t (case kept)
                                                  (B, T, 2Q): unseen names still get features
    k_t = Embedding(casing(w_t))                  (B, T, S): lower, UPPER, Title, digits...
    h_t = BiLSTM/BiGRU(dropout([e_t ; c_t ; k_t]))  stacked, (B, T, D*H)
    x_t = W dropout(h_t) + b                      (B, T, C) emission scores
    softmax head: p(y_t | w) = softmax(x_t)       one decision per token
    CRF head:     p(y | w) = exp(s(y)) / Z        one decision per sentence (models.crf)

Lample et al. (2016)'s recipe for names without pretrained vectors: characters for unseen words,
dropout 0.5 before and after the recurrence, and words seen once in training replaced by
``<unk>`` with probability 0.5 while training (so that ``<unk>`` gets a trained embedding).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.metrics.entities import SCHEMES, entity_scores, spans
from rnnlab.models.crf import CRF
from rnnlab.text import Vocab, pad_batch

__all__ = ["CASINGS", "TagBatch", "TagCollate", "TaggedText", "TaggerConfig", "SequenceTagger",
           "casing", "split_words"]  # fmt: skip

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU}
CASINGS = ("<pad>", "numeric", "has_digit", "lower", "upper", "title", "mixed", "other")
MAX_WORD_CHARS = 20  # longer words keep their first and last 10 characters
# the files of a saved tagger beside config.json (rnnlab.saved): words, tag names, characters
VOCAB, TAGS, CHARS = "vocab.json", "tags.json", "chars.json"


def casing(token: str) -> int:
    """The casing class of a token, an index into :data:`CASINGS` (never 0, the padding)."""
    if token.isdigit():
        return 1
    if any(ch.isdigit() for ch in token):
        return 2
    if token.islower():
        return 3
    if token.isupper():
        return 4
    if token[:1].isupper():
        return 5
    return 6 if any(ch.isalpha() for ch in token) else 7


def normalize(token: str) -> str:
    """The key of a token's word embedding: lower-cased, every digit 0 (Lample et al.)."""
    return re.sub(r"\d", "0", token.lower())


_WORDS = re.compile(
    r"""\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b   # don't -> do n't; it's -> it 's
      | \d+(?:[.,:/]\d+)+                          # 3.5 1,000
      | (?:[^\W\d_]\.){2,}                         # U.S.
      | \w+(?:-\w+|'(?!(?:s|re|ve|ll|d|m)\b)\w+)*    # inner hyphens, apostrophes: o'clock
      | \.{2,}|-{2,}|\S                            # ellipses, dashes, any other character
    """,
    re.VERBOSE | re.IGNORECASE,
)


def split_words(text: str) -> list[str]:
    """Tokens of a raw text, case kept, split the way CoNLL/PTB files are (punctuation and
    clitics apart): ``"Mohan's car, in Paris."`` -> ``Mohan 's car , in Paris .``."""
    return _WORDS.findall(text)


@dataclass
class TaggerConfig:
    """Architecture of a :class:`SequenceTagger`."""

    vocab_size: int
    num_tags: int
    num_chars: int = 0  # character vocabulary size; 0: no character model
    cell: str = "lstm"  # "lstm" | "gru" (the word-level recurrence; characters use an LSTM)
    embed_dim: int = 100
    char_dim: int = 25
    char_hidden: int = 25  # per direction
    case_dim: int = 0  # casing-feature embedding size; 0: none
    hidden_size: int = 100  # per direction
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.5  # on the word features and on the recurrent output
    crf: bool = True  # a CRF over the tag sequence; False: softmax per token
    singleton_from: int | None = None  # word ids >= this were seen once in training
    singleton_unk: float = 0.5  # probability of replacing such a word by <unk> in training

    def __post_init__(self) -> None:
        for name in ("vocab_size", "num_tags", "embed_dim", "char_dim", "char_hidden",
                     "hidden_size", "num_layers"):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("num_chars", "case_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an int >= 0, got {v!r}")
        if self.num_chars and self.num_chars <= 4:
            raise ValueError(
                f"num_chars counts 4 reserved ids and must be > 4, got {self.num_chars}"
            )
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not 0.0 <= self.singleton_unk <= 1.0:
            raise ValueError(f"singleton_unk must be in [0, 1], got {self.singleton_unk!r}")
        if self.singleton_from is not None and not 4 <= self.singleton_from <= self.vocab_size:
            raise ValueError(
                f"singleton_from must be in 4..vocab_size={self.vocab_size} or None, "
                f"got {self.singleton_from!r}"
            )


class TagBatch(NamedTuple):
    """A padded batch (right padding): what :class:`TagCollate` makes and the model reads."""

    words: torch.Tensor  # (B, T) word ids, 0 = padding
    chars: torch.Tensor  # (B, T, W) character ids, 0 = padding (W = 0 without a char model)
    cases: torch.Tensor  # (B, T) casing ids, 0 = padding
    lengths: torch.Tensor  # (B,) words per sentence, >= 1
    tags: torch.Tensor  # (B, T) tag ids, -1 = padding (all -1 when unknown)


Encoded = tuple[list[int], list[list[int]], list[int], list[int]]  # words, chars, cases, tags


@dataclass
class TagCollate:
    """``collate_fn``: encoded sentences ``(words, chars, cases, tags)`` -> :class:`TagBatch`."""

    def __call__(self, batch: Sequence[Encoded]) -> TagBatch:
        words, lengths = pad_batch([w for w, _, _, _ in batch])  # (B, T), (B,)
        cases, _ = pad_batch([k for _, _, k, _ in batch])  # (B, T)
        tags, _ = pad_batch([t for _, _, _, t in batch], value=-1)  # (B, T)
        B, T = words.shape
        W = max((len(c) for _, chars, _, _ in batch for c in chars), default=0)
        chars = torch.zeros(B, T, W, dtype=torch.long)  # (B, T, W)
        for b, (_, word_chars, _, _) in enumerate(batch):
            for t, c in enumerate(word_chars):
                chars[b, t, : len(c)] = torch.tensor(c, dtype=torch.long)
        return TagBatch(words, chars, cases, lengths, tags)


@dataclass
class TaggedText:
    """One tagged sentence: its tokens, their tags, and the entities as (type, start, end, text)
    (end exclusive; empty when the tags have no spans, as POS tags)."""

    tokens: list[str]
    tags: list[str]
    entities: list[tuple[str, int, int, str]]


class SequenceTagger(nn.Module):
    """Word embeddings (+ character BiLSTM, + casing) -> BiLSTM/BiGRU -> softmax or CRF.

    Knows its vocabularies, so it tags raw texts (:meth:`tag`). Trained by ``rnnlab.train``'s
    ``Trainer`` through :meth:`loss` and :meth:`evaluate` on :class:`TagBatch` batches.

    Args:
        config: the architecture (``vocab_size == len(words)``, ``num_tags == len(tags)``,
            ``num_chars == len(chars)`` or 0 without ``chars``).
        words: the vocabulary of normalised words (:func:`normalize`).
        tags: tag names, by id.
        chars: the character vocabulary, or None without a character model.
        scheme: the span scheme of the tags (IOB1/IOB2/BIOES) for entity scores; None for POS.
    """

    task = "tag"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: TaggerConfig, words: Vocab, tags: Sequence[str],
                 chars: Vocab | None = None, scheme: str | None = None) -> None:  # fmt: skip
        if len(words) != config.vocab_size:
            raise ValueError(f"vocabulary of {len(words)} for vocab_size={config.vocab_size}")
        if len(tags) != config.num_tags or len(set(tags)) != len(tags):
            raise ValueError(f"{len(tags)} tag names (distinct?) for num_tags={config.num_tags}")
        if (len(chars) if chars is not None else 0) != config.num_chars:
            raise ValueError(f"character vocabulary of {len(chars) if chars else 0} for "
                             f"num_chars={config.num_chars}")  # fmt: skip
        if scheme is not None:
            if scheme not in SCHEMES:
                raise ValueError(f"scheme must be one of {SCHEMES} or None, got {scheme!r}")
            for t in tags:
                spans([t], scheme)  # ValueError naming a tag outside the scheme
        super().__init__()
        self.config, self.vocab, self.tag_names = config, words, list(tags)
        self.chars, self.scheme = chars, scheme
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0)
        features = c.embed_dim
        if c.num_chars:
            self.char_embedding = nn.Embedding(c.num_chars, c.char_dim, padding_idx=0)
            self.char_rnn = rnn.LSTM(c.char_dim, c.char_hidden, batch_first=True,
                                     bidirectional=True)  # fmt: skip
            features += 2 * c.char_hidden
        if c.case_dim:
            self.case_embedding = nn.Embedding(len(CASINGS), c.case_dim, padding_idx=0)
            features += c.case_dim
        self.dropout = nn.Dropout(c.dropout)
        self.rnn = CELLS[c.cell](
            features, c.hidden_size, num_layers=c.num_layers, batch_first=True,
            bidirectional=c.bidirectional, dropout=c.dropout if c.num_layers > 1 else 0.0,
        )  # fmt: skip
        self.out = nn.Linear(c.hidden_size * (2 if c.bidirectional else 1), c.num_tags)
        self.crf = CRF(c.num_tags) if c.crf else None

    # ---- encoding --------------------------------------------------------------------------
    def encode(self, tokens: Sequence[str], tags: Sequence[str] | None = None) -> Encoded:
        """One sentence as ids: (words, chars per word, casings, tags (-1s when None)).

        Raises:
            InputError (a ValueError): an empty sentence, or a tag the model does not know.
        """
        if isinstance(tokens, str) or not tokens:
            raise InputError("a sentence must be a non-empty list of tokens")
        words = self.vocab.encode([normalize(t) for t in tokens])
        chars = []
        if self.chars is not None:
            for t in tokens:
                t = t if len(t) <= MAX_WORD_CHARS else t[:10] + t[-10:]
                chars.append(self.chars.encode(list(t)))
        cases = [casing(t) for t in tokens]
        if tags is None:
            tag_ids = [-1] * len(tokens)
        else:
            index = {t: i for i, t in enumerate(self.tag_names)}
            unknown = sorted({t for t in tags if t not in index})
            if unknown:
                raise InputError(f"tags {unknown[:5]} are not among the model's tags")
            tag_ids = [index[t] for t in tags]
        return words, chars, cases, tag_ids

    # ---- the network -----------------------------------------------------------------------
    def _char_features(self, chars: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """(B, T, W) character ids -> (B, T, 2Q) final states of the character BiLSTM."""
        B, T, W = chars.shape
        flat = chars[real]  # (N, W): the real words only
        lengths = (flat != 0).sum(1).clamp(min=1)  # (N,)
        emb = self.char_embedding(flat)  # (N, W, K)
        _, (h_n, _) = self.char_rnn(emb, lengths=lengths)  # h_n (2, N, Q)
        feats = torch.cat([h_n[0], h_n[1]], dim=-1)  # (N, 2Q)
        out = feats.new_zeros(B, T, feats.shape[-1])  # (B, T, 2Q)
        out[real] = feats
        return out

    def emissions(self, batch: TagBatch) -> torch.Tensor:
        """Emission scores (B, T, C) of a batch (zeros from padded steps' states)."""
        words, chars, cases, lengths = batch.words, batch.chars, batch.cases, batch.lengths
        c = self.config
        if self.training and c.singleton_from is not None and c.singleton_unk > 0:
            rare = words >= c.singleton_from  # (B, T)
            drop = rare & (torch.rand(words.shape, device=words.device) < c.singleton_unk)
            words = words.masked_fill(drop, Vocab.unk_id)
        feats = [self.embedding(words)]  # (B, T, E)
        if c.num_chars:
            feats.append(self._char_features(chars, words != 0))  # (B, T, 2Q)
        if c.case_dim:
            feats.append(self.case_embedding(cases))  # (B, T, S)
        x = self.dropout(torch.cat(feats, dim=-1))  # (B, T, E + 2Q + S)
        h, _ = self.rnn(x, lengths=lengths)  # (B, T, D*H)
        return self.out(self.dropout(h))  # (B, T, C)

    def _loss(self, x: torch.Tensor, batch: TagBatch) -> torch.Tensor:
        """Mean negative log-likelihood per real token (nats)."""
        n = batch.lengths.sum()
        if self.crf is not None:
            return self.crf.nll(x, batch.tags, batch.lengths).sum() / n
        return F.cross_entropy(x.flatten(0, 1), batch.tags.flatten(), ignore_index=-1)

    def loss(self, batch: TagBatch) -> torch.Tensor:
        """Training objective of a batch: CRF or token cross-entropy, per real token."""
        return self._loss(self.emissions(batch), batch)

    def _decode(self, x: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
        paths = self.crf.decode(x, lengths) if self.crf is not None else x.argmax(-1)  # (B, T)
        return [p[:n] for p, n in zip(paths.tolist(), lengths.tolist(), strict=True)]

    @torch.no_grad()
    def predict_ids(self, batch: TagBatch) -> list[list[int]]:
        """Best tag ids of every sentence (Viterbi with a CRF, per-token argmax without)."""
        return self._decode(self.emissions(batch), batch.lengths)

    @torch.no_grad()
    def evaluate(self, loader: Iterable[TagBatch]) -> dict[str, float]:
        """``loss`` (per token), ``accuracy`` (per token) and, for span tags, entity-level
        ``precision``, ``recall``, ``f1`` (overall) over every batch of ``loader``."""
        gold, pred, total, n = [], [], 0.0, 0
        for batch in loader:
            x = self.emissions(batch)
            tokens = int(batch.lengths.sum())
            total += float(self._loss(x, batch)) * tokens
            n += tokens
            pred += self._decode(x, batch.lengths)
            gold += [t[:k] for t, k in zip(batch.tags.tolist(), batch.lengths.tolist(),
                                            strict=True)]  # fmt: skip
        if n == 0:
            raise ValueError("evaluate(): the loader yielded no sentences")
        right = sum(a == b for g, p in zip(gold, pred, strict=True)
                    for a, b in zip(g, p, strict=True))  # fmt: skip
        metrics = {"loss": total / n, "accuracy": right / n}
        if self.scheme is not None:
            names = self.tag_names
            gold_tags = [[names[i] for i in g] for g in gold]
            pred_tags = [[names[i] for i in p] for p in pred]
            s = entity_scores(gold_tags, pred_tags, self.scheme)["overall"]
            metrics.update(precision=s["precision"], recall=s["recall"], f1=s["f1"])
        return metrics

    # ---- raw text in -----------------------------------------------------------------------
    @torch.no_grad()
    def tag(self, texts: Sequence[str | Sequence[str]], batch_size: int = 64) -> list[TaggedText]:
        """Tag raw texts (split by :func:`split_words`) or lists of tokens, in eval mode.

        Raises:
            InputError (a ValueError): a text without tokens.
        """
        if isinstance(texts, str):
            raise TypeError("tag() takes a list of texts, not a single string")
        sentences = []
        for i, text in enumerate(texts):
            tokens = split_words(text) if isinstance(text, str) else list(text)
            if not tokens:
                raise InputError(f"text {i} has no tokens to tag")
            sentences.append(tokens)
        was_training = self.training
        self.eval()
        device = self.out.weight.device
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))  # less padding
        out: list[TaggedText | None] = [None] * len(sentences)
        try:
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = TagCollate()([self.encode(sentences[i]) for i in chunk])
                batch = TagBatch(*(t.to(device) for t in batch))
                for i, ids in zip(chunk, self.predict_ids(batch), strict=True):
                    tokens, tags = sentences[i], [self.tag_names[k] for k in ids]
                    found = spans(tags, self.scheme) if self.scheme else []
                    entities = [(k, a, b, " ".join(tokens[a:b])) for k, a, b in found]
                    out[i] = TaggedText(tokens, tags, entities)
        finally:
            self.train(was_training)
        return out  # type: ignore[return-value]

    def config_dict(self) -> dict:
        """The constructor's configuration as plain JSON-able data."""
        return asdict(self.config)

    # ---- a saved model directory (rnnlab.saved) ------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (architecture, span scheme) and the other files: the word
        vocabulary, the tag names by id and the characters (None without a character model)."""
        files = {VOCAB: self.vocab, TAGS: {"tags": self.tag_names}, CHARS: self.chars}
        return {"model": asdict(self.config), "scheme": self.scheme}, files

    @classmethod
    def from_saved(cls, config: dict, files) -> SequenceTagger:
        """The model :meth:`to_saved` describes, with fresh weights (``files.vocab(name)`` and
        ``files.json(name)`` read the directory's other files)."""
        c, scheme = TaggerConfig(**config["model"]), config["scheme"]
        words, tags = files.vocab(VOCAB), files.json(TAGS)["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValueError(f"{TAGS}: 'tags' must be a list of strings")
        return cls(c, words, tags, files.vocab(CHARS) if c.num_chars else None, scheme)
