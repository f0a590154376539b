import os
from pathlib import Path

import pytest
import torch


@pytest.fixture
def data_root() -> Path:
    """The local dataset mirror ($RNNLAB_DATA); tests using it carry the `data` marker."""
    root = os.environ.get("RNNLAB_DATA")
    if not root:
        pytest.skip("RNNLAB_DATA is not set: the real datasets (../shared/data) are not available")
    path = Path(root)
    if not path.is_dir():
        pytest.fail(f"RNNLAB_DATA={root} is not a directory")
    return path


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run fastest on one thread; on a shared machine two threads spin on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class FakeClock:
    """A stand-in for the ``time`` module whose perf_counter advances one second per call."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    """The time budget's clock (rnnlab.train.budget) replaced by a :class:`FakeClock`, so a
    budget test depends on the steps taken, never on the machine's speed."""
    from rnnlab.train import budget

    fake = FakeClock()
    monkeypatch.setattr(budget, "time", fake)
    return fake
