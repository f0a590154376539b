"""A training-time budget: a loader wrapper that stops a run once its training time is spent.

The trainer wraps its training loader in a :class:`TimeBudget` when ``TrainConfig.max_minutes``
is set (every ``rnnlab train TASK --max-minutes M``), and ``TrainConfig.anneal_to`` then anneals
the learning rate on the budget's clock (:meth:`TimeBudget.fraction`) as well as over the epochs.

Only the time spent inside training epochs counts (from an epoch's first batch to its last,
steps included: the wrapper is iterated while the trainer steps), not evaluation between epochs,
which is how the peer scripts count their budgets. When the budget runs out, the next batch
request raises :class:`BudgetSpent`, a ``KeyboardInterrupt``: the trainer saves a checkpoint of the
last completed step, exactly as on Ctrl-C, so the run can be resumed (with a fresh budget).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["BudgetSpent", "TimeBudget"]


class BudgetSpent(KeyboardInterrupt):
    """Raised by :class:`TimeBudget` when the training time is used up."""


class TimeBudget:
    """Wraps a training loader; raises :class:`BudgetSpent` once ``seconds`` of training are spent.

    Attributes the trainer reseeds (``sampler``, ``batch_sampler``, ``generator``) and ``len``
    pass through to the wrapped loader, so resuming stays exact.

    Args:
        loader: the training loader (re-iterable).
        seconds: training time allowed, > 0.
    """

    def __init__(self, loader: Iterable[Any], seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
            raise ValueError(f"the time budget must be > 0 seconds, got {seconds!r}")
        self.loader, self.seconds = loader, float(seconds)
        self.spent = 0.0  # training seconds used so far (passes that have ended)
        self._started: float | None = None  # clock reading at the start of the running pass

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        if name == "loader":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.loader, name)

    def fraction(self) -> float:
        """The share of the budget spent so far, the running pass included, in [0, 1]."""
        running = 0.0 if self._started is None else time.perf_counter() - self._started
        return min(1.0, (self.spent + running) / self.seconds)

    def __iter__(self) -> Iterator[Any]:
        started = self._started = time.perf_counter()
        try:
            for batch in self.loader:
                if self.spent + time.perf_counter() - started >= self.seconds:
                    raise BudgetSpent(f"the training time budget of {self.seconds:.0f} s is spent")
                yield batch
        finally:
            self.spent += time.perf_counter() - started
            self._started = None
