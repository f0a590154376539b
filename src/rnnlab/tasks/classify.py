"""Many-to-one classification end to end: texts and labels in, a saved model directory out.

load splits -> tokenize -> Vocab (frequency-sorted, ids from 4) -> padded id batches
-> TextClassifier (Embedding -> RNN/LSTM/GRU -> last state -> sigmoid/softmax)
-> Trainer (Adam, clipping, dev accuracy, early stopping, checkpoints) -> runs/NAME/

SST (``sst2``, ``sst5``) trains on every labelled phrase of the training trees by default
(``phrases``), the signal behind the published SST figures; dev and test are whole sentences.
With ``pretrained`` (a saved language model) the vocabulary, embedding and recurrent layers are
the language model's and fine-tuning follows :class:`~rnnlab.models.classifier.FineTuning`
(ULMFiT). Long documents train on their last ``max_len`` tokens and are evaluated whole unless
``eval_max_len`` says otherwise.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from rnnlab import data, saved
from rnnlab.data import LabelledTexts
from rnnlab.errors import InputError
from rnnlab.metrics import classification_report, confusion_matrix
from rnnlab.models.classifier import ClassifierConfig, FineTuning, TextClassifier
from rnnlab.text import ClassificationDataset, PadCollate, Vocab, bucket_loader, tokenize
from rnnlab.text.tokenize import LEVELS
from rnnlab.text.vocab import check_max_size
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.files import atomic_write_text

logger = logging.getLogger(__name__)

PHRASE_DATASETS = ("sst2", "sst5")  # registered datasets with a "phrases" training split


@dataclass
class ClassifyJob:
    """Everything ``rnnlab train classify`` takes."""

    data: str  # a registered dataset (sst2, sst5, review_polarity, imdb) or a TSV/folder path
    out: str = "runs/classify"
    dev: str | None = None  # a dev file; otherwise the dataset's dev split or a seeded 10%
    level: str = "word"  # "word" | "char"
    max_vocab: int | None = None  # vocabulary size including the 4 reserved ids
    min_freq: int = 1
    max_len: int | None = None  # train on the last max_len tokens of longer texts (Keras "pre")
    eval_max_len: int | None = None  # evaluate/predict on the last N tokens; None: whole texts
    phrases: bool = True  # sst2/sst5: train on every labelled phrase, not only whole sentences
    pretrained: str | None = None  # a saved language model: its vocabulary and encoder
    fine_tuning: FineTuning | None = None  # with pretrained; None: FineTuning() (ULMFiT)
    batch_size: int = 32
    model: ClassifierConfig | None = None  # vocab_size/num_classes are filled in from the data
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(monitor="accuracy", mode="max", clip_norm=5.0)
    )
    resume: bool = False

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
        for name in ("batch_size", "min_freq"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("max_len", "eval_max_len"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be >= 1 or None, got {v!r}")
        if self.pretrained is None and self.fine_tuning is not None:
            raise ValueError("fine_tuning applies to a classifier started from a pretrained LM")
        check_max_size(self.max_vocab, "max_vocab")


@dataclass
class ClassifyResult:
    model: TextClassifier
    history: list[dict]
    scores: dict[str, dict]  # split -> {"accuracy", "loss"}
    budget_spent: bool = False  # stopped by train.max_minutes (a checkpoint to resume from)


def build_vocab(texts: list[str], level: str, max_size: int | None, min_freq: int) -> Vocab:
    """The frequency-sorted vocabulary of ``texts`` (ids 0-3 reserved)."""
    return Vocab.build([tokenize(t, level) for t in texts], max_size=max_size, min_freq=min_freq)


def loader(model: TextClassifier, split: LabelledTexts, batch_size: int, train: bool = False,
           seed: int = 0, max_len: int | None = None):  # fmt: skip
    """A DataLoader of ``(ids (B, T), lengths (B,), labels (B,))`` for ``split``.

    Training batches group texts of similar length (less padding), reshuffled each epoch;
    evaluation batches go shortest first (:func:`rnnlab.text.bucket_loader`).

    Raises:
        InputError (a ValueError): ``split`` has other labels than the model.
    """
    if split.label_names != model.label_names:
        raise InputError(
            f"the data's labels {split.label_names} differ from the model's {model.label_names}; "
            "give data labelled with the model's labels"
        )
    ds = ClassificationDataset.from_texts(split.texts, split.labels, model.vocab, model.level)
    collate = PadCollate(padding=model.config.padding, maxlen=max_len)
    return bucket_loader(ds, batch_size, collate, train=train, seed=seed)


def train_classifier(job: ClassifyJob) -> ClassifyResult:
    """Train on ``job.data``, keep the best dev epoch, save to ``job.out``, score every split.

    With ``train.max_minutes`` the run stops once that much training time is spent (a checkpoint
    is saved; ``resume`` goes on with a fresh budget) and keeps the better on dev of its best
    finished epoch and its weights at the cut.
    """
    splits = data.load_splits(job.data, job.dev, seed=job.train.seed)
    if job.phrases and job.data in PHRASE_DATASETS:
        splits["train"] = data.load(job.data, "phrases")
    train = splits["train"]
    base = job.model or ClassifierConfig(vocab_size=1, num_classes=2)
    lm = None
    if job.pretrained is not None:
        lm = pretrained_lm(job.pretrained, job)
        vocab = lm.vocab
        base = ClassifierConfig(**{**asdict(base), "cell": lm.config.cell,
                                   "embed_dim": lm.config.embed_dim,
                                   "hidden_size": lm.config.hidden_size,
                                   "num_layers": lm.config.num_layers})  # fmt: skip
    else:
        vocab = build_vocab(train.texts, job.level, job.max_vocab, job.min_freq)
    config = ClassifierConfig(**{**asdict(base), "vocab_size": len(vocab),
                                 "num_classes": len(train.label_names)})  # fmt: skip
    seed_everything(job.train.seed)
    model = TextClassifier(config, vocab, train.label_names, job.level, job.eval_max_len)
    if lm is not None:
        model.load_encoder(lm)
        model.fine_tuning = job.fine_tuning or FineTuning()
    logger.info("%s: %d train / %d dev texts, vocabulary %d, %d parameters", job.data,
                len(train), len(splits["dev"]), len(vocab),
                sum(p.numel() for p in model.parameters()))  # fmt: skip
    # the settings resuming exactly depends on (the loader's and the fine-tuning schedule)
    run = {"batch_size": job.batch_size, "max_len": job.max_len, "phrases": job.phrases,
           "pretrained": job.pretrained,
           "fine_tuning": asdict(model.fine_tuning) if model.fine_tuning else None}  # fmt: skip
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    loaders = {
        name: loader(
            model,
            split,
            job.batch_size,
            train=name == "train",
            seed=job.train.seed,
            max_len=job.max_len if name == "train" else job.eval_max_len,
        )  # fmt: skip
        for name, split in splits.items()
    }
    trainer = Trainer(model, job.train, job.out)
    history = trainer.fit(loaders["train"], loaders["dev"], resume=job.resume)
    model.eval()
    scores = {}
    with torch.no_grad():
        for name in ("dev", "test"):
            if name in loaders:
                scores[name] = model.evaluate(loaders[name])
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return ClassifyResult(model, history, scores, trainer.budget_spent)


def pretrained_lm(path: str, job: ClassifyJob):
    """The saved language model at ``path``, checked against what ``job`` asks of the
    classifier (its vocabulary is the LM's, so no vocabulary options; same token level).

    Raises:
        InputError (a ValueError): not a language model, or a conflicting option, named.
    """
    from rnnlab.models.language_model import LanguageModel

    lm = saved.load(path)
    if not isinstance(lm, LanguageModel):
        raise InputError(f"--pretrained {path} is a {lm.task} model, not a language model")
    if lm.text_format.tokenizer not in ("word", "char"):
        raise InputError(
            f"--pretrained {path} reads {lm.text_format.tokenizer}-split text (case kept); the "
            "classifier tokenises with rnnlab.text.tokenize: pretrain on raw text (a registered "
            "corpus such as imdb, or a text file)"
        )
    if lm.level != job.level:
        raise InputError(f"--pretrained {path} is a {lm.level}-level model; the job asks "
                         f"--level {job.level}")  # fmt: skip
    if job.max_vocab is not None or job.min_freq != 1:
        raise InputError(
            "a classifier started from a language model uses its vocabulary: drop --max-vocab "
            "and --min-freq"
        )
    return lm


def evaluate_classifier(model: TextClassifier, split: LabelledTexts, batch_size: int = 256):
    """Accuracy, per-class precision/recall/F1 and the confusion matrix on ``split``.

    Returns:
        (report, confusion (C, C) with rows gold and columns predicted).
    """
    preds = [p.label_id for p in model.predict(split.texts, batch_size=batch_size)]
    C = len(model.label_names)
    report = classification_report(preds, split.labels, labels=C)
    return report, confusion_matrix(preds, split.labels, num_classes=C)
