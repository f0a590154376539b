"""Linear-chain conditional random field: the sentence-level score of a whole tag path.

Symbols: B batch, T time, C tags. Batches are right-padded: sequence b has ``lengths[b]`` real
steps, then padding that is never read.

For emissions ``x`` (B, T, C) (the per-token tag scores of a network) and tags y_1..y_n the score
of the path is

    s(y) = start[y_1] + sum_{t=1..n} x_t[y_t] + sum_{t=2..n} trans[y_{t-1}, y_t] + end[y_n]

and the CRF's probability of it is ``p(y | x) = exp(s(y)) / Z``, ``log Z = logsumexp_y s(y)``
over all C**n paths. The forward algorithm computes ``log Z`` in O(n C^2), in log space:

    alpha_1[j] = start[j] + x_1[j]
    alpha_t[j] = logsumexp_i (alpha_{t-1}[i] + trans[i, j]) + x_t[j]
    log Z      = logsumexp_j (alpha_n[j] + end[j])

and Viterbi the best path with max in place of logsumexp and back-pointers (Lafferty et al. 2001;
Lample et al. 2016 put one on a BiLSTM). Training minimises ``log Z - s(y_gold)`` per sentence.
Autograd differentiates the forward algorithm (its gradient is the tag marginals).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CRF"]


def _check(emissions: torch.Tensor, lengths: torch.Tensor, C: int) -> torch.Tensor:
    if emissions.dim() != 3 or emissions.shape[-1] != C:
        raise ValueError(f"emissions must be (B, T, C={C}), got shape {tuple(emissions.shape)}")
    B, T, _ = emissions.shape
    lengths = torch.as_tensor(lengths, device=emissions.device)
    if lengths.shape != (B,):
        raise ValueError(f"lengths must be ({B},), got shape {tuple(lengths.shape)}")
    if B and (int(lengths.min()) < 1 or int(lengths.max()) > T):
        raise ValueError(f"every length must be in 1..T={T}, got {lengths.tolist()}")
    return lengths.long()


class CRF(nn.Module):
    """Transition scores between C tags, with the forward algorithm and Viterbi decoding.

    Parameters (all learned, initialised U(-0.1, 0.1)):
        transitions: (C, C), ``transitions[i, j]`` scores tag i followed by tag j.
        start: (C,) scores of the first tag; end: (C,) scores of the last tag.
    """

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        if isinstance(num_tags, bool) or not isinstance(num_tags, int) or num_tags < 1:
            raise ValueError(f"num_tags must be a positive int, got {num_tags!r}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.start = nn.Parameter(torch.empty(num_tags))
        self.end = nn.Parameter(torch.empty(num_tags))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for p in (self.transitions, self.start, self.end):
            nn.init.uniform_(p, -0.1, 0.1)

    def log_partition(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """log Z of every sequence: (B, T, C) emissions, (B,) lengths -> (B,)."""
        lengths = _check(emissions, lengths, self.num_tags)
        B, T, C = emissions.shape
        # alpha_1[j] = start[j] + x_1[j]
        alpha = self.start + emissions[:, 0]  # (B, C)
        for t in range(1, T):
            # alpha_t[j] = logsumexp_i (alpha_{t-1}[i] + trans[i, j]) + x_t[j]
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1)  # (B, C)
            step = step + emissions[:, t]  # (B, C)
            real = (t < lengths).unsqueeze(1)  # (B, 1): padded steps keep alpha
            alpha = torch.where(real, step, alpha)  # (B, C)
        # log Z = logsumexp_j (alpha_n[j] + end[j])
        return torch.logsumexp(alpha + self.end, dim=1)  # (B,)

    def score(
        self, emissions: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """s(y) of the given paths: (B, T, C) emissions, (B, T) tags, (B,) lengths -> (B,).

        Tags at padded steps are ignored (any value in 0..C-1, or negative).
        """
        lengths = _check(emissions, lengths, self.num_tags)
        B, T, C = emissions.shape
        if tags.shape != (B, T):
            raise ValueError(f"tags must be (B, T) = {(B, T)}, got {tuple(tags.shape)}")
        real = torch.arange(T, device=tags.device)[None, :] < lengths[:, None]  # (B, T)
        y = tags.masked_fill(~real, 0)  # (B, T), padding -> any valid id
        if int(y.min()) < 0 or int(y.max()) >= C:
            raise ValueError(f"tags must be in 0..{C - 1} at real steps")
        # sum_t x_t[y_t]
        emit = emissions.gather(2, y.unsqueeze(2)).squeeze(2)  # (B, T)
        total = (emit * real).sum(1)  # (B,)
        # sum_{t>=2} trans[y_{t-1}, y_t]
        trans = self.transitions[y[:, :-1], y[:, 1:]]  # (B, T-1)
        total = total + (trans * real[:, 1:]).sum(1)
        # start[y_1] + end[y_n]
        last = y.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)  # (B,)
        return total + self.start[y[:, 0]] + self.end[last]

    def nll(
        self, emissions: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """Negative log-likelihood ``log Z - s(y)`` of every gold path: (B,)."""
        return self.log_partition(emissions, lengths) - self.score(emissions, tags, lengths)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Viterbi: the highest-scoring path of every sequence, (B, T) tag ids, -1 at padding."""
        lengths = _check(emissions, lengths, self.num_tags)
        B, T, C = emissions.shape
        # delta_1[j] = start[j] + x_1[j]
        delta = self.start + emissions[:, 0]  # (B, C)
        back = []  # T-1 back-pointers (B, C): best previous tag of each tag at step t
        for t in range(1, T):
            # delta_t[j] = max_i (delta_{t-1}[i] + trans[i, j]) + x_t[j]
            best, arg = (delta.unsqueeze(2) + self.transitions).max(dim=1)  # (B, C) each
            real = (t < lengths).unsqueeze(1)  # (B, 1)
            delta = torch.where(real, best + emissions[:, t], delta)  # (B, C)
            back.append(arg)
        # y_n = argmax_j (delta_n[j] + end[j])
        tag = (delta + self.end).argmax(1)  # (B,)
        path = torch.full((B, T), -1, dtype=torch.long, device=emissions.device)
        idx = torch.arange(B, device=emissions.device)
        for t in range(T - 1, -1, -1):
            on = t < lengths  # (B,): padded steps keep the final tag until the last real one
            path[:, t] = torch.where(on, tag, path[:, t])
            if t:
                # y_{t-1} = back_t[y_t]
                tag = torch.where(on, back[t - 1][idx, tag], tag)  # (B,)
        return path
