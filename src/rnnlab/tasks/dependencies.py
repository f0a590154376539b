"""Long-range dependencies: every cell on every length with the same budget, and ``rnnlab demo``.

Symbols: B batch, T time, I input features, H hidden units, O outputs, K recalled symbols.

    x (B, T, I) -> RNN/LSTM/GRU (H units) -> h after the last real step -> linear -> (B, O)
                                           (delayed recall: h_t at the last K steps -> (B, K, O))

Each run draws fresh batches from :mod:`rnnlab.data.synthetic` (the same stream for every cell at
a given length), takes at most ``steps`` Adam steps with gradient clipping, and stops early once a
held-out "dev" batch says the task is solved; the reported score is on a separate "test" batch.
The same budget for every cell is the point: the vanilla RNN does not fail for want of capacity
(it can represent parity exactly) but because its gradient from the early steps vanishes.

A small explicit loop rather than :class:`rnnlab.train.Trainer`: the data is generated afresh at
every step (no epochs, no dataset to checkpoint), the budget is a step count and the stopping
rule is "solved". Twenty lines say that more plainly than a Trainer bent around it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

import rnnlab.nn as rnn
from rnnlab.data.synthetic import TASKS, SequenceBatch, SyntheticTask, parity, stream

logger = logging.getLogger(__name__)

CELLS = {"rnn": rnn.RNN, "lstm": rnn.LSTM, "gru": rnn.GRU}
SOLVED = {"accuracy": 0.99, "mse": 0.01}  # a run stops once dev accuracy >= or dev MSE <= this


class DependencyModel(nn.Module):
    """One recurrent layer and a linear read-out, for the synthetic tasks.

    Args:
        cell: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        forget_bias: the LSTM forget-gate bias at initialisation (b_if + b_hf). 1.0 is Keras'
            ``unit_forget_bias`` (Gers et al. 2000; Jozefowicz et al. 2015): f_t starts near
            sigmoid(1) = 0.73 instead of 0.5, so the cell state and its gradient are kept from the
            first step. None keeps PyTorch's initialisation.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int,
                 tail: int = 0, forget_bias: float | None = 1.0) -> None:  # fmt: skip
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {cell!r}")
        self.cell, self.tail = cell, tail
        self.rnn = CELLS[cell](input_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        if cell == "lstm" and forget_bias is not None:
            H = hidden_size
            with torch.no_grad():  # rows H..2H of the (i, f, g, o) stack are the forget gate
                self.rnn.bias_ih_l0[H : 2 * H] = forget_bias
                self.rnn.bias_hh_l0[H : 2 * H] = 0.0

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, O) read after each sequence's last real step, or (B, K, O) over the last K steps."""
        out, state = self.rnn(x, lengths=lengths)  # out (B, T, H)
        if self.tail:
            return self.out(out[:, -self.tail :])  # (B, K, O)
        h_n = state[0] if isinstance(state, tuple) else state  # (1, B, H)
        return self.out(h_n[-1])  # (B, O)


def build_model(cell: str, task: SyntheticTask, hidden_size: int,
                forget_bias: float | None = 1.0) -> DependencyModel:  # fmt: skip
    """A :class:`DependencyModel` sized for ``task``."""
    return DependencyModel(cell, task.input_size, hidden_size, task.output_size, task.tail,
                           forget_bias)  # fmt: skip


def task_loss(task: SyntheticTask, model: nn.Module, batch: SequenceBatch) -> torch.Tensor:
    """Binary cross-entropy (parity), MSE (adding) or cross-entropy per recalled symbol."""
    pred = model(batch.x, batch.lengths)
    if task.name == "parity":
        return F.binary_cross_entropy_with_logits(pred.squeeze(-1), batch.y.float())
    if task.name == "adding":
        return F.mse_loss(pred.squeeze(-1), batch.y)
    return F.cross_entropy(pred.flatten(0, 1), batch.y.flatten())  # (B*K, A) against (B*K,)


@torch.no_grad()
def score(task: SyntheticTask, model: nn.Module, batch: SequenceBatch) -> dict[str, float]:
    """``{"accuracy"}`` (parity, recall: per symbol), or ``{"mse", "accuracy"}`` for adding,
    where accuracy is the share within 0.04 of the sum (Hochreiter & Schmidhuber's criterion)."""
    pred = model(batch.x, batch.lengths)
    if task.name == "parity":
        return {"accuracy": float(((pred.squeeze(-1) > 0).long() == batch.y).float().mean())}
    if task.name == "adding":
        err = pred.squeeze(-1) - batch.y  # (B,)
        close = (err.abs() < 0.04).float()
        return {"mse": float(err.pow(2).mean()), "accuracy": float(close.mean())}
    return {"accuracy": float((pred.argmax(-1) == batch.y).float().mean())}


def held_out(task: SyntheticTask, size: int, length: int, seed: int) -> SequenceBatch:
    """A fixed batch to score on; parity strings are exactly ``length`` bits (the hardest)."""
    g = torch.Generator().manual_seed(seed)
    if task.name == "parity":
        return parity(size, length, g, min_length=length)
    return task.sample(size, length, g)


@dataclass
class BenchConfig:
    """What ``rnnlab bench dependencies`` trains, and the budget every run gets."""

    task: str = "parity"
    cells: tuple[str, ...] = ("rnn", "lstm", "gru")
    lengths: tuple[int, ...] = (10, 20, 50, 100, 200)
    steps: int = 1000  # the budget: at most this many training steps per cell and length
    hidden_size: int = 32
    batch_size: int = 64
    lr: float = 1e-2  # Adam
    clip_norm: float = 1.0  # clip_grad_norm_ at every step
    forget_bias: float | None = 1.0  # LSTM forget-gate bias at init (see DependencyModel)
    eval_every: int = 50  # steps between dev checks (the run stops once solved)
    eval_size: int = 1000  # sequences in the dev and in the test batch
    seed: int = 0
    threads: int = 1  # torch threads; tiny models run fastest on one
    progress: bool = True  # a tqdm bar per run, on stderr

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {sorted(TASKS)}, got {self.task!r}")
        self.cells, self.lengths = tuple(self.cells), tuple(self.lengths)
        bad = [c for c in self.cells if c not in CELLS]
        if bad or not self.cells:
            raise ValueError(f"cells must be among {tuple(CELLS)}, got {list(self.cells)}")
        least = 2 if self.task == "adding" else 1
        if not self.lengths or any(not isinstance(n, int) or n < least for n in self.lengths):
            raise ValueError(f"lengths must be ints >= {least}, got {list(self.lengths)}")
        for name in ("steps", "hidden_size", "batch_size", "eval_every", "eval_size", "threads"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not self.lr > 0 or not self.clip_norm > 0:
            raise ValueError(f"lr and clip_norm must be positive, got {self.lr}, {self.clip_norm}")


@dataclass
class RunResult:
    """One cell trained at one length."""

    cell: str
    length: int
    scores: dict[str, float]  # on the test batch: accuracy (and mse for adding)
    solved_at: int | None  # the step at which the dev batch first counted as solved
    steps: int  # steps taken (<= the budget)
    seconds: float
    model: DependencyModel = field(repr=False)


def _solved(metric: str, scores: dict[str, float]) -> bool:
    v = scores[metric]
    return v >= SOLVED[metric] if metric == "accuracy" else v <= SOLVED[metric]


def train_run(cell: str, length: int, config: BenchConfig) -> RunResult:
    """Train ``cell`` on ``config.task`` at ``length`` for at most ``config.steps`` steps."""
    task = TASKS[config.task]
    torch.manual_seed(config.seed)  # the same initialisation for every length
    model = build_model(cell, task, config.hidden_size, config.forget_bias)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    dev = held_out(task, config.eval_size, length, seed=config.seed + 1_000_003)
    batches = stream(task.name, config.batch_size, length, seed=config.seed)
    start, solved_at = time.perf_counter(), None
    bar = tqdm(range(1, config.steps + 1), desc=f"{cell:>4} L={length}", leave=True,
               disable=not config.progress, dynamic_ncols=True)  # fmt: skip
    step = 0
    for step in bar:
        model.train()
        loss = task_loss(task, model, next(batches))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        opt.step()
        if step % config.eval_every == 0 or step == config.steps:
            model.eval()
            s = score(task, model, dev)
            bar.set_postfix(loss=f"{loss.item():.3f}", dev=f"{s[task.metric]:.3f}")
            if _solved(task.metric, s):
                solved_at = step
                break
    bar.close()
    model.eval()
    test = score(task, model, held_out(task, config.eval_size, length, seed=config.seed + 7919))
    seconds = time.perf_counter() - start
    logger.info("%s L=%d: %s after %d steps (%.1f s)", cell, length, test, step, seconds)
    return RunResult(cell, length, test, solved_at, step, seconds, model)


class _threads:
    """Run a block with ``torch.set_num_threads(n)``, restoring the old value afterwards."""

    def __init__(self, n: int) -> None:
        self.n, self.old = n, torch.get_num_threads()

    def __enter__(self) -> None:
        torch.set_num_threads(self.n)

    def __exit__(self, *exc) -> None:
        torch.set_num_threads(self.old)


def run_bench(config: BenchConfig) -> list[RunResult]:
    """Every cell at every length (lengths in the outer loop, cells inside)."""
    with _threads(config.threads):
        return [train_run(c, n, config) for n in config.lengths for c in config.cells]


def result_table(results: list[RunResult], metric: str) -> dict[str, dict[int, float]]:
    """``table[cell][length]`` of one score."""
    table: dict[str, dict[int, float]] = {}
    for r in results:
        table.setdefault(r.cell, {})[r.length] = r.scores[metric]
    return table


def format_table(results: list[RunResult], metric: str) -> str:
    """A text table: one row per cell, one column per length, the score and the steps used."""
    table = result_table(results, metric)
    steps = {(r.cell, r.length): r for r in results}
    lengths = sorted({r.length for r in results})
    head = f"{'cell':<6}" + "".join(f"{'L=' + str(n):>16}" for n in lengths)
    lines = [head]
    for cell, row in table.items():
        cells = []
        for n in lengths:
            r = steps[(cell, n)]
            where = f"@{r.solved_at}" if r.solved_at else "x"
            cells.append(f"{row[n]:.3f} {where:>6}".rjust(16))
        lines.append(f"{cell:<6}" + "".join(cells))
    return "\n".join(lines)
