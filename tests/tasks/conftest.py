"""Fixtures of the task-pipeline tests: one torch thread, and a generated order-dependent task."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

FILLER = "the film was a plot and it so really story".split()


def order_task(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (text, label) pairs: 2-6 filler words with "good" and "bad" both inserted, in a random
    order, at random places; the label is the sentiment word that comes *last*.

    Every text holds the same bag of sentiment words, so a bag-of-words model is at chance
    (~50%); a recurrent model has to read the order (and remember it over the filler after it).
    """
    r = random.Random(seed)
    rows = []
    for _ in range(n):
        words = [r.choice(FILLER) for _ in range(r.randint(2, 6))]
        first, last = r.sample(["good", "bad"], 2)
        i = r.randint(0, len(words))
        words.insert(i, first)
        words.insert(r.randint(i + 1, len(words)), last)
        rows.append((" ".join(words), "pos" if last == "good" else "neg"))
    return rows


def write_tsv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{text}\t{label}\n" for text, label in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def order_files(tmp_path_factory) -> tuple[Path, Path]:
    """(train.tsv with 400 texts, dev.tsv with 200 others) of :func:`order_task`."""
    root = tmp_path_factory.mktemp("order_task")
    return (
        write_tsv(root / "train.tsv", order_task(400, seed=1)),
        write_tsv(root / "dev.tsv", order_task(200, seed=2)),
    )
