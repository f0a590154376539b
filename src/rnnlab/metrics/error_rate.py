"""Error rates of recognised sequences: edit distance, token error rate, whole-sequence accuracy.

Pure functions of references and hypotheses, each a sequence of tokens: a list of digits, a
string (its characters), a list of words. The Levenshtein distance d(r, h) is the fewest
substitutions, deletions and insertions that turn the reference r into the hypothesis h; over a
corpus of N pairs

    error rate = sum_i d(r_i, h_i) / sum_i |r_i|

which is the digit, character or word error rate (DER, CER, WER) as its tokens are digits,
characters or words: the corpus-level ratio of summed edits, as jiwer and the NIST tools report
it, not the mean of per-sentence rates. It can exceed 1 (many insertions).
Whole-sequence accuracy is the fraction of pairs with h_i = r_i.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from rnnlab.errors import InputError

__all__ = ["edit_distance", "error_rate", "sequence_accuracy"]


def edit_distance(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> int:
    """The Levenshtein distance between two token sequences (every edit costs 1).

    Wagner-Fischer dynamic programme, one row at a time (O(|ref| |hyp|) time, O(|hyp|) memory).
    """
    # D[i][j]: distance between ref[:i] and hyp[:j]; row 0: D[0][j] = j (j insertions)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        row = [i]  # D[i][0] = i (i deletions)
        for j, h in enumerate(hyp, start=1):
            # D[i][j] = min(D[i-1][j] + 1, D[i][j-1] + 1, D[i-1][j-1] + [r_i != h_j])
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = row
    return prev[-1]


def _pairs(refs: Sequence, hyps: Sequence) -> None:
    if len(refs) != len(hyps):
        raise InputError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if not refs:
        raise InputError("no references: an error rate needs at least one pair")


def error_rate(refs: Sequence[Sequence[Hashable]], hyps: Sequence[Sequence[Hashable]]) -> float:
    """Summed edit distances over summed reference lengths (module docstring).

    Raises:
        InputError: different numbers of references and hypotheses, none at all, or references
            that are all empty (the rate's denominator would be 0).
    """
    _pairs(refs, hyps)
    length = sum(len(r) for r in refs)
    if length == 0:
        raise InputError("every reference is empty: the error rate (edits / reference tokens) "
                         "is undefined")  # fmt: skip
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps, strict=True)) / length


def sequence_accuracy(
    refs: Sequence[Sequence[Hashable]], hyps: Sequence[Sequence[Hashable]]
) -> float:
    """The fraction of hypotheses equal to their reference, token for token.

    Raises:
        InputError: different numbers of references and hypotheses, or none at all.
    """
    _pairs(refs, hyps)
    same = sum(list(r) == list(h) for r, h in zip(refs, hyps, strict=True))
    return same / len(refs)
