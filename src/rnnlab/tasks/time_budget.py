"""A training-time budget: a loader wrapper that stops a run once its training time is spent,
and a learning-rate schedule on the budget's clock (:func:`budget_cosine`).

Only the time spent inside training epochs counts (from an epoch's first batch to its last,
steps included: the wrapper is iterated while the trainer steps), not evaluation between epochs,
which is how the peer scripts count their budgets. When the budget runs out, the next batch
request raises :class:`BudgetSpent`, a ``KeyboardInterrupt``: the trainer saves a checkpoint of the
last completed step, exactly as on Ctrl-C, so the run can be resumed (with a fresh budget).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rnnlab.train.schedules import cosine_factor

__all__ = ["BudgetSpent", "TimeBudget", "budget_cosine"]


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
        if isinstance(seconds, bool) or not seconds > 0:
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


def budget_cosine(
    budget: TimeBudget, min_factor: float = 0.0, warmup: int = 0
) -> Callable[[int], float]:
    """A learning-rate schedule (step -> factor of lr) annealed over a time budget, not a step
    count: the rate reaches ``min_factor`` exactly when the budget is spent, however fast the
    steps turn out to be (a schedule planned on a step count from the first steps' speed ends
    early or late when the machine's speed changes).

        factor(s) = (s + 1) / warmup                                  for s < warmup
                  = min_factor + (1 - min_factor) * (1 + cos(pi * p)) / 2,
                    p = training seconds spent / budget seconds        after

    It reads ``budget``'s clock, so unlike the step schedules of ``rnnlab.train.schedules`` it
    is not a pure function of the step: a run resumed with a fresh budget anneals afresh.
    """
    if not isinstance(budget, TimeBudget):
        raise TypeError(f"budget must be a TimeBudget, got {type(budget).__name__}")
    if isinstance(min_factor, bool) or not 0.0 <= min_factor <= 1.0:
        raise ValueError(f"min_factor must be in [0, 1], got {min_factor!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return cosine_factor(budget.fraction(), min_factor)

    factor.__name__ = (
        f"budget_cosine(seconds={budget.seconds:g}, min_factor={min_factor}, warmup={warmup})"
    )
    return factor
