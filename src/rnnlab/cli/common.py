"""What every subcommand shares: the one-line user error, the tasks' registry, reading a model
or a text file."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnlab.errors import UserError

EXIT_USAGE = 2


class UsageError(UserError):
    """A mistake in what the user asked for, reported in one line (exit code 2)."""


@contextlib.contextmanager
def as_usage_error():
    """Report a ValueError raised inside as a UsageError: around code that checks the options
    the user gave (building a job or a config from them), whose ValueErrors name the bad value.
    Never around a whole command: a bug's ValueError would pass for the user's mistake."""
    try:
        yield
    except ValueError as e:
        raise UsageError(str(e)) from e


@dataclass(frozen=True)
class TaskCLI:
    """What the ``rnnlab`` command knows of one kind of saved model (config.json's ``task``)."""

    name: str  # config.json's "task", and `rnnlab train NAME`
    kind: str  # what such a model is called: "a text classifier"
    commands: str  # the commands that use one: "rnnlab predict"
    evaluate: Callable  # rnnlab evaluate's evaluator: (model, args) -> exit code
    evaluate_data: str  # what evaluate's --data and --split are for such a model
    # ``rnnlab predict MODEL INPUTS ... [--file F]`` for such a model: (model, args) -> exit code;
    # None: predict refuses it (the text classifier's is rnnlab.cli.classify.cmd_predict)
    predict: Callable | None = None
    # True: ``rnnlab evaluate MODEL`` without --data scores the model on the data it was trained
    # on (a forecaster: its held-out horizon); False: --data is required
    data_optional: bool = False


TASKS: dict[str, TaskCLI] = {}  # every task's CLI module registers itself here


def register(task: TaskCLI) -> TaskCLI:
    """Add ``task`` to :data:`TASKS` (``rnnlab evaluate`` and the model-kind checks use it)."""
    TASKS[task.name] = task
    return task


def kind_of(task: str) -> str:
    return TASKS[task].kind if task in TASKS else f"a model of task {task!r}"


def load_model(path: str, task: str | None = None):
    """The saved model at ``path``; with ``task``, a UsageError unless it is such a model (one
    that ``rnnlab train TASK`` makes), naming what it is and the command to use on it."""
    import rnnlab

    model = rnnlab.load(path)
    if task is not None and model.task != task:
        use = f"use {TASKS[model.task].commands} on it, or " if model.task in TASKS else ""
        raise UsageError(
            f"{path} holds {kind_of(model.task)}, not {kind_of(task)}: {use}train "
            f"{kind_of(task)} with rnnlab train {task}"
        )
    return model


def read_lines(path: str) -> list[str]:
    """The non-blank lines of a UTF-8 file (UsageError naming it if it cannot be read)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from e
    return [line for line in lines if line.strip()]


def positive_int(text: str) -> int:
    """An argparse type: an int >= 1 (sizes, lengths, counts), refused in one line otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def cell_list(text: str) -> tuple[str, ...]:
    cells = tuple(c.strip() for c in text.split(",") if c.strip())
    bad = [c for c in cells if c not in ("rnn", "lstm", "gru")]
    if bad or not cells:
        raise argparse.ArgumentTypeError(f"cells are rnn, lstm, gru (comma-separated): {text!r}")
    return cells


def add_training_args(g, *, lr: float, out: str, epochs: int = 10, clip: float = 5.0,
                      patience: int = 3) -> None:  # fmt: skip
    """The options every ``rnnlab train TASK`` shares (optimiser, clipping, early stopping,
    seed, device, output directory, resume), added to the argument group ``g``."""
    g.add_argument("--epochs", type=positive_int, default=epochs, help="maximum epochs")
    g.add_argument("--lr", type=float, default=lr, help="learning rate")
    g.add_argument("--optimizer", choices=("adam", "adamw", "sgd"), default="adam",
                   help="optimizer")  # fmt: skip
    g.add_argument("--weight-decay", type=float, default=0.0, help="L2 / decoupled decay")
    g.add_argument("--clip", type=float, default=clip, help="max gradient norm (0: no clipping)")
    g.add_argument("--patience", type=int, default=patience, help="early stopping (0: off)")
    g.add_argument("--anneal-to", type=float, metavar="FRACTION",
                   help="cosine-anneal the lr over all --epochs (or --max-minutes, if that ends "
                        "first; a --resume anneals that afresh) to this fraction of --lr "
                        "(e.g. 0.05); default: a constant lr")  # fmt: skip
    g.add_argument("--warmup", type=int, default=0, metavar="STEPS",
                   help="with --anneal-to: a linear lr warm-up over this many "
                        "steps first")  # fmt: skip
    g.add_argument("--max-minutes", type=float, metavar="M",
                   help="stop after this much training time (evaluation not counted), keeping "
                        "the better of the best epoch and the weights at the cut; --resume "
                        "goes on with a fresh budget")  # fmt: skip
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    g.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="bf16: mixed precision, the products in bfloat16 (fast on CPUs with AMX "
                        "and on GPUs), weights and state in float32")  # fmt: skip
    g.add_argument("--out", default=out, help="the model directory to write")
    g.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")


def train_config(args, **task):
    """The :class:`rnnlab.train.TrainConfig` of the options of :func:`add_training_args`;
    ``task`` adds what the task decides (``monitor``, ``mode``, ``schedule`` ...)."""
    from rnnlab.train import TrainConfig

    config = TrainConfig(
        epochs=args.epochs, lr=args.lr, optimizer=args.optimizer, weight_decay=args.weight_decay,
        clip_norm=args.clip or None, patience=args.patience or None, seed=args.seed,
        device=args.device, precision=args.precision, progress=not args.no_progress,
        max_minutes=args.max_minutes, warmup=args.warmup,
        **{"anneal_to": args.anneal_to, **task},
    )  # fmt: skip
    config.resolved_device()  # a --device this machine lacks fails now, not after the data load
    return config


def run_training(train, job, out: str):
    """``train(job)``, or None after Ctrl-C with a line on how to resume (the trainer has
    already written a checkpoint to ``out``); a line says so when ``--max-minutes`` ended it."""
    try:
        result = train(job)
    except KeyboardInterrupt:
        print(f"interrupted: a checkpoint is in {out}; continue with the same command and "
              "--resume", file=sys.stderr)  # fmt: skip
        return None
    if result.budget_spent:
        print_budget_spent(job.train.max_minutes, len(result.history))
    return result


def print_saved(out: str, files: str = "config.json, vocab.json") -> None:
    """The closing line of ``rnnlab train``: where the model directory is and what it holds."""
    print(f"saved to {out} (model.safetensors, {files}, metrics.jsonl, learning_curve.png)")


def print_budget_spent(minutes: float, epochs: int) -> None:
    """The line after a run that ``--max-minutes`` ended."""
    print(f"the {minutes:g}-minute budget is spent after {epochs} finished epochs; continue "
          "with the same command and --resume")  # fmt: skip
