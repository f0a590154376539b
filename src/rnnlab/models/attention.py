"""Attention over an encoder's outputs: additive (Bahdanau) and multiplicative (Luong dot/general).

Symbols: B batch, S source positions, T decoder steps, Q query (decoder state) size, K key size
(encoder output, D*H), A attention size. For a query s (a decoder state) and the encoder outputs
h_1 .. h_S (the memory):

    additive (Bahdanau et al., 2015):   e_j = v^T tanh(W_q s + W_k h_j)       (W_q (A, Q) with bias)
    dot (Luong et al., 2015):           e_j = s^T h_j                          (needs Q == K)
    general (Luong et al., 2015):       e_j = s^T W_a h_j                      (W_a (Q, K))
    alpha_j = exp(e_j) / sum_{j' real} exp(e_j')     softmax over the *real* source positions only
    c = sum_j alpha_j h_j                            the context vector

Padded source positions get weight exactly 0, and each row of weights sums to 1 over the real
positions. The key side (W_k h_j, W_a h_j) depends only on the memory, so :meth:`keys` computes it
once per sentence and every decoder step reuses it. A query may be one step (B, Q) or all steps
at once (B, T, Q), when the decoder states are known in advance (Luong's model under teacher
forcing): then the whole attention is a few batched matrix products.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ATTENTIONS", "AdditiveAttention", "MultiplicativeAttention", "masked_softmax"]

ATTENTIONS = ("bahdanau", "dot", "general")


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, over the positions where ``mask`` is True only.

    Args:
        scores: (B, S) or (B, T, S).
        mask: (B, S) bool, True at real positions; every row needs at least one.

    Returns:
        weights of the shape of ``scores``: 0 where ``mask`` is False, rows summing to 1.
    """
    if scores.dim() == 3:
        mask = mask.unsqueeze(1)  # (B, 1, S)
    scores = scores.masked_fill(~mask, float("-inf"))
    # alpha_j = exp(e_j) / sum_{j' real} exp(e_j')
    return torch.softmax(scores, dim=-1)


def _attend(
    scores: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(context, weights) from raw scores (B, [T,] S) and the memory (B, S, K)."""
    weights = masked_softmax(scores, mask)  # (B, [T,] S)
    # c = sum_j alpha_j h_j
    if weights.dim() == 2:
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)  # (B, K)
    else:
        context = torch.bmm(weights, memory)  # (B, T, K)
    return context, weights


class AdditiveAttention(nn.Module):
    """Bahdanau's additive attention, ``e_j = v^T tanh(W_q s + W_k h_j)``.

    Args:
        query_size: Q, the decoder state size.
        key_size: K, the encoder output size.
        attn_size: A, the hidden size of the scoring network.
    """

    def __init__(self, query_size: int, key_size: int, attn_size: int) -> None:
        super().__init__()
        self.w_q = nn.Linear(query_size, attn_size)  # (A, Q), the bias b of W_q s + b
        self.w_k = nn.Linear(key_size, attn_size, bias=False)  # (A, K)
        self.v = nn.Linear(attn_size, 1, bias=False)  # (1, A)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """W_k h_j for every source position: (B, S, K) -> (B, S, A)."""
        return self.w_k(memory)

    def forward(
        self,
        query: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        keys: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` (B, Q) or (B, T, Q) over ``memory`` (B, S, K) where ``mask``
        (B, S) is True; ``keys`` (B, S, A) from :meth:`keys` saves recomputing them.

        Returns:
            context (B, [T,] K) and weights (B, [T,] S).
        """
        keys = self.keys(memory) if keys is None else keys  # (B, S, A)
        q = self.w_q(query)  # (B, [T,] A)
        if query.dim() == 2:
            # e_j = v^T tanh(W_q s + W_k h_j)
            scores = self.v(torch.tanh(q.unsqueeze(1) + keys)).squeeze(-1)  # (B, S)
        else:
            scores = self.v(torch.tanh(q.unsqueeze(2) + keys.unsqueeze(1))).squeeze(-1)  # (B,T,S)
        return _attend(scores, memory, mask)


class MultiplicativeAttention(nn.Module):
    """Luong's multiplicative attention: ``dot`` (e_j = s^T h_j) or ``general``
    (e_j = s^T W_a h_j).

    Args:
        query_size: Q, the decoder state size.
        key_size: K, the encoder output size (``dot`` needs K == Q).
        kind: ``"dot"`` or ``"general"``.
    """

    def __init__(self, query_size: int, key_size: int, kind: str = "general") -> None:
        super().__init__()
        if kind not in ("dot", "general"):
            raise ValueError(f"kind must be 'dot' or 'general', got {kind!r}")
        if kind == "dot" and query_size != key_size:
            raise ValueError(
                f"dot attention needs the decoder state size ({query_size}) to equal the encoder "
                f"output size ({key_size}); use 'general' or matching sizes"
            )
        self.kind = kind
        self.w_a = nn.Linear(key_size, query_size, bias=False) if kind == "general" else None

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """W_a h_j (general) or h_j itself (dot): (B, S, K) -> (B, S, Q)."""
        return memory if self.w_a is None else self.w_a(memory)

    def forward(
        self,
        query: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor,
        keys: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`AdditiveAttention.forward`; ``keys`` (B, S, Q)."""
        keys = self.keys(memory) if keys is None else keys  # (B, S, Q)
        if query.dim() == 2:
            # e_j = s^T W_a h_j  (dot: s^T h_j)
            scores = torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1)  # (B, S)
        else:
            scores = torch.bmm(query, keys.transpose(1, 2))  # (B, T, S)
        return _attend(scores, memory, mask)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"


def make_attention(kind: str, query_size: int, key_size: int, attn_size: int) -> nn.Module:
    """The attention module of a kind in :data:`ATTENTIONS`."""
    if kind == "bahdanau":
        return AdditiveAttention(query_size, key_size, attn_size)
    if kind in ("dot", "general"):
        return MultiplicativeAttention(query_size, key_size, kind)
    raise ValueError(f"attention must be one of {ATTENTIONS}, got {kind!r}")
