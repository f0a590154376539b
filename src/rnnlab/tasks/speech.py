"""Speech end to end: WAV recordings in, a saved model directory out.

classify (many-to-one):  FSDD or a folder of ``<label>_<speaker>_<index>.wav`` -> split by
    index (FSDD's official split: index 0-4 test) or by speaker (``test_speakers``) -> a seeded
    10% of the training recordings for dev -> waveforms at the model's rate, augmented in
    training (speed perturbation, a random offset, light noise; SpecAugment in the model)
    -> SpeechModel (log-mel -> BiLSTM -> pooled -> softmax) -> Trainer -> runs/NAME/
ctc (many-to-many, unaligned): strings of 1-7 digits made by concatenating recordings with
    short silences and light noise (rnnlab.data.speech.DigitStrings): training strings from the
    training recordings, new ones every epoch; dev and test strings fixed by their seeds, test
    strings from the TEST recordings only -> SpeechModel (log-mel -> BiLSTM -> CTC) -> Trainer.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from rnnlab import audio, saved
from rnnlab.data.speech import (
    DigitStrings,
    Utterance,
    label_names,
    load_speech_folder,
    speech_folder,
    speech_names,
    split_utterances,
)
from rnnlab.errors import InputError
from rnnlab.metrics import confusion_matrix, error_rate, sequence_accuracy
from rnnlab.models.ctc import ctc_greedy_decode, ctc_prefix_beam_search
from rnnlab.models.speech import DIGIT_WORDS, SpeechConfig, SpeechModel
from rnnlab.text import bucket_loader
from rnnlab.text.batching import BucketBatchSampler
from rnnlab.train import TrainConfig, Trainer, seed_everything
from rnnlab.train.files import atomic_write_text

logger = logging.getLogger(__name__)

ALPHABETS = ("digits", "chars")
CHARS = sorted(set("".join(DIGIT_WORDS))) + [" "]  # the letters of "zero".."nine", and space


@dataclass
class SpeechJob:
    """Everything ``rnnlab train speech`` takes."""

    data: str = "fsdd"  # a registered dataset (fsdd) or a folder of <label>_<speaker>_<i>.wav
    out: str = "runs/speech"
    objective: str = "classify"  # "classify" (one label per recording) or "ctc" (digit strings)
    test_speakers: tuple[str, ...] = ()  # leave these speakers out; else split by index
    test_index: tuple[int, int] = (0, 4)  # recordings with index in [a, b] are test (FSDD's)
    dev_fraction: float = 0.1  # of the training recordings, seeded, for model selection
    alphabet: str = "digits"  # ctc: one symbol per digit, or the letters of the digit names
    min_digits: int = 1  # ctc: string lengths
    max_digits: int = 7
    train_strings: int = 4000  # ctc: training strings per epoch (new ones each epoch)
    eval_strings: int = 500  # ctc: dev and test strings (fixed by their seeds)
    # training speed factors (pitch and tempo together); () for none
    speed_perturb: tuple[float, ...] = (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)
    noise_db: float = 30.0  # training: Gaussian noise this many dB below the signal (0: none)
    batch_size: int = 32
    model: SpeechConfig | None = None  # num_outputs is filled in from the data
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(monitor="accuracy", mode="max", clip_norm=5.0)
    )
    resume: bool = False

    def __post_init__(self) -> None:
        if self.objective not in ("classify", "ctc"):
            raise ValueError(f"objective must be 'classify' or 'ctc', got {self.objective!r}")
        if self.alphabet not in ALPHABETS:
            raise ValueError(f"alphabet must be one of {ALPHABETS}, got {self.alphabet!r}")
        for name in ("batch_size", "min_digits", "max_digits", "train_strings", "eval_strings"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits ({self.min_digits}) > max_digits ({self.max_digits})")
        if not 0.0 < self.dev_fraction < 1.0:
            raise ValueError(f"dev_fraction must be in (0, 1), got {self.dev_fraction!r}")
        if any(not 0.5 <= f <= 2.0 for f in self.speed_perturb):
            raise ValueError(f"speed factors must be in [0.5, 2], got {self.speed_perturb}")
        if self.noise_db < 0:
            raise ValueError(f"noise_db must be >= 0 (0: no noise), got {self.noise_db}")


@dataclass
class SpeechResult:
    model: SpeechModel
    history: list[dict]
    scores: dict[str, dict]  # split -> {"loss", "accuracy"[, "error_rate"]}
    budget_spent: bool = False


# ---- data ------------------------------------------------------------------------------------
def speech_splits(job: SpeechJob) -> dict[str, list[Utterance]]:
    """``{"train", "dev", "test"}`` recordings of ``job.data``: test by speaker or by index,
    dev a seeded ``dev_fraction`` of the rest.

    Raises:
        InputError: a split comes out empty (e.g. test speakers that are not in the data).
    """
    folder = speech_folder(job.data) if job.data in speech_names() else job.data
    utts = load_speech_folder(folder)
    a, b = job.test_index
    train, test = split_utterances(utts, test_speakers=job.test_speakers or None,
                                   test_index=range(a, b + 1))  # fmt: skip
    order = list(range(len(train)))
    random.Random(job.train.seed).shuffle(order)
    n_dev = max(1, round(job.dev_fraction * len(train)))
    dev_ids = set(order[:n_dev])
    splits = {"train": [u for i, u in enumerate(train) if i not in dev_ids],
              "dev": [u for i, u in enumerate(train) if i in dev_ids], "test": test}  # fmt: skip
    for name, split in splits.items():
        if not split:
            raise InputError(
                f"{job.data}: the {name} split is empty (test speakers "
                f"{', '.join(job.test_speakers) or '-'}, test index {job.test_index})"
            )
    return splits


class Waves:
    """Recordings read once, at the model's rate: ``waves[i]`` (N_i,) float32."""

    def __init__(self, utterances: Sequence[Utterance], rate: int) -> None:
        self.utterances = list(utterances)
        self.waves = [audio.load_audio(u.path, rate=rate) for u in self.utterances]

    def __len__(self) -> int:
        return len(self.waves)


def perturb(wave: torch.Tensor, rate: int, speeds: Sequence[float], noise_db: float,
            max_offset: int) -> torch.Tensor:  # fmt: skip
    """Training augmentation of one recording (N,), from torch's global RNG (restored exactly on
    resume): speed perturbation (Ko et al. 2015: resampled so it plays ``s`` times as fast,
    pitch and tempo together), a random offset of up to ``max_offset`` samples of silence in
    front, and Gaussian noise ``noise_db`` dB below the recording's power."""
    if speeds:
        s = speeds[int(torch.randint(len(speeds), ()))]
        if s != 1.0:
            # plays s times as fast: N/s samples; the rate is rounded to 100 Hz steps so the
            # polyphase ratio stays small
            new = max(100, round(rate / s / 100) * 100)
            wave = audio.resample(wave, rate, new)
    if max_offset > 0:
        wave = torch.cat([wave.new_zeros(int(torch.randint(max_offset + 1, ()))), wave])
    if noise_db > 0:
        power = wave.pow(2).mean().clamp_min(1e-10)
        # sigma^2 = P_signal / 10^(SNR/10)
        wave = wave + torch.randn_like(wave) * (power / 10 ** (noise_db / 10)).sqrt()
    return wave


class RecordingSet(torch.utils.data.Dataset):
    """(wave (N,), class id) per recording, perturbed when ``train``."""

    def __init__(self, waves: Waves, label_ids: list[int], rate: int, job: SpeechJob | None,
                 train: bool) -> None:  # fmt: skip
        self.waves, self.label_ids, self.rate = waves, label_ids, rate
        self.job, self.train = job, train
        self.lengths = [len(w) for w in waves.waves]

    def __len__(self) -> int:
        return len(self.label_ids)

    def __getitem__(self, i: int):
        wave = self.waves.waves[i]
        if self.train and self.job is not None:
            wave = perturb(wave, self.rate, self.job.speed_perturb, self.job.noise_db,
                           max_offset=self.rate // 10)  # fmt: skip
        return wave, self.label_ids[i]


class StringSet(torch.utils.data.Dataset):
    """(wave (N,), symbol ids) per synthetic digit string of :class:`DigitStrings`; the strings
    are drawn from ``seed`` (+ the epoch, after :meth:`set_epoch`: new strings every epoch)."""

    def __init__(self, waves: Waves, model: SpeechModel, job: SpeechJob, count: int, seed: int,
                 train: bool) -> None:  # fmt: skip
        self.waves, self.model, self.job = waves, model, job
        self.count, self.seed, self.train = count, seed, train
        self.by_path = dict(zip((u.path for u in waves.utterances), waves.waves, strict=True))
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Draw the strings of ``epoch``."""
        job = self.job
        self.strings = DigitStrings(self.waves.utterances, load=self.by_path.__getitem__,
                                    size=self.count, rate=self.model.config.sample_rate,
                                    min_digits=job.min_digits, max_digits=job.max_digits,
                                    seed=self.seed + 7919 * epoch)  # fmt: skip
        self.lengths = []  # (N,) samples of each string, from its plan alone
        for i in range(self.count):
            chosen, gaps, _ = self.strings.plan(i)
            self.lengths.append(sum(len(self.by_path[u.path]) for u in chosen) + sum(gaps))

    def __len__(self) -> int:
        return len(self.strings)

    def __getitem__(self, i: int):
        wave, labels = self.strings[i]
        if self.train and self.job.speed_perturb:
            rate = self.model.config.sample_rate
            wave = perturb(wave, rate, self.job.speed_perturb, 0.0, max_offset=0)
        return wave, symbol_ids(self.model, [int(d) for d in labels])


class EpochBuckets:
    """The batch sampler of a training :class:`StringSet`: each epoch (``set_epoch``, which the
    trainer calls) draws the epoch's strings, then batches strings of similar length
    (:class:`~rnnlab.text.batching.BucketBatchSampler`), so resuming stays exact."""

    def __init__(self, dataset: StringSet, batch_size: int, seed: int) -> None:
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)
        self.inner = BucketBatchSampler(self.dataset.lengths, self.batch_size, seed=self.seed)
        self.inner.set_epoch(epoch)

    def __iter__(self):
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)


def collate(batch):
    """``[(wave (N_i,), target)]`` -> (waves (B, N) zero-padded, num_samples (B,), targets):
    class ids (B,), or (symbol ids (sum L,), label lengths (B,)) for symbol sequences."""
    waves = [w for w, _ in batch]
    num_samples = torch.tensor([len(w) for w in waves])
    padded = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True)  # (B, N)
    targets = [t for _, t in batch]
    if isinstance(targets[0], int):
        return padded, num_samples, torch.tensor(targets)
    lengths = torch.tensor([len(t) for t in targets])
    flat = torch.tensor([s for t in targets for s in t], dtype=torch.long)  # (sum L,)
    return padded, num_samples, (flat, lengths)


def alphabet_symbols(alphabet: str) -> list[str]:
    """The CTC output symbols after the blank."""
    return [str(d) for d in range(10)] if alphabet == "digits" else list(CHARS)


def symbol_ids(model: SpeechModel, digits: Sequence[int]) -> list[int]:
    """A digit string as the model's output ids (>= 1): one per digit, or the letters of the
    digit names separated by spaces."""
    index = {s: i + 1 for i, s in enumerate(model.labels)}
    if model.labels[0] == "0":
        return [index[str(d)] for d in digits]
    return [index[ch] for ch in " ".join(DIGIT_WORDS[d] for d in digits)]


def string_set(model: SpeechModel, waves: Waves, job: SpeechJob, count: int, seed: int,
               train: bool) -> StringSet:  # fmt: skip
    """``count`` digit strings made from ``waves``' recordings (labels must be digits)."""
    for u in waves.utterances:
        if not (len(u.label) == 1 and u.label.isdigit()):
            raise InputError(f"digit strings need recordings of single digits; {u.path} is "
                             f"labelled {u.label!r}")  # fmt: skip
    return StringSet(waves, model, job, count, seed, train)


def string_seed(seed: int, split: str) -> int:
    """The seed of a split's digit strings (the test strings of a run are fixed by its seed)."""
    return 1000 * seed + 17 * ("train", "dev", "test").index(split)


def loaders(model: SpeechModel, splits: dict[str, list[Utterance]], job: SpeechJob):
    """The training, dev and test loaders of ``job`` for ``model``."""
    rate = model.config.sample_rate
    waves = {name: Waves(utts, rate) for name, utts in splits.items()}
    out = {}
    for name, w in waves.items():
        train = name == "train"
        if job.objective == "classify":
            index = {label: k for k, label in enumerate(model.labels)}
            unknown = sorted({u.label for u in w.utterances} - set(index))
            if unknown:
                raise InputError(f"the {name} recordings have labels the model does not know: "
                                 f"{unknown[:5]} (it knows {', '.join(model.labels)})")  # fmt: skip
            ds = RecordingSet(w, [index[u.label] for u in w.utterances], rate, job, train)
        else:
            count = job.train_strings if train else job.eval_strings
            ds = string_set(model, w, job, count, string_seed(job.train.seed, name), train)
            if train:  # new strings every epoch
                sampler = EpochBuckets(ds, job.batch_size, seed=job.train.seed)
                out[name] = torch.utils.data.DataLoader(ds, batch_sampler=sampler,
                                                        collate_fn=collate)  # fmt: skip
                continue
        out[name] = bucket_loader(ds, job.batch_size, collate, train=train, seed=job.train.seed)
    return out


# ---- training --------------------------------------------------------------------------------
def train_speech(job: SpeechJob) -> SpeechResult:
    """Train on ``job.data``, keep the best dev epoch, save to ``job.out``, score dev and test."""
    splits = speech_splits(job)
    base = job.model or SpeechConfig(num_outputs=2)
    if job.objective == "classify":
        labels = label_names(splits["train"])
        if len(labels) < 2:
            raise InputError(f"{job.data}: the training recordings have one label ({labels[0]})")
        num_outputs = len(labels)
    else:
        labels = alphabet_symbols(job.alphabet)
        num_outputs = len(labels) + 1  # the blank is symbol 0
    config = SpeechConfig(**{**asdict(base), "num_outputs": num_outputs,
                             "objective": job.objective})  # fmt: skip
    seed_everything(job.train.seed)
    model = SpeechModel(config, labels)
    run = {"data": job.data, "test_speakers": list(job.test_speakers),
           "test_index": list(job.test_index), "dev_fraction": job.dev_fraction,
           "batch_size": job.batch_size, "seed": job.train.seed, "min_digits": job.min_digits,
           "max_digits": job.max_digits, "train_strings": job.train_strings,
           "eval_strings": job.eval_strings, "speed_perturb": list(job.speed_perturb),
           "noise_db": job.noise_db}  # fmt: skip
    if job.resume:
        saved.check_same_run(model, job.out, run)
    else:
        saved.save_config(model, job.out, run)
    logger.info("%s: %d train / %d dev / %d test recordings, %d parameters", job.data,
                len(splits["train"]), len(splits["dev"]), len(splits["test"]),
                sum(p.numel() for p in model.parameters()))  # fmt: skip
    data = loaders(model, splits, job)
    trainer = Trainer(model, job.train, job.out)
    history = trainer.fit(data["train"], data["dev"], resume=job.resume)
    model.eval()
    scores = {}
    with torch.no_grad():
        for name in ("dev", "test"):
            scores[name] = model.evaluate(data[name])
    atomic_write_text(Path(job.out, "scores.json"), json.dumps(scores, indent=2))
    return SpeechResult(model, history, scores, trainer.budget_spent)


# ---- evaluation ------------------------------------------------------------------------------
def evaluate_recordings(model: SpeechModel, utterances: Sequence[Utterance], batch_size: int = 32):
    """Accuracy and the confusion matrix (C, C) (rows gold, columns predicted) of a classifying
    model on ``utterances``."""
    index = {label: k for k, label in enumerate(model.labels)}
    unknown = sorted({u.label for u in utterances} - set(index))
    if unknown:
        raise InputError(f"recordings with labels the model does not know: {unknown[:5]} (it "
                         f"knows {', '.join(model.labels)})")  # fmt: skip
    waves = Waves(utterances, model.config.sample_rate)
    ds = RecordingSet(waves, [index[u.label] for u in utterances], model.config.sample_rate,
                      None, train=False)  # fmt: skip
    preds, gold = [], []
    model.eval()
    with torch.no_grad():
        for w, n, y in bucket_loader(ds, batch_size, collate):
            preds.append(model(w, n).argmax(-1))
            gold.append(y)
    p, g = torch.cat(preds), torch.cat(gold)
    return float((p == g).float().mean()), confusion_matrix(p, g, num_classes=len(model.labels))


def evaluate_strings(model: SpeechModel, utterances: Sequence[Utterance], job: SpeechJob,
                     count: int, seed: int, beam: int = 1,
                     batch_size: int = 32) -> dict:  # fmt: skip
    """Symbol error rate, digit error rate and whole-string accuracy of a CTC model on
    ``count`` digit strings made from ``utterances`` (greedy decoding, or prefix beam search
    with ``beam`` > 1)."""
    ds = string_set(model, Waves(utterances, model.config.sample_rate), job, count, seed,
                    train=False)  # fmt: skip
    refs, hyps, digit_refs, digit_hyps = [], [], [], []
    model.eval()
    with torch.no_grad():
        for w, n, (flat, lengths) in bucket_loader(ds, batch_size, collate):
            log_probs, frames = model(w, n)
            if beam > 1:
                out = [ctc_prefix_beam_search(lp[:t], beam=beam, blank=0)[0][0]
                       for lp, t in zip(log_probs, frames.tolist(), strict=True)]  # fmt: skip
            else:
                out = ctc_greedy_decode(log_probs, frames, blank=0)
            for ref, hyp in zip(flat.split(lengths.tolist()), out, strict=True):
                ref, hyp = tuple(int(v) for v in ref), tuple(int(v) for v in hyp)
                refs.append(ref)
                hyps.append(hyp)
                digit_refs.append(tuple(model.symbols_to_text(ref)[1]))
                digit_hyps.append(tuple(model.symbols_to_text(hyp)[1]))
    return {"strings": len(refs), "symbol_error_rate": error_rate(refs, hyps),
            "digit_error_rate": error_rate(digit_refs, digit_hyps),
            "accuracy": sequence_accuracy(digit_refs, digit_hyps)}  # fmt: skip


def job_of_run(model_dir: str, data: str | None = None) -> SpeechJob:
    """The :class:`SpeechJob` a saved run was trained with (its data split and string settings,
    from ``run.json``), optionally on other ``data``."""
    path = Path(model_dir, saved.RUN)
    run = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return SpeechJob(
        data=data or run.get("data", "fsdd"), test_speakers=tuple(run.get("test_speakers", ())),
        test_index=tuple(run.get("test_index", (0, 4))),
        dev_fraction=run.get("dev_fraction", 0.1), min_digits=run.get("min_digits", 1),
        max_digits=run.get("max_digits", 7), eval_strings=run.get("eval_strings", 500),
        train=TrainConfig(seed=run.get("seed", 0)),
        objective="classify",
    )  # fmt: skip


def frames_per_second(model: SpeechModel) -> float:
    """Output frames per second of audio (after stacking)."""
    return 1000.0 / (model.config.hop_ms * model.config.stack)


__all__ = [
    "SpeechJob",
    "SpeechResult",
    "evaluate_recordings",
    "evaluate_strings",
    "frames_per_second",
    "job_of_run",
    "speech_splits",
    "string_seed",
    "train_speech",
]
