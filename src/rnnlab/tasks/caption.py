"""Image captioning end to end: images and captions in, a saved model directory and BLEU out.

load the splits (flickr8k, or a caption file with its images; images decoded once to uint8)
-> caption tokens (rnnlab.text.tokenize, punctuation dropped) and a Vocab from the training
   captions (words seen fewer than min_freq times -> <unk>)
-> batches of images with all their captions: images (B, 3, S, S), image_index (N,), <bos> y,
   y <eos> (N, T); training images mirrored at random
-> Captioner (CNN encoder, LSTM decoder, with or without attention) -> Trainer (dev greedy
   BLEU-4 picks the best epoch; checkpoints; --resume; --max-minutes) -> runs/NAME/
-> BLEU-1..4 of the saved model on dev and test, every image against all its references.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset

from rnnlab import saved
from rnnlab.data.captioning import CaptionSet, flip_images, load_captioning
from rnnlab.models.caption import CaptionBatch, CaptionConfig, Captioner, caption_bleu
from rnnlab.models.caption import caption_tokens as tokens_of
from rnnlab.text import Vocab, bucket_loader, pad_batch
from rnnlab.text.vocab import check_max_size
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.files import atomic_write_text

__all__ = [
    "CaptionDataset",
    "CaptionJob",
    "CaptionResult",
    "caption_loader",
    "collate_captions",
    "evaluate_captions",
    "nearest_captions",
    "train_caption",
]

logger = logging.getLogger(__name__)


@dataclass
class CaptionJob:
    """Everything ``rnnlab train caption`` takes."""

    data: str = "flickr8k"  # a registered dataset, a caption file, or a folder with captions.txt
    images: str | None = None  # the image folder or tar of a caption file
    out: str = "runs/caption"
    min_freq: int = 5  # rarer words become <unk>
    max_vocab: int | None = None
    max_train_len: int = 25  # training captions longer than this (in tokens) are left out
    batch_size: int = 32  # images per batch, each with all its captions
    flip: bool = True  # mirror training images left-right at random
    beam: int = 3  # for the final BLEU (1: greedy)
    max_len: int = 30  # most tokens of a generated caption
    eval_splits: tuple[str, ...] = ("dev", "test")
    monitor_images: int = 500  # the first this many dev images pick the best epoch (greedy)
    held_out: float = 0.1  # of a caption file's images, held out as dev and again as test
    model: CaptionConfig | None = None  # the vocabulary size is filled in from the data
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        lr=1e-3, clip_norm=5.0, monitor="bleu4", mode="max"))  # fmt: skip
    resume: bool = False

    def __post_init__(self) -> None:
        for name in (
            "min_freq",
            "max_train_len",
            "batch_size",
            "beam",
            "max_len",
            "monitor_images",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        check_max_size(self.max_vocab, "max_vocab")
        if not 0.0 < self.held_out < 0.5:
            raise ValueError(f"held_out must be in (0, 0.5), got {self.held_out!r}")


@dataclass
class CaptionResult:
    model: Captioner
    history: list[dict]
    scores: dict[str, dict]  # split -> {"bleu1".."bleu4", "images", "seconds", "decoding"}
    budget_spent: bool = False


class CaptionDataset(Dataset):
    """Images and their captions as id lists: item i is ``(image (3, S, S) uint8, [ids, ...])``.
    With ``max_len``, longer captions are left out (an image keeps at least its shortest)."""

    def __init__(self, data: CaptionSet, vocab: Vocab, max_len: int | None = None) -> None:
        self.images = data.images
        self.captions = []
        for caps in data.captions:
            ids = [vocab.encode(t) for t in (tokens_of(c) for c in caps) if t]
            if not ids:
                raise ValueError("an image has no caption with a word in it")
            kept = [c for c in ids if max_len is None or len(c) <= max_len]
            self.captions.append(kept or [min(ids, key=len)])

    def __len__(self) -> int:
        return len(self.captions)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, list[list[int]]]:
        return self.images[i], self.captions[i]


def collate_captions(items: Sequence[tuple[torch.Tensor, list[list[int]]]],
                     flip: bool = False) -> CaptionBatch:  # fmt: skip
    """B images with their captions -> a :class:`CaptionBatch`; ``flip``: mirror each image
    left-right with probability 1/2 (torch's global generator, which the trainer seeds)."""
    images = torch.stack([img for img, _ in items])  # (B, 3, S, S)
    if flip:
        images = flip_images(images)
    caps = [(b, c) for b, (_, cs) in enumerate(items) for c in cs]
    image_index = torch.tensor([b for b, _ in caps], dtype=torch.long)  # (N,)
    tgt_in, _ = pad_batch([[Vocab.bos_id, *c] for _, c in caps])  # (N, T)
    tgt_out, _ = pad_batch([[*c, Vocab.eos_id] for _, c in caps])  # (N, T)
    return CaptionBatch(images, image_index, tgt_in, tgt_out)


def caption_loader(dataset: CaptionDataset, batch_size: int, train: bool = False,
                   seed: int = 0, flip: bool = False):  # fmt: skip
    """Training: images in a random order reseeded per epoch (the trainer sets the epoch);
    otherwise in order."""
    if len(dataset) == 0:
        raise ValueError("no images to batch")

    def collate(items):
        return collate_captions(items, flip=flip and train)

    return bucket_loader(dataset, batch_size, collate, train=train, seed=seed,
                         lengths=[0] * len(dataset))  # fmt: skip


def evaluate_captions(model: Captioner, data: CaptionSet, beam: int = 3, max_len: int = 30,
                      batch_size: int = 100, alpha: float = 0.0) -> dict:  # fmt: skip
    """BLEU-1..4 of the model's captions of ``data``'s images against all their references.

    Returns:
        ``bleu1`` .. ``bleu4`` (0-1), ``images``, ``decoding``, ``seconds``, ``captions`` (the
        generated text per image).
    """
    start = time.perf_counter()
    caps = model.caption(data.images, beam, max_len, batch_size, alpha)
    seconds = time.perf_counter() - start
    hyps = [c.text for c in caps]
    decoding = "greedy" if beam == 1 else f"beam {beam}" + (f", alpha {alpha:g}" if alpha else "")
    return {**caption_bleu(hyps, data.captions), "images": len(hyps), "decoding": decoding,
            "seconds": round(seconds, 2), "captions": hyps}  # fmt: skip


@torch.no_grad()
def nearest_captions(model: Captioner, train: CaptionSet, query: CaptionSet,
                     batch_size: int = 200) -> list[str]:  # fmt: skip
    """The bag-of-captions baseline: for each query image, the training image nearest by the
    encoder's mean feature (cosine), and of its captions the one that agrees best with the
    other ones (the highest BLEU-4 against them: its consensus caption)."""
    from rnnlab.metrics.bleu import sentence_bleu

    model.eval()

    def features(images: torch.Tensor) -> torch.Tensor:
        out = [
            model.encode(images[i : i + batch_size]).mean for i in range(0, len(images), batch_size)
        ]
        return torch.nn.functional.normalize(torch.cat(out), dim=1)  # (N, D)

    nearest = (features(query.images) @ features(train.images).T).argmax(dim=1).tolist()
    consensus = {}
    for j in set(nearest):
        caps = train.captions[j]
        if len(caps) == 1:
            consensus[j] = caps[0]
            continue
        scores = [sentence_bleu(c, caps[:k] + caps[k + 1 :], lowercase=True).score
                  for k, c in enumerate(caps)]  # fmt: skip
        consensus[j] = caps[max(range(len(caps)), key=scores.__getitem__)]
    return [consensus[j] for j in nearest]


def build_model(job: CaptionJob, train: CaptionSet) -> Captioner:
    """A vocabulary of the training captions and a fresh model (seeded by the trainer's seed)."""
    vocab = Vocab.build([tokens_of(c) for caps in train.captions for c in caps], job.max_vocab,
                        job.min_freq)  # fmt: skip
    base = job.model or CaptionConfig(1)
    config = CaptionConfig(**{**asdict(base), "vocab_size": len(vocab)})
    seed_everything(job.train.seed)
    return Captioner(config, vocab)


def train_caption(job: CaptionJob) -> CaptionResult:
    """Train on ``job``'s data, keep the best dev epoch (greedy BLEU-4), save to ``job.out``,
    score BLEU-1..4 on the eval splits.

    With ``train.max_minutes`` the run stops once that much training time is spent (a checkpoint
    is saved; ``resume`` goes on with a fresh budget).
    """
    size = (job.model or CaptionConfig(1)).image_size
    splits = load_captioning(job.data, ("train", "dev", *[s for s in job.eval_splits
                                                          if s not in ("train", "dev")]),
                             size, job.images, job.held_out, job.train.seed)  # fmt: skip
    model = build_model(job, splits["train"])
    train_set = CaptionDataset(splits["train"], model.vocab, job.max_train_len)
    logger.info("%d training images, %d captions, vocabulary %d, %d parameters",
                len(train_set), sum(len(c) for c in train_set.captions), len(model.vocab),
                sum(p.numel() for p in model.parameters()))  # fmt: skip
    run = {"data": job.data, "batch_size": job.batch_size, "max_train_len": job.max_train_len,
           "flip": job.flip, "held_out": job.held_out, "seed": job.train.seed}  # fmt: skip
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    train_loader = caption_loader(train_set, job.batch_size, train=True, seed=job.train.seed,
                                  flip=job.flip)  # fmt: skip
    dev = splits["dev"].subset(range(min(job.monitor_images, len(splits["dev"]))))
    dev_loader = caption_loader(CaptionDataset(dev, model.vocab), 100)
    trainer = Trainer(model, job.train, job.out)
    history = trainer.fit(train_loader, dev_loader, resume=job.resume)
    model.eval()
    scores = {}
    for name in job.eval_splits:
        result = evaluate_captions(model, splits[name], job.beam, job.max_len)
        scores[name] = {k: v for k, v in result.items() if k != "captions"}
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return CaptionResult(model, history, scores, trainer.budget_spent)
