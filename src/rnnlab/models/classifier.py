"""Many-to-one: a sequence of token ids in, one class out (sentiment, star ratings).

Symbols: B batch, T time, E embedding size, H hidden units, D directions, C classes.

    e_t = Embedding(w_t)                          (B, T, E), padding id 0 maps to zeros
    h_t = RNN/LSTM/GRU(e_1..e_t)                  stacked, optionally bidirectional
    s   = [h_last_fwd ; h_first_bwd]              (B, D*H): the state after each text's last
                                                  real token (and, backwards, after its first);
                                                  pooling="max"/"mean": max/mean of h_t over the
                                                  real steps instead; "concat": [last; max; mean]
                                                  (B, 3*D*H), ULMFiT's concat pooling
    y   = sigmoid(w . dropout(s) + b)             2 classes: P(positive)
    y   = softmax(W dropout(s) + b)               C > 2 classes

The bag-of-words baseline (``model="bow"``) replaces the recurrence by the mean of the embeddings
over the real tokens: it cannot tell "not long but interesting" from "long but not interesting".

Transfer from a language model (ULMFiT, Howard & Ruder 2018): :meth:`TextClassifier.load_encoder`
copies a trained :class:`~rnnlab.models.language_model.LanguageModel`'s embedding and recurrent
layers (same vocabulary, same sizes) into the classifier, and :class:`FineTuning` trains them
with discriminative learning rates (each layer group below the output layer at 1/factor of the
rate of the group above it: eta_{l-1} = eta_l / 2.6) and gradual unfreezing (epoch 1 trains only
the output layer, each later epoch one more group from the top, the embedding last).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab.errors import InputError
from rnnlab.metrics import accuracy
from rnnlab.models.pooling import POOLINGS, pool, pooled_size
from rnnlab.nn.init import keras_init_
from rnnlab.text import Vocab, pad_batch, tokenize
from rnnlab.text.tokenize import LEVELS

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}
MODELS = ("rnn", "bow")
VOCAB = "vocab.json"  # the vocabulary's file in a saved model directory (rnnlab.saved)
INITS = ("torch", "keras")


@dataclass
class ClassifierConfig:
    """Architecture of a :class:`SequenceClassifier`."""

    vocab_size: int
    num_classes: int
    model: str = "rnn"  # "rnn" (recurrent) or "bow" (bag-of-words baseline)
    cell: str = "lstm"  # "rnn" | "lstm" | "gru"
    embed_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.5  # on the embeddings, between layers and before the output layer
    padding: str = "pre"  # where batches are padded: "pre" (Keras, IMDB recipe) or "post"
    pooling: str = "last"  # sentence vector: last real state, or max/mean of h_t over real steps
    init: str = "torch"  # initial weights: PyTorch's defaults, or "keras" (rnnlab.nn.init)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_dim", "hidden_size", "num_layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if (
            isinstance(self.num_classes, bool)
            or not isinstance(self.num_classes, int)
            or (self.num_classes < 2)
        ):
            raise ValueError(f"num_classes must be an int >= 2, got {self.num_classes!r}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.padding not in ("pre", "post"):
            raise ValueError(f"padding must be 'pre' or 'post', got {self.padding!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")


@dataclass
class FineTuning:
    """How a classifier started from a language model is fine-tuned (ULMFiT).

    Layer groups, bottom to top: the embedding, each recurrent layer, the output layer.

    Attributes:
        discriminative: the group below trains at 1/``discriminative`` of the rate of the group
            above it (Howard & Ruder: 2.6); 1.0: one rate for all.
        gradual: gradual unfreezing: in epoch e (from 0) only the top e + 1 groups train; from
            the epoch that reaches the embedding on, all of them.
    """

    discriminative: float = 2.6
    gradual: bool = True

    def __post_init__(self) -> None:
        d = self.discriminative
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not 1.0 <= d < 1e6:
            raise ValueError(f"discriminative must be a number >= 1, got {d!r}")


class SequenceClassifier(nn.Module):
    """Embedding -> (stacked, bidirectional) RNN/LSTM/GRU -> last real state -> linear.

    Batches are ``(ids (B, T) int64, lengths (B,), labels (B,))`` with id 0 as padding on the
    ``config.padding`` side, as ``rnnlab.text.PadCollate`` makes them. Two classes use one logit
    and a sigmoid (binary cross-entropy); more use softmax (cross-entropy).
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(c.dropout)
        features = c.embed_dim
        if c.model == "rnn":
            self.rnn = CELLS[c.cell](
                c.embed_dim, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                bidirectional=c.bidirectional, dropout=c.dropout if c.num_layers > 1 else 0.0,
                padding_side="left" if c.padding == "pre" else "right",
            )  # fmt: skip
            features = pooled_size(c.hidden_size, c.bidirectional, c.pooling)
        self.out = nn.Linear(features, 1 if c.num_classes == 2 else c.num_classes)
        if c.init == "keras":
            keras_init_(self)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits: (B,) for two classes (log-odds of class 1), else (B, C).

        Args:
            ids: (B, T) token ids, 0 = padding.
            lengths: (B,) number of real tokens per text, >= 1.
        """
        if ids.dim() != 2:
            raise ValueError(f"ids must be (B, T), got shape {tuple(ids.shape)}")
        emb = self.dropout(self.embedding(ids))  # (B, T, E)
        if self.config.model == "bow":
            # mean of the real tokens' embeddings; padding embeds to zeros (padding_idx)
            feats = emb.sum(1) / lengths.to(emb.dtype).unsqueeze(1)  # (B, E)
        else:
            out, state = self.rnn(emb, lengths=lengths)  # out (B, T, D*H), zeros at padding
            feats = self._pool(ids, lengths, out, state)
        logits = self.out(self.dropout(feats))
        return logits.squeeze(-1) if self.config.num_classes == 2 else logits

    def _pool(self, ids, lengths, out, state) -> torch.Tensor:
        """The text vector (B, F) from the top layer's outputs ``out`` (B, T, D*H) and the final
        ``state`` ((L*D, B, H), or (h, c) for an LSTM), as ``config.pooling`` says."""
        side = "left" if self.config.padding == "pre" else "right"
        return pool(out, state, lengths, self.config.pooling, self.config.bidirectional, side)

    # ---- fine-tuning (the Trainer's optional hooks, rnnlab.train.protocol) -------------------
    fine_tuning: FineTuning | None = None  # set on an instance to fine-tune a pretrained encoder

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """The parameters bottom to top: [embedding], [recurrent layer 1] .. [layer L] (both
        directions of a layer together), [output layer]; a bag-of-words model has no recurrent
        groups."""
        groups: list[list[nn.Parameter]] = [list(self.embedding.parameters())]
        if self.config.model == "rnn":
            layers: list[list[nn.Parameter]] = [[] for _ in range(self.config.num_layers)]
            for name, p in self.rnn.named_parameters():
                # names as torch.nn's: weight_ih_l{k}, bias_hh_l{k}_reverse, ...
                layers[int(name.split("_l")[-1].split("_")[0])].append(p)
            groups += layers
        groups.append(list(self.out.parameters()))
        return groups

    def optimizer_groups(self) -> list[dict]:
        """One optimizer group per layer group with ULMFiT's discriminative rates
        (``lr_scale = 1 / discriminative^k`` for the group k below the top), or ``[]`` (the
        Trainer's default: every parameter at the one rate) when not fine-tuning."""
        if self.fine_tuning is None:
            return []
        groups = self.layer_groups()
        factor = float(self.fine_tuning.discriminative)
        top = len(groups) - 1
        # eta_{l-1} = eta_l / factor, the output layer at the run's rate
        return [{"params": g, "lr_scale": factor ** -(top - k)} for k, g in enumerate(groups)]

    def start_epoch(self, epoch: int) -> None:
        """Gradual unfreezing: before epoch ``epoch`` (from 0) only the top ``epoch + 1`` layer
        groups require gradients. Not fine-tuning gradually, nothing is touched (parameters a
        user froze stay frozen)."""
        if self.fine_tuning is None or not self.fine_tuning.gradual:
            return
        groups = self.layer_groups()
        trainable = min(epoch + 1, len(groups))
        for k, group in enumerate(groups):
            for p in group:
                p.requires_grad_(k >= len(groups) - trainable)

    def predict_proba(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class probabilities (B, C): sigmoid for two classes, softmax otherwise."""
        logits = self(ids, lengths)
        if self.config.num_classes == 2:
            p = torch.sigmoid(logits)
            return torch.stack([1 - p, p], dim=-1)
        return torch.softmax(logits, dim=-1)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.config.num_classes == 2:
            return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        return F.cross_entropy(logits, labels)

    def loss(self, batch) -> torch.Tensor:
        """Mean cross-entropy over a batch ``(ids, lengths, labels)``."""
        ids, lengths, labels = batch
        return self._loss(self(ids, lengths), labels)

    @torch.no_grad()
    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """``{"loss", "accuracy"}`` over every batch of ``loader``."""
        total, n, preds, gold = 0.0, 0, [], []
        for ids, lengths, labels in loader:
            logits = self(ids, lengths)
            total += float(self._loss(logits, labels)) * len(labels)
            n += len(labels)
            preds.append(self._argmax(logits))
            gold.append(labels)
        if n == 0:
            raise ValueError("evaluate(): the loader yielded no examples")
        return {"loss": total / n, "accuracy": accuracy(torch.cat(preds), torch.cat(gold))}

    def _argmax(self, logits: torch.Tensor) -> torch.Tensor:
        if self.config.num_classes == 2:
            return (logits > 0).long()
        return logits.argmax(-1)

    def config_dict(self) -> dict:
        """The constructor's configuration as plain JSON-able data."""
        return asdict(self.config)


@dataclass
class Prediction:
    """One text's predicted class: its name, id and probability, and every class' probability."""

    label: str
    label_id: int
    probability: float
    probabilities: list[float]


class TextClassifier(SequenceClassifier):
    """A :class:`SequenceClassifier` that knows its vocabulary and class names: texts in.

    Example::

        clf = rnnlab.load("runs/sst2")
        clf.predict(["an enjoyable one-time-watch for the funny punchlines"])[0].label
    """

    task = "classify"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: ClassifierConfig, vocab: Vocab, label_names: list[str],
                 level: str = "word", max_len: int | None = None) -> None:  # fmt: skip
        if len(label_names) != config.num_classes:
            raise ValueError(f"{len(label_names)} label names for {config.num_classes} classes")
        if len(vocab) != config.vocab_size:
            raise ValueError(f"vocabulary of {len(vocab)} for vocab_size={config.vocab_size}")
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        if max_len is not None and (isinstance(max_len, bool) or not isinstance(max_len, int)
                                    or max_len < 1):  # fmt: skip
            raise ValueError(f"max_len must be a positive int or None, got {max_len!r}")
        super().__init__(config)
        self.vocab, self.label_names, self.level = vocab, list(label_names), level
        self.max_len = max_len  # texts keep their last max_len tokens, as in training

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenise, encode and pad ``texts`` (``config.padding`` side): ids (B, T), lengths (B,).

        Raises:
            InputError (a ValueError): a text is empty or has no tokens.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not a single string")
        seqs = []
        for i, text in enumerate(texts):
            try:
                seqs.append(self.vocab.encode(tokenize(text, self.level)))
            except ValueError as e:  # tokenize or encode: an empty text
                raise InputError(f"text {i} cannot be classified: {e}") from e
        padding = "pre" if self.config.padding == "pre" else "post"
        ids, lengths = pad_batch(seqs, padding=padding, maxlen=self.max_len, truncating="pre")
        return ids, lengths

    def load_encoder(self, lm: nn.Module) -> None:
        """Start the embedding and the recurrent layers from a trained language model's.

        Args:
            lm: a :class:`~rnnlab.models.language_model.LanguageModel` with this classifier's
                vocabulary (same tokens, same ids) and token level, an embedding of
                ``config.embed_dim`` and a recurrent stack of the same cell, hidden size and
                depth (one direction).

        Raises:
            InputError (a ValueError): a different vocabulary, level or architecture, named.
        """
        lc, c = lm.config, self.config
        if c.model != "rnn":
            raise InputError("a bag-of-words classifier has no recurrent encoder to start")
        if lm.vocab.itos != self.vocab.itos:
            diff = next((i for i, (a, b) in enumerate(zip(lm.vocab.itos, self.vocab.itos,
                                                          strict=False)) if a != b),
                        min(len(lm.vocab), len(self.vocab)))  # fmt: skip
            raise InputError(
                f"the language model's vocabulary ({len(lm.vocab):,} tokens) is not the "
                f"classifier's ({len(self.vocab):,}): they first differ at id {diff}; a "
                "classifier started from a language model must use its vocabulary"
            )
        if lm.level != self.level:
            raise InputError(f"the language model reads {lm.level}s, the classifier {self.level}s")
        want = {"cell": c.cell, "embed_dim": c.embed_dim, "hidden_size": c.hidden_size,
                "num_layers": c.num_layers}  # fmt: skip
        have = {k: getattr(lc, k) for k in want}
        if want != have or c.bidirectional:
            raise InputError(
                f"the language model's encoder is {have} (one direction); the classifier's is "
                f"{want}{' bidirectional' if c.bidirectional else ''}: they must be the same"
            )
        self.embedding.weight.data.copy_(lm.embedding.weight.data)
        self.embedding.weight.data[0].zero_()  # padding (id 0) embeds to zeros, as padding_idx
        self.rnn.load_state_dict(lm.rnn.state_dict())

    @torch.no_grad()
    def predict(self, texts: list[str], batch_size: int = 256) -> list[Prediction]:
        """The most probable class of every text, with probabilities (in eval mode, on CPU/GPU)."""
        was_training = self.training
        self.eval()
        device = self.out.weight.device
        out: list[Prediction] = []
        try:
            for start in range(0, len(texts), batch_size):
                ids, lengths = self.encode(texts[start : start + batch_size])
                probs = self.predict_proba(ids.to(device), lengths.to(device)).cpu()  # (B, C)
                for p in probs:
                    k = int(p.argmax())
                    out.append(Prediction(self.label_names[k], k, float(p[k]), p.tolist()))
        finally:
            self.train(was_training)
        return out

    # ---- a saved model directory (rnnlab.saved) ------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (architecture, class names, token level, length limit) and
        the other files: the vocabulary."""
        config = {"model": asdict(self.config), "label_names": self.label_names,
                  "level": self.level, "max_len": self.max_len}  # fmt: skip
        return config, {VOCAB: self.vocab}

    @classmethod
    def from_saved(cls, config: dict, files) -> TextClassifier:
        """The model :meth:`to_saved` describes, with fresh weights (``files.vocab(name)`` reads
        a vocabulary of the directory)."""
        c = ClassifierConfig(**config["model"])
        label_names, level, max_len = config["label_names"], config["level"], config.get("max_len")
        return cls(c, files.vocab(VOCAB), label_names, level, max_len)
