"""Train word2vec (skip-gram or CBOW, negative sampling) on a corpus streamed from disk.

    job = EmbeddingsJob(data="imdb", out="runs/imdb_w2v", model=Word2VecConfig(dim=100))
    result = train_embeddings(job)  # result.model.keyed_vectors().analogy("man", "woman", "king")

The corpus (a registered corpus' training split, or a text file of one sentence or document per
line) is read twice before training, never held whole: once to count the words, once to write
the word ids of the kept vocabulary to ``OUT/corpus.ids`` (int32, -1 between sentences). Each
epoch then streams that file in chunks of about ``chunk_words`` words, cut at sentence ends, and
hands each chunk to :func:`rnnlab.nn.sgns.train_chunk`. The learning rate falls linearly from
``alpha`` to ``min_alpha`` over all epochs' words (each chunk gets its slice of the line); every
chunk's random draws come from (seed, epoch, chunk), so a resumed run replays the same draws
(bit for bit with one thread; Hogwild threads update in a racy order, as word2vec.c's do).

Written to ``out``: config.json, words.json, model.safetensors (after each epoch and at the end),
metrics.jsonl (one record per epoch: loss per scored word, words/s), learning_curve.png, and
``checkpoint/`` (the matrices and the position reached, every ``checkpoint_minutes`` and on
Ctrl-C or a spent ``max_minutes`` budget). ``resume=True`` continues from it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from rnnlab.errors import DivergedError, InputError, MissingFileError
from rnnlab.models.word2vec import Word2Vec, Word2VecConfig
from rnnlab.nn import sgns
from rnnlab.text.tokenize import tokenize
from rnnlab.train import CheckpointError, epoch_seed, load_weights, save_weights, seed_everything
from rnnlab.train.files import atomic_write_text, sha256_file
from rnnlab.train.interrupts import DeferredInterrupt
from rnnlab.train.metrics_log import read_records, write_records

__all__ = ["EmbeddingsJob", "EmbeddingsResult", "sentences", "train_embeddings"]

logger = logging.getLogger(__name__)

IDS = "corpus.ids"
TOKENIZERS = ("word", "whitespace")


@dataclass
class EmbeddingsJob:
    """One word2vec run: the corpus, the model, the schedule, where to write."""

    data: str = "imdb"  # a registered corpus (imdb, ptb, ...) or a text file, a sentence a line
    out: str = "runs/embeddings"
    model: Word2VecConfig = field(default_factory=Word2VecConfig)
    tokenizer: str = "word"  # a text file's: rnnlab's word tokenizer, or "whitespace"
    epochs: int = 5
    seed: int = 0
    engine: str = "auto"  # rnnlab.nn.sgns engines: auto, native, torch
    threads: int = 0  # the native engine's Hogwild threads; 0: torch.get_num_threads()
    chunk_words: int = 1_000_000  # words per chunk handed to the engine
    checkpoint_minutes: float = 2.0  # a checkpoint at least this often (and every epoch)
    max_minutes: float | None = None  # stop (with a checkpoint) after this much training
    progress: bool = True
    resume: bool = False

    def __post_init__(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {self.tokenizer!r}")
        if self.epochs < 1 or self.chunk_words < 1 or self.threads < 0:
            raise ValueError(f"epochs and chunk_words must be >= 1 and threads >= 0, got "
                             f"{self.epochs}, {self.chunk_words}, {self.threads}")  # fmt: skip
        if self.engine not in sgns.ENGINES:
            raise ValueError(f"engine must be one of {sgns.ENGINES}, got {self.engine!r}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"max_minutes must be > 0, got {self.max_minutes}")

    def run_settings(self) -> dict:
        """What a resumed run must share with the original (run.json)."""
        return {"data": self.data, "tokenizer": self.tokenizer, "epochs": self.epochs,
                "seed": self.seed, "chunk_words": self.chunk_words}  # fmt: skip


@dataclass
class EmbeddingsResult:
    model: Word2Vec
    history: list[dict]
    words: int  # corpus words per epoch (all, before min_count)
    seconds: float  # training time of this call (counting and encoding not included)
    words_per_second: float  # corpus words trained on per second of that time
    budget_spent: bool = False


# ---- the corpus -----------------------------------------------------------------------------


def sentences(data: str, tokenizer: str = "word", progress: bool = False) -> Iterator[list[str]]:
    """The sentences (token lists) of ``data``: a registered corpus' training split, or a text
    file read line by line (blank lines skipped).

    Raises:
        MissingFileError: neither a corpus name nor a file. InputError: a file that is not UTF-8.
    """
    from rnnlab import data as datasets

    if data in datasets.corpus_names():
        corpus = datasets.load_corpus(data, "train", level="word", progress=progress)
        yield from (line for line in corpus.lines if line)
        return
    path = Path(data)
    if not path.is_file():
        names = ", ".join(datasets.corpus_names())
        raise MissingFileError(f"{data!r} is neither a corpus ({names}) nor a text file")
    with open(path, encoding="utf-8") as f:
        try:
            for line in f:
                if line.strip():
                    yield line.split() if tokenizer == "whitespace" else tokenize(line)
        except UnicodeDecodeError as e:
            raise InputError(f"{path} is not UTF-8 text ({e.reason})") from None


def count_words(data: str, tokenizer: str) -> tuple[Counter, int]:
    """(word counts, corpus words) of ``data``."""
    counts: Counter = Counter()
    total = 0
    for sent in sentences(data, tokenizer):
        counts.update(sent)
        total += len(sent)
    if total == 0:
        raise InputError(f"{data} holds no words")
    return counts, total


def vocabulary(counts: Counter, config: Word2VecConfig) -> tuple[list[str], list[int]]:
    """The words seen at least ``min_count`` times (at most ``max_vocab``), most frequent first,
    ties in first-seen order, and their counts."""
    kept = [(w, c) for w, c in counts.most_common() if c >= config.min_count][: config.max_vocab]
    if not kept:
        raise InputError(f"no word occurs {config.min_count} times or more: lower --min-count")
    return [w for w, _ in kept], [c for _, c in kept]


def encode_corpus(data: str, tokenizer: str, words: list[str], path: Path,
                  chunk_words: int) -> tuple[list[int], int]:  # fmt: skip
    """Write the ids of ``words`` in ``data`` to ``path`` (int32, -1 after each sentence; other
    words dropped). Returns the chunk boundaries (offsets into the file, at sentence ends, about
    ``chunk_words`` apart, first 0, last the length) and the corpus words (all, dropped too)."""
    index = {w: i for i, w in enumerate(words)}
    bounds, total, written = [0], 0, 0
    buffer: list[int] = []
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(tmp, "wb") as f:
        for sent in sentences(data, tokenizer):
            total += len(sent)
            ids = [i for i in map(index.get, sent) if i is not None]
            if not ids:
                continue
            buffer.extend(ids)
            buffer.append(-1)
            if len(buffer) >= 1 << 20:
                f.write(np.asarray(buffer, dtype=np.int32).tobytes())
                written, buffer = written + len(buffer), []
            if written + len(buffer) - bounds[-1] >= chunk_words:
                bounds.append(written + len(buffer))
        f.write(np.asarray(buffer, dtype=np.int32).tobytes())
        written += len(buffer)
    os.replace(tmp, path)
    if bounds[-1] != written:
        bounds.append(written)
    return bounds, total


# ---- the checkpoint ---------------------------------------------------------------------------


def _save_checkpoint(out: Path, model: Word2Vec, state: dict) -> None:
    """checkpoint/state.json (written last) naming checkpoint/model-<tag>.safetensors."""
    directory = out / "checkpoint"
    directory.mkdir(parents=True, exist_ok=True)
    name = f"model-{uuid.uuid4().hex[:8]}.safetensors"
    save_weights(model, directory / name)
    record = {"state": state, "model": name, "sha256": sha256_file(directory / name)}
    atomic_write_text(directory / "state.json", json.dumps(record, indent=1))
    for stale in directory.glob("model-*.safetensors"):
        if stale.name != name:
            stale.unlink(missing_ok=True)


def _load_checkpoint(out: Path, model: Word2Vec) -> dict:
    path = out / "checkpoint" / "state.json"
    if not path.is_file():
        raise MissingFileError(f"nothing to resume in {out}: {path} is missing")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        weights = out / "checkpoint" / record["model"]
        state = record["state"]
        if sha256_file(weights) != record["sha256"]:
            raise ValueError(f"{weights} does not match its SHA-256")
    except (ValueError, KeyError, TypeError, OSError) as e:
        raise CheckpointError(f"corrupt checkpoint {path}: {e}") from e
    load_weights(model, weights)
    return state


# ---- training ---------------------------------------------------------------------------------


def _build(job: EmbeddingsJob, out: Path) -> Word2Vec:
    """The model of a fresh run (vocabulary counted, weights seeded), or the run to resume."""
    from rnnlab import saved

    if job.resume:
        model = saved.load(out)
        if model.task != Word2Vec.task:
            raise InputError(f"cannot resume {out}: it holds a {model.task!r} model")
        model.train()
        saved.check_same_run(Word2Vec(job.model, model.words, model.counts), out,
                             job.run_settings())  # fmt: skip
        return model
    counts, _ = count_words(job.data, job.tokenizer)
    words, freq = vocabulary(counts, job.model)
    seed_everything(job.seed)
    model = Word2Vec(job.model, words, freq)
    # a fresh run replaces any earlier one: its checkpoint's commit record goes first, so that a
    # resume after a kill before this run's first checkpoint cannot pick up the earlier run
    (out / "checkpoint" / "state.json").unlink(missing_ok=True)
    saved.save_config(model, out, job.run_settings())
    return model


def train_embeddings(job: EmbeddingsJob) -> EmbeddingsResult:
    """Train (or resume) the run ``job`` describes; see the module docstring.

    Raises:
        MissingFileError, InputError: the corpus cannot be read, holds no word often enough,
        the run to resume is missing or was started with other settings, or it was started
        under torchrun (word2vec trains in one process). KeyboardInterrupt:
        Ctrl-C, after a checkpoint. DivergedError: a chunk's loss is NaN or infinite (nothing
        is saved: the last checkpoint stays).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # torchrun: each process would train alone
        raise InputError(
            "rnnlab train embeddings does not run under torchrun: it trains in one process on "
            "several threads (--threads); start it without torchrun"
        )
    out = Path(job.out)
    model = _build(job, out)
    logger.info("%d words in the vocabulary; encoding %s", len(model.words), job.data)
    bounds, corpus_words = encode_corpus(job.data, job.tokenizer, model.words, out / IDS,
                                         job.chunk_words)  # fmt: skip
    state = {"epoch": 0, "chunk": 0, "loss": 0.0, "updates": 0, "elapsed": 0.0}
    history: list[dict] = []
    if job.resume:
        state = _load_checkpoint(out, model)
        log = out / "metrics.jsonl"
        history = read_records(log) if log.exists() else []
        history = [r for r in history if r["epoch"] <= state["epoch"]]
        write_records(log, history)
    elif (out / "metrics.jsonl").exists():
        (out / "metrics.jsonl").unlink()
    ids = np.memmap(out / IDS, dtype=np.int32, mode="r") if bounds[-1] else np.zeros(0, np.int32)
    n_chunks, per_epoch = len(bounds) - 1, bounds[-1]
    keep, table = model.keep_probability(), model.noise_table()
    threads = job.threads or torch.get_num_threads()
    engine = sgns.resolve_engine(job.engine)
    c = job.model
    total = job.epochs * per_epoch

    def lr_at(position: int) -> float:
        # alpha falls linearly to min_alpha over every epoch's words
        return c.alpha - (c.alpha - c.min_alpha) * position / max(1, total)

    budget = None if job.max_minutes is None else job.max_minutes * 60.0
    spent, last_save = 0.0, time.perf_counter()
    done_words = 0  # corpus positions trained on in this call
    bar = tqdm(total=total, initial=state["epoch"] * per_epoch + bounds[state["chunk"]],
               unit="word", unit_scale=True, disable=not job.progress, desc="word2vec")  # fmt: skip
    budget_spent = False
    try:
        with DeferredInterrupt() as interrupt:
            while state["epoch"] < job.epochs:
                epoch, k = state["epoch"], state["chunk"]
                if k < n_chunks:
                    if budget is not None and spent >= budget:
                        budget_spent = True
                        break
                    lo, hi = bounds[k], bounds[k + 1]
                    t0 = time.perf_counter()
                    loss, updates = sgns.train_chunk(
                        model.w_in.data, model.w_out.data, torch.from_numpy(np.array(ids[lo:hi])),
                        keep, table, window=c.window, negative=c.negative,
                        cbow=c.architecture == "cbow", lr_start=lr_at(epoch * per_epoch + lo),
                        lr_end=lr_at(epoch * per_epoch + hi), seed=epoch_seed(job.seed, epoch, k),
                        engine=engine, threads=threads,
                    )  # fmt: skip
                    took = time.perf_counter() - t0
                    if not math.isfinite(loss):  # nothing saved: the last checkpoint stays
                        raise DivergedError(
                            f"the loss is {loss} in epoch {epoch + 1}, chunk {k + 1} of "
                            f"{n_chunks}: training stopped, nothing saved (the last checkpoint "
                            f"in {out / 'checkpoint'}, if any, is kept); lower --alpha"
                        )
                    spent += took
                    state.update(chunk=k + 1, loss=state["loss"] + loss,
                                 updates=state["updates"] + updates,
                                 elapsed=state["elapsed"] + took)  # fmt: skip
                    done_words += hi - lo
                    bar.update(hi - lo)
                    bar.set_postfix(loss=f"{state['loss'] / max(1, state['updates']):.3f}",
                                    lr=f"{lr_at(epoch * per_epoch + hi):.5f}")  # fmt: skip
                if state["chunk"] >= n_chunks:
                    history.append(_end_epoch(out, model, state, corpus_words, history))
                    state = {"epoch": epoch + 1, "chunk": 0, "loss": 0.0, "updates": 0,
                             "elapsed": 0.0}  # fmt: skip
                    _save_checkpoint(out, model, state)
                    last_save = time.perf_counter()
                elif time.perf_counter() - last_save >= job.checkpoint_minutes * 60:
                    _save_checkpoint(out, model, state)
                    last_save = time.perf_counter()
                if interrupt.requested:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        bar.close()
        _finish(out, model, state, history)
        raise
    bar.close()
    _finish(out, model, state, history)
    if not budget_spent:
        (out / IDS).unlink(missing_ok=True)
    # corpus words trained on (those below min_count too, as gensim counts them) per second
    words = done_words * corpus_words / max(1, per_epoch)
    rate = words / spent if spent > 0 else 0.0
    return EmbeddingsResult(model, history, corpus_words, spent, rate, budget_spent)


def _end_epoch(out: Path, model: Word2Vec, state: dict, corpus_words: int,
               history: list[dict]) -> dict:  # fmt: skip
    """The epoch's record, appended to metrics.jsonl; the weights written."""
    from rnnlab.train.metrics_log import append_record

    loss = state["loss"] / max(1, state["updates"])
    record = {"epoch": state["epoch"] + 1, "train_loss": loss,
              "words_per_second": corpus_words / state["elapsed"] if state["elapsed"] else math.nan,
              "seconds": state["elapsed"]}  # fmt: skip
    append_record(out / "metrics.jsonl", record)
    save_weights(model, out / "model.safetensors")
    return record


def _finish(out: Path, model: Word2Vec, state: dict, history: list[dict]) -> None:
    """At the end of a call (finished, stopped or interrupted): the checkpoint, the weights,
    and the learning curve of the finished epochs."""
    from rnnlab.train import plot_learning_curve

    _save_checkpoint(out, model, state)
    save_weights(model, out / "model.safetensors")
    if history:
        try:
            plot_learning_curve(history, out / "learning_curve.png")
        except Exception as e:  # noqa: BLE001 (a picture is not worth losing a run for)
            logger.warning("no learning curve: %s", e)
