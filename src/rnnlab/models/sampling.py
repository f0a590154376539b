"""Drawing the next token from a model's logits: temperature, top-k, greedy.

    P(y = v | y_<t) = softmax(z / temperature)_v      over the k largest z_v (top-k), or all

The lecture's ``np.random.choice(V, p=P[word | previous words])`` is ``torch.multinomial`` here,
with a private ``torch.Generator`` so that a seed gives the same text and the global random state
is left alone. Temperature 0 is the limit of the softmax as the temperature falls: greedy argmax.
"""

from __future__ import annotations

import torch

from rnnlab.errors import InputError

__all__ = ["next_token"]


def next_token(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> int:
    """Draw one token id from ``logits`` (V,).

    Args:
        logits: (V,) unnormalised log-probabilities; ``-inf`` marks impossible tokens.
        temperature: > 0 sharpens (< 1) or flattens (> 1) the distribution; 0 is greedy.
        top_k: keep only the ``k`` largest logits (ties at the k-th value are kept too);
            None keeps all. ``top_k=1`` is greedy.
        generator: the source of randomness (default: torch's global generator).

    Returns:
        The drawn id.
    """
    if logits.dim() != 1:
        raise ValueError(f"logits must be 1-D (V,), got shape {tuple(logits.shape)}")
    if isinstance(temperature, bool) or not temperature >= 0:  # rejects NaN too
        raise InputError(f"temperature must be >= 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise InputError(f"top_k must be a positive int or None, got {top_k!r}")
    if temperature == 0 or top_k == 1:
        return int(logits.argmax())
    z = logits.double() / temperature  # (V,)
    if top_k is not None and top_k < z.numel():
        kth = torch.topk(z, top_k).values[-1]
        z = z.masked_fill(z < kth, float("-inf"))
    # shift by the max so that a tiny temperature cannot overflow exp
    p = torch.softmax(z - z.max(), dim=-1)  # (V,)
    return int(torch.multinomial(p, 1, generator=generator))
