"""Fixtures of the task-pipeline tests: one torch thread, and a generated order-dependent task."""

from __future__ import annotations

from pathlib import Path

import pytest

from order_task import order_task


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
