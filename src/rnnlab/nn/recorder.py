"""Per-step gradients dL/dh_t handed out by the BPTT backward passes.

The norms ||dL/dh_t|| over t are the picture of vanishing and exploding gradients: for a vanilla
RNN, dL/dh_1 is a product of T Jacobians dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh and shrinks (or grows)
geometrically; an LSTM's cell state carries error through f_t instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn


class StepGradRecorder:
    """Collects dL/dh_t of every recurrent layer direction during ``loss.backward()``.

    ``grads[(module_name, layer, direction)]`` is a (T, B, H) tensor, time-major, in natural time
    order for both directions; at padded steps it is zero. Repeated backward passes accumulate.

    Example::

        rec = StepGradRecorder()
        with rec.attach(model):
            loss_fn(model(x)).backward()
        norms = rec.grads[("lstm", 0, 0)].norm(dim=-1)  # (T, B)
    """

    def __init__(self) -> None:
        self.grads: dict[tuple[str, int, int], torch.Tensor] = {}

    def slot(self, name: str, layer: int, direction: int) -> Callable[[torch.Tensor], None]:
        """A callable for one layer direction's backward to hand its (T, B, H) gradients to."""
        key = (name, layer, direction)

        def store(steps: torch.Tensor) -> None:
            prev = self.grads.get(key)
            self.grads[key] = steps.detach().clone() if prev is None else prev + steps

        return store

    @contextmanager
    def attach(self, model: nn.Module) -> Iterator[StepGradRecorder]:
        """Record from every rnnlab recurrent layer inside ``model`` while the block runs."""
        layers = [(n, m) for n, m in model.named_modules() if hasattr(m, "_step_recorder")]
        if not layers:
            raise ValueError("attach(): the model has no rnnlab recurrent layer (RNN/LSTM/GRU)")
        for name, m in layers:
            m._step_recorder = (self, name)
        try:
            yield self
        finally:
            for _, m in layers:
                m._step_recorder = None
