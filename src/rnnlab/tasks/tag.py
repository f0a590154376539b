"""Sequence tagging end to end: tagged sentences in, a saved model directory out.

load splits (conll2003, conll2000, ud_english_lines, or a file) in the chosen span scheme
-> vocabularies of the training split: normalised words (ids by frequency, so the words seen once
   are the last ids), characters, and the tags of every split
-> length-bucketed batches of sentences -> SequenceTagger (words + characters + casing
   -> BiLSTM/BiGRU -> softmax or CRF)
-> Trainer (dev entity F1 for span tags, token accuracy for POS, picks the best epoch; early
   stopping; checkpoints) -> runs/NAME/ with scores.json (dev and test, per entity type)
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from rnnlab import saved
from rnnlab.data.tagging import TaggedSentences, load_tagging_splits
from rnnlab.errors import InputError
from rnnlab.metrics.entities import SCHEMES, entity_scores, token_accuracy
from rnnlab.models.tagger import SequenceTagger, TagCollate, TaggerConfig, normalize
from rnnlab.text import Vocab, bucket_loader
from rnnlab.text.vocab import check_max_size
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.files import atomic_write_text

__all__ = ["TagJob", "TagResult", "build_vocabularies", "evaluate_tagger", "loader",
           "train_tagger"]  # fmt: skip

logger = logging.getLogger(__name__)


@dataclass
class TagJob:
    """Everything ``rnnlab train tag`` takes."""

    data: str  # conll2003, conll2000, ud_english_lines, or a file (CoNLL columns, .conllu, TSV)
    out: str = "runs/tag"
    dev: str | None = None  # a dev file; otherwise the dataset's dev split or a seeded 10%
    target: str | None = None  # which tags of a dataset (ner, pos, chunk, upos, xpos)
    scheme: str = "IOB2"  # span tags are trained and scored in this scheme (IOB1, IOB2, BIOES)
    chars: bool = False  # a character BiLSTM per word
    max_vocab: int | None = None  # word vocabulary size including the 4 reserved ids
    min_freq: int = 1
    max_sentences: int | None = None  # train on the first N training sentences only
    batch_size: int = 32  # sentences per batch
    model: TaggerConfig | None = None  # sizes are filled in from the data
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(monitor="f1", mode="max", clip_norm=5.0)
    )
    resume: bool = False

    def __post_init__(self) -> None:
        for name in ("batch_size", "min_freq"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.max_sentences is not None and self.max_sentences < 1:
            raise ValueError(f"max_sentences must be >= 1 or None, got {self.max_sentences!r}")
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES} or None, got {self.scheme!r}")
        check_max_size(self.max_vocab, "max_vocab")


@dataclass
class TagResult:
    model: SequenceTagger
    history: list[dict]
    scores: dict[str, dict]  # split -> evaluate_tagger's dict
    budget_spent: bool = False  # stopped by train.max_minutes (a checkpoint to resume from)


def build_vocabularies(
    train: TaggedSentences,
    splits: dict[str, TaggedSentences],
    max_vocab: int | None,
    min_freq: int,
    chars: bool,
) -> tuple[Vocab, Vocab | None, list[str], int | None]:
    """(words, characters or None, tag names, first id of the words seen once or None).

    Words are :func:`normalize`-d training tokens by decreasing frequency, so the words seen once
    in training are exactly the ids from the returned index on. Tags are those of every split
    (``O`` first), so a tag that only the dev or test data hold still has an id.
    """
    counts = Counter(normalize(t) for sentence in train.tokens for t in sentence)
    words = Vocab.build([[normalize(t) for t in s] for s in train.tokens], max_vocab, min_freq)
    once = [i for i in range(4, len(words)) if counts[words.itos[i]] == 1]
    singleton_from = once[0] if once else None
    char_vocab = Vocab.build([list(t) for s in train.tokens for t in s]) if chars else None
    names = {t for data in splits.values() for tags in data.tags for t in tags}
    tags = sorted(names, key=lambda t: (t != "O", t))
    return words, char_vocab, tags, singleton_from


def loader(model: SequenceTagger, data: TaggedSentences, batch_size: int, train: bool = False,
           seed: int = 0) -> DataLoader:  # fmt: skip
    """A DataLoader of :class:`TagBatch` for ``data``.

    Training: sentences of similar length batched together, reshuffled every epoch. Otherwise:
    sorted by length (less padding), a fixed order.
    """
    encoded = [model.encode(w, t) for w, t in zip(data.tokens, data.tags, strict=True)]
    lengths = [len(w) for w in data.tokens]
    return bucket_loader(encoded, batch_size, TagCollate(), train, seed, lengths)


def _kind(scheme: str | None) -> str:
    return f"span tags ({scheme})" if scheme else "tags without spans (such as POS tags)"


def train_tagger(job: TagJob) -> TagResult:
    """Train on ``job.data``, keep the best dev epoch, save to ``job.out``, score dev and test.

    With ``train.max_minutes`` the run stops once that much training time is spent (a checkpoint
    is saved; ``resume`` goes on with a fresh budget) and keeps the better on dev of its best
    finished epoch and its weights at the cut.

    Raises:
        InputError (a ValueError): a dev file whose tags are not of the training data's kind
            (span tags beside POS tags), and as :func:`load_tagging_splits` raises it.
    """
    splits = load_tagging_splits(job.data, job.target, job.scheme, job.dev, seed=job.train.seed)
    train = splits["train"]
    for name, split in splits.items():
        if (split.scheme is None) != (train.scheme is None):  # a dev file of POS beside spans
            raise InputError(
                f"the {name} data has {_kind(split.scheme)} but the training data has "
                f"{_kind(train.scheme)}: give {name} data with the same kind of tags"
            )
    splits = {name: split.to_scheme(train.scheme) for name, split in splits.items()}
    if job.max_sentences is not None:
        splits["train"] = train = train.subset(range(min(job.max_sentences, len(train))))
    words, chars, tags, singleton_from = build_vocabularies(
        train, splits, job.max_vocab, job.min_freq, job.chars
    )
    base = job.model or TaggerConfig(vocab_size=1, num_tags=1)
    config = TaggerConfig(**{**asdict(base), "vocab_size": len(words), "num_tags": len(tags),
                             "num_chars": len(chars) if chars else 0,
                             "singleton_from": singleton_from})  # fmt: skip
    tcfg = job.train
    if train.scheme is None and tcfg.monitor in ("f1", "precision", "recall"):
        tcfg = replace(tcfg, monitor="accuracy", mode="max")  # no spans: token accuracy
    seed_everything(tcfg.seed)
    model = SequenceTagger(config, words, tags, chars, train.scheme)
    logger.info("%s: %d train / %d dev sentences, %d words, %d tags, %d parameters", job.data,
                len(train), len(splits["dev"]), len(words), len(tags),
                sum(p.numel() for p in model.parameters()))  # fmt: skip
    run = {"batch_size": job.batch_size, "max_sentences": job.max_sentences}  # resuming needs
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    loaders = {name: loader(model, split, job.batch_size, name == "train", tcfg.seed)
               for name, split in splits.items()}  # fmt: skip
    trainer = Trainer(model, tcfg, job.out)
    history = trainer.fit(loaders["train"], loaders["dev"], job.resume)
    model.eval()
    scores = {name: evaluate_tagger(model, splits[name]) for name in ("dev", "test")
              if name in splits}  # fmt: skip
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return TagResult(model, history, scores, trainer.budget_spent)


def evaluate_tagger(model: SequenceTagger, data: TaggedSentences,
                    batch_size: int = 64) -> dict:  # fmt: skip
    """Token accuracy and, for span tags, entity scores per type and overall.

    ``data`` must be in the model's scheme (load it with ``scheme=model.scheme``).

    Returns:
        ``{"sentences", "tokens", "accuracy", "entities": entity_scores(...) or None}``.

    Raises:
        InputError (a ValueError): ``data`` in another scheme, or with tags the model does not
            know.
    """
    if data.scheme != model.scheme:
        raise InputError(f"the data's tags are in scheme {data.scheme}, the model's in "
                         f"{model.scheme}; load the data with scheme={model.scheme!r}")  # fmt: skip
    unknown = sorted({t for tags in data.tags for t in tags} - set(model.tag_names))
    if unknown:
        raise InputError(
            f"the data has tags the model does not know: {unknown[:5]}; evaluate "
            f"it on data with the model's tags ({', '.join(model.tag_names[:8])})"
        )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            pred = [t.tags for t in model.tag(data.tokens, batch_size=batch_size)]
    finally:
        model.train(was_training)
    entities = entity_scores(data.tags, pred, data.scheme) if data.scheme else None
    return {"sentences": len(data), "tokens": data.num_tokens(),
            "accuracy": token_accuracy(data.tags, pred), "entities": entities}  # fmt: skip
