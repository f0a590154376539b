"""Long-range dependency tasks, generated on the fly from a seed: parity, adding, delayed recall.

Symbols: B batch, T time (the padded length of a batch), I input features, K recalled symbols.

parity (variable length):   bits b_1..b_n, 1 <= n <= T, one-hot x_t = e_{b_t} (I = 2), right
                            padding with zeros; y = (b_1 + ... + b_n) mod 2, so 1 means an odd
                            number of ones ("1000010101 -> YES (even)", "100011 -> NO (odd)").
                            The answer depends on every bit, the first as much as the last.
adding (Hochreiter & Schmidhuber 1997, in the form of Le, Jaitly & Hinton 2015):
                            x_t = (v_t, m_t) with v_t ~ U(0, 1) and exactly two markers m_t = 1,
                            one in each half of the sequence; y = sum_t m_t v_t. Predicting the
                            mean, 1, scores MSE 1/6.
delayed recall ("copy"):    K symbols from an alphabet of A, then ``delay`` blank steps, the last
                            of them carrying the go signal, then K blank steps during which the
                            model must output the K symbols in order. One-hot inputs over
                            (blank, 1..A, go): I = A + 2; y (B, K) holds symbol ids 0..A-1.
                            Chance is 1/A per symbol.

Every sampler takes a ``torch.Generator``, so a seed fixes the whole stream of batches;
:func:`stream` yields fresh batches forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnnlab.errors import InputError

__all__ = [
    "TASKS",
    "SequenceBatch",
    "SyntheticTask",
    "adding",
    "bits_of",
    "delayed_recall",
    "parity",
    "parity_label",
    "stream",
]


@dataclass
class SequenceBatch:
    """One batch of a synthetic task.

    Attributes:
        x: (B, T, I) float inputs, batch-first, zeros at padded steps.
        lengths: (B,) int64 real length of each sequence (T for the fixed-length tasks).
        y: targets: (B,) int64 parity labels, (B,) float sums (adding), or (B, K) int64 symbol
            ids (delayed recall, answered at the last K steps).
    """

    x: torch.Tensor
    lengths: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.dim() != 3 or self.lengths.shape != (self.x.shape[0],):
            raise ValueError(
                f"x must be (B, T, I) and lengths (B,), got {tuple(self.x.shape)} and "
                f"{tuple(self.lengths.shape)}"
            )
        if self.y.shape[0] != self.x.shape[0]:
            raise ValueError(f"y has {self.y.shape[0]} rows for a batch of {self.x.shape[0]}")

    def __len__(self) -> int:
        return self.x.shape[0]


def _check_positive(name: str, v: int, least: int = 1) -> None:
    """InputError (a ValueError) unless ``v`` is an int >= ``least``: the sizes and lengths come
    straight from the options of ``rnnlab inspect``, ``demo`` and ``bench``."""
    if isinstance(v, bool) or not isinstance(v, int) or v < least:
        raise InputError(f"{name} must be an int >= {least}, got {v!r}")


def parity_label(bits: list[int] | str) -> int:
    """(number of ones) mod 2 of a bit list or a string of '0'/'1': 1 means odd."""
    return sum(int(b) for b in bits) % 2


def parity(
    batch_size: int, max_length: int, generator: torch.Generator, min_length: int = 1
) -> SequenceBatch:
    """Bit strings of uniformly random length in [min_length, max_length] and their parity.

    Returns:
        x (B, max_length, 2) one-hot bits, zeros after each string's end; lengths (B,);
        y (B,) int64, 1 for an odd number of ones.
    """
    _check_positive("batch_size", batch_size)
    _check_positive("min_length", min_length)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < min_length:
        raise InputError(f"max_length must be an int >= min_length={min_length}, got {max_length}")
    B, T = batch_size, max_length
    lengths = torch.randint(min_length, T + 1, (B,), generator=generator)  # (B,)
    real = torch.arange(T) < lengths.unsqueeze(1)  # (B, T) True at real steps
    bits = torch.randint(0, 2, (B, T), generator=generator) * real  # (B, T) 0 after the end
    # y = (b_1 + ... + b_n) mod 2
    y = bits.sum(1) % 2  # (B,)
    x = F.one_hot(bits, 2).float() * real.unsqueeze(-1)  # (B, T, 2), zeros at padding
    return SequenceBatch(x, lengths, y)


def bits_of(batch: SequenceBatch, i: int) -> str:
    """Sequence ``i`` of a parity batch as a string of '0'/'1'."""
    n = int(batch.lengths[i])
    return "".join(str(int(b)) for b in batch.x[i, :n].argmax(-1))


def adding(batch_size: int, length: int, generator: torch.Generator) -> SequenceBatch:
    """The adding problem: add the two marked values of a sequence of ``length`` random numbers.

    Returns:
        x (B, T, 2) = (v_t, m_t); lengths (B,) all T; y (B,) float, the sum of the marked values.
    """
    _check_positive("batch_size", batch_size)
    _check_positive("length", length, least=2)
    B, T = batch_size, length
    values = torch.rand(B, T, generator=generator)  # (B, T) v_t ~ U(0, 1)
    first = torch.randint(0, T // 2, (B,), generator=generator)  # a marker in the first half
    second = torch.randint(T // 2, T, (B,), generator=generator)  # and one in the second
    markers = torch.zeros(B, T)  # (B, T) m_t
    rows = torch.arange(B)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    # y = sum_t m_t v_t
    y = (values * markers).sum(1)  # (B,)
    x = torch.stack([values, markers], dim=-1)  # (B, T, 2)
    return SequenceBatch(x, torch.full((B,), T, dtype=torch.long), y)


def delayed_recall(
    batch_size: int, delay: int, generator: torch.Generator, span: int = 5, symbols: int = 8
) -> SequenceBatch:
    """Remember ``span`` symbols over ``delay`` blank steps, then recall them in order.

    The sequence is ``span`` symbols, ``delay`` blanks (the go signal on the last), ``span``
    blanks: T = delay + 2 * span. Symbol k is recalled delay + span steps after it was shown.

    Returns:
        x (B, T, symbols + 2) one-hot over (blank, symbol 1..A, go); lengths (B,) all T;
        y (B, span) int64 symbol ids in 0..symbols-1, the outputs due at the last span steps.
    """
    _check_positive("batch_size", batch_size)
    _check_positive("delay", delay)
    _check_positive("span", span)
    _check_positive("symbols", symbols, least=2)
    B, K, A = batch_size, span, symbols
    T = delay + 2 * K
    y = torch.randint(0, A, (B, K), generator=generator)  # (B, K) what must be recalled
    channel = torch.zeros(B, T, dtype=torch.long)  # (B, T) 0 blank, 1..A symbol, A + 1 go
    channel[:, :K] = y + 1
    channel[:, K + delay - 1] = A + 1
    x = F.one_hot(channel, A + 2).float()  # (B, T, A + 2)
    return SequenceBatch(x, torch.full((B,), T, dtype=torch.long), y)


@dataclass(frozen=True)
class SyntheticTask:
    """How to sample, read out and score one synthetic task.

    ``sample(batch_size, length, generator)`` draws a batch whose dependency spans ``length``
    steps: the longest string (parity), the sequence length (adding) or the delay (recall).
    """

    name: str
    sample: Callable[[int, int, torch.Generator], SequenceBatch]
    input_size: int  # I
    output_size: int  # one logit (parity), one number (adding), A logits per step (recall)
    metric: str  # "accuracy" (parity, recall) or "mse" (adding)
    chance: float  # the metric of a model that ignores its input (best constant)
    tail: int = 0  # answers read at the last `tail` steps (recall); 0: after the last real step
    description: str = ""


TASKS: dict[str, SyntheticTask] = {
    "parity": SyntheticTask(
        "parity", parity, input_size=2, output_size=1, metric="accuracy", chance=0.5,
        description="odd or even number of ones in 1..L bits",
    ),
    "adding": SyntheticTask(
        "adding", adding, input_size=2, output_size=1, metric="mse", chance=1 / 6,
        description="the sum of the two marked numbers among L",
    ),
    "copy": SyntheticTask(
        "copy", delayed_recall, input_size=10, output_size=8, metric="accuracy", chance=1 / 8,
        tail=5, description="recall 5 symbols of 8 after a delay of L steps",
    ),
}  # fmt: skip


def stream(task: str, batch_size: int, length: int, seed: int) -> Iterator[SequenceBatch]:
    """Fresh batches of ``task`` forever, the same sequence of batches for the same seed."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {sorted(TASKS)}")
    generator = torch.Generator().manual_seed(seed)
    sample = TASKS[task].sample
    while True:
        yield sample(batch_size, length, generator)
