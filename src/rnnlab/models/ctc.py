"""Decoding CTC outputs: best path (greedy) and prefix beam search.

Symbols: B batch, T time (frames), V output classes (the blank included, id ``blank``).
A network trained with CTC (Graves et al. 2006) gives per frame t a distribution y_t over the V
classes. A *path* pi = (pi_1 .. pi_T) picks one class per frame; the collapsing map B removes
repeats and then blanks (B(a a - a b b -) = a a b), and a labelling l has

    p(l | x) = sum_{pi : B(pi) = l} prod_t y_t[pi_t]

Best-path decoding takes B(argmax_t y_t), the labelling of the single most probable path: fast,
and usually close to the most probable labelling, but not always (many weak paths to one
labelling can outweigh one strong path to another).

Prefix beam search (Graves 2012, section 7.5; Hannun et al. 2014, "First-pass large vocabulary
continuous speech recognition using bi-directional recurrent DNNs", algorithm 1) keeps, for each
surviving prefix l after frame t, the probability of all paths of frames 1..t that collapse to l,
split by the path's last class:

    p_b(l, t)   paths ending in blank        p_nb(l, t)   paths ending in a non-blank
    p(l, t) = p_b(l, t) + p_nb(l, t)

Every prefix is extended at every frame by the blank, by its last label again, or by a new label
(recurrences quoted in :func:`_beam_one`); of all prefixes only the ``beam`` most probable
survive. With a beam at least as wide as the number of distinct prefixes, nothing is pruned and
every p(l | x) is exact; the tests hold it against enumerating every path and against
``torch.nn.functional.ctc_loss``. Everything is computed in log space (float64 on the CPU).
No language model is applied.
"""

from __future__ import annotations

import functools
import math

import torch

from rnnlab.errors import InputError

__all__ = ["ctc_greedy_decode", "ctc_prefix_beam_search"]

Labelling = tuple[int, ...]
_NEG_INF = float("-inf")


def _logadd(a: float, b: float) -> float:
    """log(exp(a) + exp(b)), exact when either is -inf."""
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    hi, lo = (a, b) if a > b else (b, a)
    return hi + math.log1p(math.exp(lo - hi))


def _frames(
    log_probs: torch.Tensor, lengths: torch.Tensor | list[int] | None, blank: int
) -> tuple[list[torch.Tensor], bool]:
    """The (T_b, V) frames of every sequence, and whether the input was batched."""
    if log_probs.dim() not in (2, 3):
        raise InputError(
            f"log_probs must be (T, V) or (B, T, V), got shape {tuple(log_probs.shape)}"
        )
    batched = log_probs.dim() == 3
    x = log_probs if batched else log_probs.unsqueeze(0)  # (B, T, V)
    B, T, V = x.shape
    if not 0 <= blank < V:
        raise InputError(f"blank id {blank} is not a class of V={V}")
    if lengths is None:
        lengths = [T] * B
    lengths = [int(n) for n in lengths]
    if len(lengths) != B or any(not 0 <= n <= T for n in lengths):
        raise InputError(f"lengths must be {B} values in [0, {T}], got {lengths}")
    return [x[b, : lengths[b]] for b in range(B)], batched


def ctc_greedy_decode(
    log_probs: torch.Tensor, lengths: torch.Tensor | list[int] | None = None, blank: int = 0
) -> Labelling | list[Labelling]:
    """Best-path decoding: the most probable class per frame, repeats merged, blanks dropped.

    Args:
        log_probs: (T, V) or (B, T, V) scores per frame (log-probabilities or logits: only the
            argmax is used).
        lengths: (B,) valid frames of each sequence (batched input only; default all T).
        blank: id of the blank class.

    Returns:
        The labelling (a tuple of class ids) for (T, V) input; a list of B of them for batches.
    """
    sequences, batched = _frames(log_probs, lengths, blank)
    out = []
    for frames in sequences:
        best = frames.argmax(dim=-1).tolist()  # (T_b,)
        # B(pi): keep a frame's class when it differs from the previous frame's and is not blank
        labels = [c for t, c in enumerate(best) if c != blank and (t == 0 or c != best[t - 1])]
        out.append(tuple(labels))
    return out if batched else out[0]


def _accumulate(table: dict[Labelling, list[float]], prefix: Labelling, i: int, p: float) -> None:
    """table[prefix][i] += p, in log space (i = 0: p_b, 1: p_nb)."""
    entry = table.setdefault(prefix, [_NEG_INF, _NEG_INF])
    entry[i] = _logadd(entry[i], p)


def _beam_one(logp: list[list[float]], beam: int, blank: int) -> list[tuple[Labelling, float]]:
    """Prefix beam search over one sequence's (T, V) log-probabilities (nested lists)."""
    # before the first frame: only the empty prefix, reached by the empty path (counted as blank)
    prefixes: dict[Labelling, tuple[float, float]] = {(): (0.0, _NEG_INF)}  # l -> (p_b, p_nb)
    for y in logp:  # y: (V,) log y_t
        next_: dict[Labelling, list[float]] = {}  # l -> [p_b(l, t), p_nb(l, t)]
        add = functools.partial(_accumulate, next_)
        for prefix, (p_b, p_nb) in prefixes.items():
            p_total = _logadd(p_b, p_nb)
            # a blank keeps the prefix: p_b(l, t) += p(l, t-1) y_t[blank]
            add(prefix, 0, p_total + y[blank])
            last = prefix[-1] if prefix else None
            for c, y_c in enumerate(y):
                if c == blank or y_c == _NEG_INF:
                    continue
                extended = prefix + (c,)
                if c == last:
                    # repeating the last label without a blank between merges into l:
                    #   p_nb(l, t) += p_nb(l, t-1) y_t[c]
                    add(prefix, 1, p_nb + y_c)
                    # only after a blank is it a new label: p_nb(l+c, t) += p_b(l, t-1) y_t[c]
                    add(extended, 1, p_b + y_c)
                else:
                    # a new label: p_nb(l+c, t) += p(l, t-1) y_t[c]
                    add(extended, 1, p_total + y_c)
        ranked = sorted(next_.items(), key=lambda item: _logadd(*item[1]), reverse=True)
        prefixes = {prefix: (p_b, p_nb) for prefix, (p_b, p_nb) in ranked[:beam]}
    results = [(prefix, _logadd(p_b, p_nb)) for prefix, (p_b, p_nb) in prefixes.items()]
    results.sort(key=lambda item: item[1], reverse=True)
    return [(prefix, score) for prefix, score in results if score > _NEG_INF]


def ctc_prefix_beam_search(
    log_probs: torch.Tensor,
    beam: int = 8,
    blank: int = 0,
    lengths: torch.Tensor | list[int] | None = None,
) -> list[tuple[Labelling, float]] | list[list[tuple[Labelling, float]]]:
    """The most probable labellings by CTC prefix beam search (module docstring).

    Args:
        log_probs: (T, V) or (B, T, V) log-probabilities per frame (each row a log-softmax).
        beam: prefixes kept after every frame (>= 1).
        blank: id of the blank class.
        lengths: (B,) valid frames of each sequence (batched input only; default all T).

    Returns:
        For (T, V) input, up to ``beam`` pairs ``(labelling, log p(labelling | x))``, best first,
        where the labelling is a tuple of class ids (blank never among them) and the
        probability sums every surviving path that collapses to it (exact when nothing was
        pruned). For (B, T, V) input, a list of B such lists. Zero frames give ``[((), 0.0)]``.
    """
    if beam < 1:
        raise InputError(f"beam must be >= 1, got {beam}")
    sequences, batched = _frames(log_probs, lengths, blank)
    out = [_beam_one(frames.detach().double().cpu().tolist(), beam, blank) for frames in sequences]
    return out if batched else out[0]
