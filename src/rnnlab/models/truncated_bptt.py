"""Truncated backpropagation through time over contiguous streams, with the state carried.

A stream of text is read as B parallel rows, T tokens at a time (:mod:`rnnlab.text.stream`).
Chunk k of a row starts from the state chunk k - 1 of that row ended in, so the model is
conditioned on all the text before, while gradients flow back at most T steps:

    logits_k, s_k = LM(x_k, detach(s_{k-1}))          s_0 = 0 at the start of every pass
    loss_k = mean_t CE(logits_k[:, t], y_k[:, t])      (B, T) targets: the next token of each

(Zaremba, Sutskever & Vinyals 2014; char-rnn.) The state lives in buffers, so a trainer
checkpoint holds it and a run resumed in the middle of an epoch goes on exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from rnnlab.models.language_model import LanguageModel
from rnnlab.text.stream import StreamBatch

__all__ = ["StreamLM"]


class StreamLM(nn.Module):
    """Truncated BPTT on contiguous streams: a :class:`LanguageModel` and the state it carries.

    ``loss(StreamBatch)`` starts chunk ``k`` from the state that chunk ``k - 1`` ended in,
    detached (gradients stop at the chunk boundary), or from zeros where ``batch.first``: every
    pass over the stream (every epoch) starts afresh. The carried state lives in buffers
    (``carry_h``, and ``carry_c`` for the LSTM), so the trainer's checkpoints hold it and a run
    resumed in the middle of an epoch continues exactly; a stream-trained run's
    ``model.safetensors`` holds it too (``rnnlab.load`` drops it).

    Args:
        lm: the model to train (its parameters are this module's ``lm.*``).
        batch_size: ``B``, the number of parallel rows of the training stream.
    """

    def __init__(self, lm: LanguageModel, batch_size: int) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        super().__init__()
        self.lm = lm
        c = lm.config
        shape = (c.num_layers, batch_size, c.hidden_size)  # (L, B, H)
        self.register_buffer("carry_h", torch.zeros(shape))
        if c.cell == "lstm":
            self.register_buffer("carry_c", torch.zeros(shape))

    def loss(self, batch: StreamBatch) -> torch.Tensor:
        """Mean cross-entropy (nats per token) of one chunk, carrying the state on."""
        B = self.carry_h.shape[1]
        if batch.inputs.shape[0] != B:
            raise ValueError(f"a stream batch of {batch.inputs.shape[0]} rows for B={B}")
        lstm = self.lm.config.cell == "lstm"
        state = None
        if not batch.first:
            state = (self.carry_h, self.carry_c) if lstm else self.carry_h
        h, state = self.lm.features(batch.inputs, state)  # (B, T, H)
        # detach between chunks; rebinding (not copy_) leaves the tensors autograd saved intact
        self.carry_h = (state[0] if lstm else state).detach()
        if lstm:
            self.carry_c = state[1].detach()
        return self.lm.nll(h, batch.targets)

    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """:meth:`LanguageModel.evaluate` of the wrapped model."""
        return self.lm.evaluate(loader)
