"""Translation end to end: parallel text in, a saved model directory and BLEU scores out.

load the pairs (multi30k, or --src-file/--tgt-file with a dev pair or a held-out fraction)
-> tokenise both sides (rnnlab.text.tokenize: lower-cased words, punctuation split off)
-> a Vocab per side from the training pairs (words seen fewer than min_freq times -> <unk>)
-> batches of similar source length: src (B, S), <bos> y (B, T), y <eos> (B, T)
-> Seq2Seq (encoder, decoder, attention) -> Trainer (dev loss per target token picks the best
   epoch; checkpoints; --resume; --max-minutes) -> runs/NAME/
-> BLEU of the saved model on dev and test: each source sentence translated (greedy or beam),
   detokenised, scored against the raw references with sacreBLEU's 13a tokenisation,
   lower-cased (the model writes lower case; the common Multi30k setup).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from torch.utils.data import Dataset

from rnnlab import saved
from rnnlab.data.translation import ParallelText, load_translation
from rnnlab.errors import InputError
from rnnlab.metrics.bleu import bleu_signature, corpus_bleu
from rnnlab.models.seq2seq import DEFAULT_ALPHA, Seq2Seq, Seq2SeqConfig, TranslationBatch
from rnnlab.text import Vocab, bucket_loader, pad_batch, tokenize
from rnnlab.text.vocab import check_max_size
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.files import atomic_write_text

__all__ = [
    "PairDataset",
    "TranslateJob",
    "TranslateResult",
    "collate_pairs",
    "evaluate_bleu",
    "pair_loader",
    "train_translate",
]

logger = logging.getLogger(__name__)


@dataclass
class TranslateJob:
    """Everything ``rnnlab train translate`` takes."""

    data: str | None = "multi30k"  # a registered parallel corpus, or None with src_file/tgt_file
    src_lang: str = "de"
    tgt_lang: str = "en"
    src_file: str | None = None  # line-aligned user files
    tgt_file: str | None = None
    dev_src: str | None = None
    dev_tgt: str | None = None
    dev_fraction: float = 0.05  # held out of the user's files when there is no dev pair
    out: str = "runs/mt"
    min_freq: int = 2  # rarer words become <unk>
    max_vocab: int | None = None  # per side, counting the 4 reserved ids
    max_train_len: int = 80  # training pairs with a longer side (in tokens) are left out
    batch_size: int = 128
    beam: int = 5  # for the final BLEU (1: greedy)
    alpha: float = DEFAULT_ALPHA  # length normalisation of the beam's choice
    eval_splits: tuple[str, ...] = ("dev", "test2016")  # BLEU on those the data has
    model: Seq2SeqConfig | None = None  # vocabulary sizes are filled in from the data
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=1e-3, clip_norm=1.0))
    resume: bool = False

    def __post_init__(self) -> None:
        for name in ("min_freq", "max_train_len", "batch_size", "beam"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if isinstance(self.alpha, bool) or not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha!r}")
        if isinstance(self.dev_fraction, bool) or not 0.0 < self.dev_fraction < 1.0:
            raise ValueError(f"dev_fraction must be in (0, 1), got {self.dev_fraction!r}")
        check_max_size(self.max_vocab, "max_vocab")


@dataclass
class TranslateResult:
    model: Seq2Seq
    history: list[dict]
    scores: dict[str, dict]  # split -> {"bleu", "signature", "detail", "sentences", "seconds"}
    budget_spent: bool = False  # stopped by train.max_minutes (a checkpoint to resume from)


class PairDataset(Dataset):
    """``N`` sentence pairs as id lists: ``(source ids, target ids)``, both non-empty."""

    def __init__(self, src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]]) -> None:
        if len(src) != len(tgt):
            raise ValueError(f"{len(src)} source but {len(tgt)} target sequences")
        self.src, self.tgt = [list(s) for s in src], [list(t) for t in tgt]
        for i, (s, t) in enumerate(zip(self.src, self.tgt, strict=True)):
            if not s or not t:
                raise ValueError(f"pair {i} has an empty side")

    @classmethod
    def encode(cls, pairs: ParallelText, model: Seq2Seq, max_len: int | None = None):
        """Tokenise and encode ``pairs`` with the model's vocabularies; with ``max_len``, leave
        out pairs with a side longer than that many tokens."""
        src, tgt = [], []
        for s, t in zip(pairs.src, pairs.tgt, strict=True):
            s_tok, t_tok = tokenize(s), tokenize(t)
            if max_len is None or max(len(s_tok), len(t_tok)) <= max_len:
                src.append(model.src_vocab.encode(s_tok))
                tgt.append(model.tgt_vocab.encode(t_tok))
        return cls(src, tgt)

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, i: int) -> tuple[list[int], list[int]]:
        return self.src[i], self.tgt[i]

    @property
    def lengths(self) -> list[int]:
        """Source lengths (what batches are bucketed by)."""
        return [len(s) for s in self.src]


def collate_pairs(items: Sequence[tuple[list[int], list[int]]]) -> TranslationBatch:
    """``B`` pairs -> a right-padded :class:`TranslationBatch`."""
    src, src_lengths = pad_batch([s for s, _ in items])  # (B, S), (B,)
    tgt_in, _ = pad_batch([[Vocab.bos_id, *t] for _, t in items])  # (B, T)
    tgt_out, _ = pad_batch([[*t, Vocab.eos_id] for _, t in items])  # (B, T)
    return TranslationBatch(src, src_lengths, tgt_in, tgt_out)


def pair_loader(dataset: PairDataset, batch_size: int, train: bool = False, seed: int = 0):
    """Training: batches of similar source length in random order, reseeded per epoch;
    otherwise shortest first in fixed batches."""
    if len(dataset) == 0:
        raise ValueError("no sentence pairs to batch")
    return bucket_loader(dataset, batch_size, collate_pairs, train=train, seed=seed)


def evaluate_bleu(
    model: Seq2Seq,
    pairs: ParallelText,
    beam: int = 5,
    alpha: float = DEFAULT_ALPHA,
    batch_size: int = 64,
) -> dict:
    """Corpus BLEU of the model's translations of ``pairs.src`` against ``pairs.tgt``
    (13a tokenisation, lower-cased, exponential smoothing: sacreBLEU's defaults plus ``-lc``).

    Returns:
        ``bleu`` (0-100), ``detail`` (sacreBLEU's line), ``signature``, ``hypotheses``,
        ``sentences``, ``seconds`` (decoding time).
    """
    start = time.perf_counter()
    hyps = [t.text for t in model.translate(pairs.src, beam, None, alpha, batch_size)]
    seconds = time.perf_counter() - start
    score = corpus_bleu(hyps, [pairs.tgt], lowercase=True)
    return {
        "bleu": score.score,
        "detail": str(score),
        "signature": bleu_signature(1, lowercase=True),
        "decoding": "greedy" if beam == 1 else f"beam {beam}, alpha {alpha:g}",
        "sentences": len(hyps),
        "seconds": round(seconds, 2),
        "hypotheses": hyps,
    }


def build_model(job: TranslateJob, train: ParallelText) -> Seq2Seq:
    """Vocabularies from the training pairs and a fresh model (seeded by the trainer's seed)."""
    src_vocab = Vocab.build([tokenize(s) for s in train.src], job.max_vocab, job.min_freq)
    tgt_vocab = Vocab.build([tokenize(t) for t in train.tgt], job.max_vocab, job.min_freq)
    base = job.model or Seq2SeqConfig(1, 1)
    config = Seq2SeqConfig(**{**asdict(base), "src_vocab_size": len(src_vocab),
                              "tgt_vocab_size": len(tgt_vocab)})  # fmt: skip
    seed_everything(job.train.seed)
    return Seq2Seq(config, src_vocab, tgt_vocab, (train.src_lang, train.tgt_lang))


def train_translate(job: TranslateJob) -> TranslateResult:
    """Train on ``job``'s data, keep the best dev epoch, save to ``job.out``, score BLEU.

    With ``train.max_minutes`` the run stops once that much training time is spent (a checkpoint
    is saved, ``resume`` goes on with a fresh budget) and keeps the better on the dev loss of its
    best finished epoch and its weights at the cut.
    """
    splits = load_translation(
        job.data, job.src_lang, job.tgt_lang, job.src_file, job.tgt_file, job.dev_src,
        job.dev_tgt, job.dev_fraction, job.train.seed,
    )  # fmt: skip
    model = build_model(job, splits["train"])
    train_set = PairDataset.encode(splits["train"], model, job.max_train_len)
    if len(train_set) == 0:
        raise InputError(
            f"none of the {len(splits['train'])} training pairs has both sides within "
            f"max_train_len={job.max_train_len} tokens: give shorter sentence pairs"
        )
    logger.info(
        "%d training pairs (of %d), vocabularies %d / %d, %d parameters",
        len(train_set), len(splits["train"]), len(model.src_vocab), len(model.tgt_vocab),
        sum(p.numel() for p in model.parameters()),
    )  # fmt: skip
    # the data and loader settings resuming exactly depends on, beside the model's files
    run = {"batch_size": job.batch_size, "max_train_len": job.max_train_len,
           "dev_fraction": job.dev_fraction}  # fmt: skip
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    train_loader = pair_loader(train_set, job.batch_size, train=True, seed=job.train.seed)
    dev_loader = pair_loader(PairDataset.encode(splits["dev"], model), job.batch_size)
    trainer = Trainer(model, job.train, job.out)
    history = trainer.fit(train_loader, dev_loader, resume=job.resume)
    model.eval()
    scores = {}
    for name in job.eval_splits:
        if name in splits:
            result = evaluate_bleu(model, splits[name], job.beam, job.alpha)
            scores[name] = {k: v for k, v in result.items() if k != "hypotheses"}
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return TranslateResult(model, history, scores, trainer.budget_spent)
