"""Learning-rate schedules as pure functions `factor(step)`.

`TrainConfig.schedule` takes one of these; the trainer sets lr_at(step) = lr * factor(step)
before optimizer step `step` (0-based over the whole run). Being pure functions of the step,
they need no state in a checkpoint and a resumed run follows the same curve.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Schedule = Callable[[int], float]


def warmup_linear(warmup: int, total: int, min_factor: float = 0.0) -> Schedule:
    """Linear warm-up from 0 to 1 over `warmup` steps, then linear decay to `min_factor` at `total`.

    factor(s) = (s + 1) / warmup                                     for s < warmup
              = 1 - (1 - min_factor) * (s - warmup) / (total - warmup) up to s = total
              = min_factor                                            after
    """
    _check(warmup, total, min_factor)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        frac = min(1.0, (step - warmup) / max(1, total - warmup))
        return 1.0 - (1.0 - min_factor) * frac

    factor.__name__ = f"warmup_linear(warmup={warmup}, total={total}, min_factor={min_factor})"
    return factor


def warmup_cosine(warmup: int, total: int, min_factor: float = 0.0) -> Schedule:
    """Linear warm-up over `warmup` steps, then half a cosine from 1 to `min_factor` at `total`.

    factor(s) = (s + 1) / warmup                                          for s < warmup
              = min_factor + (1 - min_factor) * (1 + cos(pi * p)) / 2,
                p = min(1, (s - warmup) / (total - warmup))               after
    """
    _check(warmup, total, min_factor)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return cosine_factor(min(1.0, (step - warmup) / max(1, total - warmup)), min_factor)

    factor.__name__ = f"warmup_cosine(warmup={warmup}, total={total}, min_factor={min_factor})"
    return factor


def cosine_factor(p: float, min_factor: float) -> float:
    """Half a cosine from 1 at p = 0 to `min_factor` at p = 1 (p: the share of the annealing done):

    factor = min_factor + (1 - min_factor) * (1 + cos(pi * p)) / 2
    """
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * p))


def _check(warmup: int, total: int, min_factor: float) -> None:
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    if not isinstance(total, int) or total < warmup:
        raise ValueError(f"total must be an int >= warmup ({warmup}), got {total!r}")
    if not 0.0 <= min_factor <= 1.0:
        raise ValueError(f"min_factor must be in [0, 1], got {min_factor!r}")
