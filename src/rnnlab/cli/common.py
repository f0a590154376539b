"""What every subcommand shares: the one-line user error, reading a model or a text file."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in what the user asked for, reported in one line (exit code 2)."""


def load_model(path: str):
    import rnnlab

    return rnnlab.load(path)


def read_lines(path: str) -> list[str]:
    """The non-blank lines of a UTF-8 file (UsageError naming it if it cannot be read)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from e
    return [line for line in lines if line.strip()]


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
