"""Speech: a recording in, a digit out (many-to-one) or a digit string out with CTC (many-to-many,
unaligned).

Symbols: B batch, N samples, T frames, F features per frame, H hidden units, D directions,
C classes, V output symbols including the CTC blank (id 0).

    x      = features(wave)                      (T, F): MFCCs (or log-mel) every hop, from
                                                 rnnlab.audio, per recording (so a batch's
                                                 padding never changes a recording's frames)
    x      = (x - mean_t x) / std_t x            per-utterance mean/variance normalisation
    x      = SpecAugment(x)                      training only, if configured
    x'_t   = [x_{kt} ; ... ; x_{kt+k-1}]         (T/k, kF): k = ``stack`` frames side by side
    h_t    = BiLSTM/GRU(x'_1..x'_t)              stacked, bidirectional
    classify:  s = pool_t h_t                    (B, D*H): last / max / mean, or [last; max; mean]
               y = softmax(W dropout(s) + b)     (B, C)
    ctc:       y_t = log_softmax(W h_t + b)      (B, T', V), trained with CTC:
               -log p(l | x) = -log sum_{pi in B^-1(l)} prod_t y_t[pi_t]
               (B collapses repeats and drops blanks; Graves et al. 2006)

A batch is ``(waves (B, N) zero-padded, num_samples (B,), targets)`` with ``targets`` the class
ids (B,) for ``objective="classify"``, and for ``objective="ctc"`` a pair (labels (sum L,) of the
concatenated symbol ids >= 1, label_lengths (B,)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from rnnlab import audio
from rnnlab.errors import InputError
from rnnlab.metrics import accuracy, error_rate, sequence_accuracy
from rnnlab.models.ctc import ctc_greedy_decode, ctc_prefix_beam_search
from rnnlab.models.pooling import POOLINGS, pool, pooled_size

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}
OBJECTIVES = ("classify", "ctc")
FEATURES = ("logmel", "mfcc")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
BLANK = "<blank>"  # CTC's blank, output symbol 0
SILENCE_PEAK = 1e-4  # a recording whose every sample is below this (-80 dBFS) is silence


@dataclass
class SpeechConfig:
    """Architecture and front end of a :class:`SpeechModel`."""

    num_outputs: int  # classes (classify) or output symbols including the blank (ctc)
    objective: str = "classify"  # "classify": one class per recording; "ctc": a symbol string
    features: str = "mfcc"  # "mfcc" or "logmel" (MFCCs generalise better to unseen speakers)
    sample_rate: int = 8000  # every recording is resampled to this rate
    n_mels: int = 40
    n_mfcc: int = 20  # with features="mfcc"
    win_ms: float = 25.0
    hop_ms: float = 10.0
    stack: int = 1  # frames stacked side by side (and the frame rate divided) before the RNN
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.3  # on the input frames, between layers and before the output layer
    pooling: str = "concat"  # classify: how the frames' outputs become one vector
    spec_augment: dict = field(default_factory=dict)  # training masks: rnnlab.audio.spec_augment

    def __post_init__(self) -> None:
        for name in ("num_outputs", "sample_rate", "n_mels", "n_mfcc", "stack", "hidden_size",
                     "num_layers"):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.num_outputs < 2:
            raise ValueError(f"num_outputs must be >= 2, got {self.num_outputs}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, got {self.features!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {self.cell!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not (0 < self.hop_ms <= self.win_ms):
            raise ValueError(f"need 0 < hop_ms <= win_ms, got {self.hop_ms} and {self.win_ms}")
        if self.features == "mfcc" and self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc ({self.n_mfcc}) cannot exceed n_mels ({self.n_mels})")

    @property
    def win_length(self) -> int:
        return round(self.sample_rate * self.win_ms / 1000)

    @property
    def hop_length(self) -> int:
        return round(self.sample_rate * self.hop_ms / 1000)

    @property
    def n_fft(self) -> int:
        return 1 << (self.win_length - 1).bit_length()  # the next power of two >= the window

    @property
    def feature_dim(self) -> int:
        return self.n_mfcc if self.features == "mfcc" else self.n_mels


@dataclass
class Transcription:
    """What :meth:`SpeechModel.transcribe` says of one recording."""

    path: str
    text: str  # classify: the class name; ctc: the symbols ("4 0 7", or "four zero seven")
    digits: str  # the digits heard ("407"); the class name when it is not a digit
    probability: float  # classify: P(class); ctc: p(labelling | x), summed over its paths


class SpeechModel(nn.Module):
    """Audio features -> (stacked, bidirectional) RNN/LSTM/GRU -> a class or CTC posteriors.

    ``labels`` are the class names (classify) or the output symbols after the blank (ctc: the
    digits "0".."9", or the letters of "zero".."nine" and a space).
    """

    task = "speech"  # config.json's "task" (rnnlab.saved.MODELS)

    def __init__(self, config: SpeechConfig, labels: Sequence[str]) -> None:
        super().__init__()
        c = self.config = config
        self.labels = list(labels)
        want = c.num_outputs - (1 if c.objective == "ctc" else 0)
        if len(self.labels) != want:
            raise ValueError(f"{len(self.labels)} labels for num_outputs={c.num_outputs} "
                             f"({c.objective})")  # fmt: skip
        self.dropout = nn.Dropout(c.dropout)
        self.rnn = CELLS[c.cell](
            c.feature_dim * c.stack, c.hidden_size, num_layers=c.num_layers, batch_first=True,
            bidirectional=c.bidirectional, dropout=c.dropout if c.num_layers > 1 else 0.0,
        )  # fmt: skip
        features = c.hidden_size * (2 if c.bidirectional else 1)
        if c.objective == "classify":
            features = pooled_size(c.hidden_size, c.bidirectional, c.pooling)
        self.out = nn.Linear(features, c.num_outputs)

    # ---- front end ------------------------------------------------------------------------
    def features(self, waves: torch.Tensor, num_samples: torch.Tensor):
        """Normalised (and, training, masked) features of a padded batch of recordings.

        Args:
            waves: (B, N) float samples at ``config.sample_rate``, zero-padded on the right.
            num_samples: (B,) the real samples of each recording.

        Returns:
            x (B, T', F * stack) and lengths (B,) in stacked frames, T' = ceil(T / stack).
        """
        c = self.config
        feats = []
        for wave, n in zip(waves, num_samples.tolist(), strict=True):
            opts = {"n_fft": c.n_fft, "hop_length": c.hop_length, "win_length": c.win_length,
                    "n_mels": c.n_mels}  # fmt: skip
            if c.features == "mfcc":
                f = audio.mfcc(wave[:n], c.sample_rate, n_mfcc=c.n_mfcc, **opts)  # (T, F)
            else:
                f = audio.log_mel(wave[:n], c.sample_rate, **opts)  # (T, F)
            feats.append(audio.cmvn(f))  # (x - mean_t x) / std_t x
        lengths = torch.tensor([len(f) for f in feats])
        x = nn.utils.rnn.pad_sequence(feats, batch_first=True)  # (B, T, F)
        if self.training and c.spec_augment:
            # from torch's global generator, which the trainer's checkpoints restore
            x = audio.spec_augment(x, lengths, **c.spec_augment)
        k = c.stack
        if k > 1:
            B, T, Fd = x.shape
            pad = (-T) % k
            x = F.pad(x, (0, 0, 0, pad)).reshape(B, (T + pad) // k, k * Fd)  # (B, T/k, kF)
            lengths = (lengths + k - 1) // k
        return x, lengths

    def encode(self, waves: torch.Tensor, num_samples: torch.Tensor):
        """The top layer's outputs (B, T', D*H), the final state, and the frame lengths (B,)."""
        x, lengths = self.features(waves, num_samples)
        x = x.to(self.out.weight.device)
        out, state = self.rnn(self.dropout(x), lengths=lengths.to(x.device))
        return out, state, lengths.to(x.device)

    def forward(self, waves: torch.Tensor, num_samples: torch.Tensor):
        """classify: logits (B, C); ctc: log-probabilities (B, T', V) and lengths (B,)."""
        if waves.dim() != 2:
            raise ValueError(f"waves must be (B, N), got shape {tuple(waves.shape)}")
        out, state, lengths = self.encode(waves, num_samples)
        if self.config.objective == "ctc":
            # y_t = log_softmax(W h_t + b)
            return F.log_softmax(self.out(self.dropout(out)), dim=-1), lengths  # (B, T', V)
        return self.out(self.dropout(self._pool(out, state, lengths)))  # (B, C)

    def _pool(self, out, state, lengths) -> torch.Tensor:
        """One vector per recording (B, D*H) or (B, 3*D*H) from the outputs (B, T', D*H)."""
        return pool(out, state, lengths, self.config.pooling, self.config.bidirectional)

    # ---- training (rnnlab.train.protocol) --------------------------------------------------
    def loss(self, batch) -> torch.Tensor:
        """Cross-entropy (classify) or CTC loss (ctc, per target symbol, mean over the batch)."""
        waves, num_samples, targets = batch
        if self.config.objective == "classify":
            return F.cross_entropy(self(waves, num_samples), targets)
        labels, label_lengths = targets
        log_probs, lengths = self(waves, num_samples)  # (B, T', V)
        # -log p(l | x), summed over the paths pi that collapse to l (torch's CTC)
        return F.ctc_loss(log_probs.transpose(0, 1), labels, lengths, label_lengths, blank=0,
                          reduction="mean", zero_infinity=True)  # fmt: skip

    @torch.no_grad()
    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """classify: ``{"loss", "accuracy"}``; ctc: ``{"loss", "error_rate", "accuracy"}`` with
        greedy decoding (symbol error rate, whole-string accuracy)."""
        total, n, preds, gold = 0.0, 0, [], []
        for batch in loader:
            waves, num_samples, targets = batch
            B = len(waves)
            total += float(self.loss(batch)) * B
            n += B
            if self.config.objective == "classify":
                preds.append(self(waves, num_samples).argmax(-1))
                gold.append(targets)
            else:
                log_probs, lengths = self(waves, num_samples)
                preds += ctc_greedy_decode(log_probs.cpu(), lengths.cpu(), blank=0)
                labels, label_lengths = targets
                gold += [tuple(t) for t in labels.cpu().split(label_lengths.tolist())]
        if n == 0:
            raise ValueError("evaluate(): the loader yielded no examples")
        if self.config.objective == "classify":
            return {"loss": total / n, "accuracy": accuracy(torch.cat(preds), torch.cat(gold))}
        gold = [tuple(int(v) for v in g) for g in gold]
        preds = [tuple(int(v) for v in p) for p in preds]
        return {"loss": total / n, "error_rate": error_rate(gold, preds),
                "accuracy": sequence_accuracy(gold, preds)}  # fmt: skip

    # ---- using a trained model ------------------------------------------------------------
    def read(self, path: str | Path) -> torch.Tensor:
        """A recording as this model hears it: mono at ``config.sample_rate`` (N,).

        Raises:
            InputError (a ValueError): not a readable WAV (from rnnlab.audio), silence only, or
                shorter than one analysis window.
        """
        wave = audio.load_audio(path, rate=self.config.sample_rate)  # (N,)
        need = self.config.win_length
        if len(wave) < need:
            raise InputError(
                f"{path} is too short to recognise: {len(wave)} samples at "
                f"{self.config.sample_rate} Hz, fewer than one {self.config.win_ms:g} ms window "
                f"({need} samples)"
            )
        if float(wave.abs().max()) < SILENCE_PEAK:
            raise InputError(f"{path} holds only silence (every sample below -80 dBFS)")
        return wave

    def symbols_to_text(self, ids: Sequence[int]) -> tuple[str, str]:
        """CTC output ids (>= 1) -> (text, digits): "4 0 7" / "407", or for a character
        alphabet "four zero seven" / "407" (words that are not digit names are skipped)."""
        syms = [self.labels[i - 1] for i in ids]
        if all(len(s) == 1 and s.isdigit() for s in syms):
            return " ".join(syms), "".join(syms)
        text = "".join(syms).strip()
        words = text.split()
        digits = "".join(str(DIGIT_WORDS.index(w)) for w in words if w in DIGIT_WORDS)
        return text, digits

    def posteriors(self, wave: torch.Tensor) -> torch.Tensor:
        """classify: class probabilities (C,); ctc: per-frame symbol probabilities (T', V),
        of one recording (N,) at the model's rate, in eval mode."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                out = self(wave.unsqueeze(0), torch.tensor([len(wave)]))
                if self.config.objective == "classify":
                    return torch.softmax(out[0], dim=-1).cpu()
                return out[0][0].exp().cpu()
        finally:
            self.train(was_training)

    def transcribe(self, paths: Sequence[str | Path], beam: int = 8) -> list[Transcription]:
        """What each WAV file says: the class with its probability (classify), or the best CTC
        prefix-beam labelling with its probability (ctc; ``beam=1``: greedy)."""
        if isinstance(paths, (str, Path)):
            raise TypeError("transcribe() takes a list of paths, not a single path")
        result = []
        for path in paths:
            post = self.posteriors(self.read(path))
            if self.config.objective == "classify":
                k = int(post.argmax())
                name = self.labels[k]
                result.append(Transcription(str(path), name, name, float(post[k])))
                continue
            log_probs = post.clamp_min(1e-30).log()  # (T', V)
            if beam <= 1:
                ids = ctc_greedy_decode(log_probs.unsqueeze(0), torch.tensor([len(log_probs)]))[0]
            else:
                ids = ctc_prefix_beam_search(log_probs, beam=beam, blank=0)[0][0]
            ids = [int(i) for i in ids]
            # p(l | x), exactly: the sum over every path that collapses to l (CTC's forward pass)
            nll = F.ctc_loss(log_probs.unsqueeze(1), torch.tensor(ids, dtype=torch.long),
                             torch.tensor([len(log_probs)]), torch.tensor([len(ids)]), blank=0,
                             reduction="sum")  # fmt: skip
            prob = float(torch.exp(-nll))
            text, digits = self.symbols_to_text(list(ids))
            result.append(Transcription(str(path), text, digits, prob))
        return result

    # ---- a saved model directory (rnnlab.saved) -------------------------------------------
    def to_saved(self) -> tuple[dict, dict]:
        """``config.json``'s fields (front end, architecture, labels); no other files."""
        return {"model": asdict(self.config), "labels": self.labels}, {}

    @classmethod
    def from_saved(cls, config: dict, files) -> SpeechModel:
        """The model :meth:`to_saved` describes, with fresh weights."""
        return cls(SpeechConfig(**config["model"]), config["labels"])
