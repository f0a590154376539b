"""Language modelling end to end: a corpus in, a saved model directory out.

load the corpus' splits (tinyshakespeare, ptb, imdb, a folder of split files, a text file)
-> Vocab of the training split (ids 0-3 reserved, the rest by frequency)
-> batches: "stream": the training text as B contiguous rows read bptt tokens at a time, the state
   carried from chunk to chunk and detached (truncated BPTT, Zaremba et al. 2014);
   "sentence": each line framed as <bos> ... <eos>, padded batches of similar length
-> LanguageModel (Embedding -> RNN/LSTM/GRU -> linear to V), inside StreamLM for streams
-> Trainer (dev loss per token picks the best epoch; checkpoints; exact resume) -> runs/NAME/

Evaluation follows the framing the model was trained with: a stream-trained model reads a split
as one stream with its state carried (every token predicted from all the text before it), a
sentence-trained one scores each line on its own, from ``<bos>`` to ``<eos>``.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from rnnlab import saved
from rnnlab.data import Corpus, load_corpora
from rnnlab.errors import InputError
from rnnlab.models.language_model import LOGITS_BUDGET, LanguageModel, LMConfig, TextFormat
from rnnlab.models.truncated_bptt import StreamLM
from rnnlab.text import BOS, EOS, Vocab
from rnnlab.text.sentences import SentenceDataset, sentence_loader
from rnnlab.text.stream import StreamBatches
from rnnlab.text.tokenize import LEVELS
from rnnlab.text.vocab import check_max_size
from rnnlab.train import (
    OnDevice,
    TrainConfig,
    Trainer,
    seed_everything,
)
from rnnlab.train.files import atomic_write_text

__all__ = [
    "EpochDecay",
    "LMJob",
    "LMResult",
    "build_vocab",
    "encode_corpus",
    "evaluate_lm",
    "stream_bptt",
    "text_format_for",
    "train_lm",
    "unigram_perplexity",
]

logger = logging.getLogger(__name__)

MODES = ("stream", "sentence")


@dataclass
class EpochDecay:
    """Learning-rate factor at optimizer step ``s``: ``factor ** max(0, epoch(s) + 1 - after)``
    with ``epoch(s) = s // steps_per_epoch``: constant for ``after`` epochs, then multiplied by
    ``factor`` every epoch (Zaremba et al.: 0.5 after 4 epochs). A pure function of the step, so a
    resumed run sees the same rates."""

    steps_per_epoch: int
    factor: float
    after: int

    def __call__(self, step: int) -> float:
        return self.factor ** max(0, step // self.steps_per_epoch + 1 - self.after)


@dataclass
class LMJob:
    """Everything ``rnnlab train lm`` takes."""

    data: str = "tinyshakespeare"  # a registered corpus (tinyshakespeare, ptb, imdb), folder, file
    out: str = "runs/lm"
    dev: str | None = None  # a dev file; otherwise the corpus' dev split or its last dev_fraction
    level: str | None = None  # "word" | "char"; None: the corpus' own (word for paths)
    mode: str = "stream"  # "stream" (truncated BPTT, state carried) | "sentence" (<bos> ... <eos>)
    max_vocab: int | None = None  # vocabulary size including the 4 reserved ids
    min_freq: int = 1
    dev_fraction: float = 0.1
    batch_size: int = 32  # stream: parallel rows B; sentence: sentences per batch
    bptt: int | None = None  # stream: steps per chunk (gradients flow back this far);
    # None: 35 at word level (Zaremba et al.), 100 at character level (char-rnn)
    eval_batch_size: int = 10  # rows of the dev stream during training (final scores use 1)
    lr_decay: float = 1.0  # multiply the learning rate by this every epoch after decay_after
    decay_after: int = 1
    model: LMConfig | None = None  # vocab_size is filled in from the data
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=2e-3, clip_norm=5.0))
    resume: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.level is not None and self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS} or None, got {self.level!r}")
        for name in ("batch_size", "bptt", "eval_batch_size", "min_freq", "decay_after"):
            v = getattr(self, name)
            if name == "bptt" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if isinstance(self.lr_decay, bool) or not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay!r}")
        if self.lr_decay < 1.0 and self.train.anneal_to is not None:
            raise ValueError("lr_decay and train.anneal_to are two schedules: choose one")
        if isinstance(self.dev_fraction, bool) or not 0.0 < self.dev_fraction < 1.0:
            raise ValueError(f"dev_fraction must be in (0, 1), got {self.dev_fraction!r}")
        check_max_size(self.max_vocab, "max_vocab")


@dataclass
class LMResult:
    model: LanguageModel
    history: list[dict]
    scores: dict[str, dict]  # split -> {"loss" (nats/token), "perplexity", "bits", "tokens"}
    budget_spent: bool = False  # stopped by train.max_minutes (a checkpoint to resume from)


def build_vocab(corpus: Corpus, mode: str, max_size: int | None, min_freq: int) -> Vocab:
    """The frequency-sorted vocabulary of the training corpus (ids 0-3 reserved).

    Stream mode counts the stream itself, so at character level the newline is a token.
    """
    tokens = [corpus.stream()] if mode == "stream" else corpus.sentences()
    return Vocab.build(tokens, max_size=max_size, min_freq=min_freq)


def text_format_for(corpus: Corpus, mode: str, vocab: Vocab) -> TextFormat:
    """How the model trained on ``corpus`` in ``mode`` frames a text.

    Sentence mode: ``<bos>`` ... ``<eos>``. Word stream: ``<eos>`` ... ``<eos>`` (a sentence
    follows the previous one's end). Character stream: the newline on both sides (a line), or
    no frame at all when the text has no newline.
    """
    if mode == "sentence":
        return TextFormat(corpus.tokenizer, BOS, EOS)
    if corpus.level == "word":
        return TextFormat(corpus.tokenizer, EOS, EOS)
    newline = "\n" if "\n" in vocab else None
    return TextFormat(corpus.tokenizer, newline, newline)


def encode_corpus(model: LanguageModel, corpus: Corpus) -> list[int]:
    """The corpus stream as the model's ids; unknown tokens (characters too) become ``<unk>``,
    with a warning at character level, where the model never predicts ``<unk>``.

    Raises:
        InputError (a ValueError): a corpus of another level than the model's.
    """
    if corpus.level != model.level:
        raise InputError(f"a {corpus.level}-level corpus for a {model.level}-level model: read "
                         f"the text at the model's level ({model.level!r})")  # fmt: skip
    stream = corpus.stream()
    if model.level == "char":
        unknown = Counter(c for c in stream if c not in model.vocab)
        if unknown:
            logger.warning(
                "%d characters (%d distinct: %r) are not in the model's vocabulary; they count "
                "as <unk>",
                sum(unknown.values()),
                len(unknown),
                "".join(sorted(unknown))[:40],
            )
    return model.vocab.encode(stream)


def _sentences(model: LanguageModel, corpus: Corpus) -> SentenceDataset:
    """Each non-empty line framed as ``<bos>`` ids ``<eos>``."""
    v = model.vocab
    return SentenceDataset([[v.bos_id, *v.encode(line), v.eos_id] for line in corpus.sentences()])


def _eval_stream(model: LanguageModel, corpus: Corpus, batch_size: int) -> StreamBatches:
    """The corpus as ``batch_size`` rows, read in chunks as long as memory allows; the start
    token goes first, so that every token of the corpus is predicted."""
    ids = encode_corpus(model, corpus)
    if model.text_format.start is not None:
        ids.insert(0, model.vocab[model.text_format.start])
    chunk = max(1, min(1000, LOGITS_BUDGET // (batch_size * model.config.vocab_size)))
    return StreamBatches(ids, batch_size, chunk)


def _sentence_framed(model: LanguageModel) -> bool:
    return model.text_format.start == BOS


def evaluate_lm(model: LanguageModel, corpus: Corpus, batch_size: int = 1) -> dict[str, float]:
    """Per-token metrics of ``model`` on ``corpus`` (in eval mode, on the model's device).

    A stream-trained model reads the corpus as ``batch_size`` contiguous rows with its state
    carried (``batch_size=1``: every token predicted from everything before it); a
    sentence-trained model scores each line on its own, ``<eos>`` included.

    Returns:
        ``loss`` (nats per token), ``perplexity``, ``bits`` per token, ``tokens`` scored.
    """
    if _sentence_framed(model):
        loader = sentence_loader(_sentences(model, corpus), 64)
        tokens = sum(n for n in loader.dataset.lengths)
    else:
        loader = _eval_stream(model, corpus, batch_size)
        tokens = loader.num_targets
    device = model.embedding.weight.device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            metrics = model.evaluate(OnDevice(loader, device))
    finally:
        model.train(was_training)
    return {**metrics, "tokens": float(tokens)}


def unigram_perplexity(train: Corpus, test: Corpus) -> float:
    """Perplexity of the unigram model of ``train``'s stream on ``test``'s stream: the baseline
    that knows word frequencies and nothing of context.

        P(w) = (count(w) + 1) / (N + |W| + 1)   (add-one; one extra slot for unseen tokens)
        perplexity = exp(-1/N' sum_t log P(w_t))   over the N' tokens of ``test``
    """
    counts = Counter(train.stream())
    n, types = sum(counts.values()), len(counts)
    stream = test.stream()
    if not stream:
        raise ValueError("unigram perplexity of an empty corpus")
    log_total = math.log(n + types + 1)
    nll = sum(log_total - math.log(counts.get(w, 0) + 1) for w in stream)
    return math.exp(nll / len(stream))


def stream_bptt(job: LMJob, level: str) -> int | None:
    """The chunk length of a stream run: ``job.bptt``, by default 35 words or 100 characters
    (None in sentence mode, which reads whole sentences)."""
    if job.mode != "stream":
        return None
    return job.bptt or (100 if level == "char" else 35)


def _run_settings(job: LMJob, level: str) -> dict:
    """The data and loader settings that resuming a run exactly depends on (saved.RUN): the rows
    and chunk length of the training stream (the carried state is (L, batch_size, H)), the dev
    stream's rows, the held-out fraction."""
    bptt = stream_bptt(job, level)
    return {"mode": job.mode, "batch_size": job.batch_size, "bptt": bptt,
            "eval_batch_size": job.eval_batch_size, "dev_fraction": job.dev_fraction}  # fmt: skip


def train_lm(job: LMJob) -> LMResult:
    """Train on ``job.data``, keep the best dev epoch, save to ``job.out``, score dev and test.

    With ``train.max_minutes`` the run stops once that much training time is spent, as if
    interrupted (a checkpoint is saved; ``resume`` goes on with a fresh budget), and keeps the
    better on dev of its best finished epoch and its weights at the cut. With ``train.anneal_to``
    as well, the learning rate follows a cosine over the budget's training time (or the epochs,
    if they end first), reaching ``anneal_to * lr`` as the time runs out.

    ``scores.json`` holds each split's metrics from :func:`evaluate_lm` with one row (every
    token with its full left context).
    """
    splits = load_corpora(job.data, job.level, job.dev, job.dev_fraction)
    train = splits["train"]
    vocab = build_vocab(train, job.mode, job.max_vocab, job.min_freq)
    base = job.model or LMConfig(vocab_size=1)
    config = LMConfig(**{**asdict(base), "vocab_size": len(vocab)})
    seed_everything(job.train.seed)
    model = LanguageModel(config, vocab, text_format_for(train, job.mode, vocab))
    logger.info(
        "%s (%s level, %s): %d train / %d dev tokens, vocabulary %d, %d parameters",
        job.data,
        train.level,
        job.mode,
        train.num_tokens(),
        splits["dev"].num_tokens(),
        len(vocab),
        sum(p.numel() for p in model.parameters()),
    )
    if job.resume:
        saved.check_same_run(model, job.out, _run_settings(job, train.level))
    else:
        saved.save_config(model, job.out, _run_settings(job, train.level))
    if job.mode == "stream":
        bptt = stream_bptt(job, train.level)
        train_ids = encode_corpus(model, train)
        try:
            train_loader = StreamBatches(train_ids, job.batch_size, bptt)
        except InputError as e:  # too short for batch_size rows
            raise InputError(f"the training text, in batch_size={job.batch_size} rows: {e}") from e
        try:
            dev_loader = _eval_stream(model, splits["dev"], job.eval_batch_size)
        except InputError as e:  # too short for eval_batch_size rows
            raise InputError(
                f"the dev text, in eval_batch_size={job.eval_batch_size} rows: {e}"
            ) from e
        trainable = StreamLM(model, job.batch_size)
    else:
        train_loader = sentence_loader(
            _sentences(model, train), job.batch_size, train=True, seed=job.train.seed
        )
        dev_loader = sentence_loader(_sentences(model, splits["dev"]), 64)
        trainable = model
    tcfg = job.train
    if job.lr_decay < 1.0:
        tcfg = replace(tcfg, schedule=EpochDecay(len(train_loader), job.lr_decay, job.decay_after))
    trainer = Trainer(trainable, tcfg, job.out)
    history = trainer.fit(train_loader, dev_loader, resume=job.resume)
    model.eval()
    scores = {name: evaluate_lm(model, splits[name]) for name in ("dev", "test") if name in splits}
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return LMResult(model, history, scores, trainer.budget_spent)
