"""Edit distance and error rates: hand-worked cases, the metric's axioms, a breadth-first search.

The breadth-first search finds the fewest single-token edits by exploring every sequence one
edit away, then two, ...: the definition of the Levenshtein distance itself, sharing no code or
recurrence with the dynamic programme under test. jiwer and editdistance are used as well when
installed (they are not dependencies of rnnlab).
"""

from __future__ import annotations

import itertools
import random

import pytest

from rnnlab.errors import InputError
from rnnlab.metrics import edit_distance, error_rate, sequence_accuracy

# (reference, hypothesis, distance), each worked by hand
DISTANCES = [
    ("", "", 0),
    ("", "abc", 3),  # three insertions
    ("abc", "", 3),  # three deletions
    ("abc", "abc", 0),
    ("kitten", "sitting", 3),  # k->s, e->i, +g
    ("flaw", "lawn", 2),  # -f, +n
    ("abc", "cab", 2),  # +c at the front, -c at the end
    ("intention", "execution", 5),  # the textbook example (Jurafsky & Martin) at unit costs
    ([3, 1, 4, 1, 5], [3, 4, 1, 5, 9], 2),  # -1, +9
    ([1, 2, 3], [4, 5, 6], 3),  # three substitutions
    (["the", "cat", "sat"], ["the", "cat", "sat", "down"], 1),
    ((7,), (7, 7, 7), 2),
]


@pytest.mark.parametrize("ref,hyp,expected", DISTANCES)
def test_hand_worked_distances(ref, hyp, expected):
    assert edit_distance(ref, hyp) == expected
    assert edit_distance(hyp, ref) == expected  # symmetric


def bfs_distance(ref: tuple, hyp: tuple, alphabet: tuple) -> int:
    """The fewest single-token edits (insert, delete, substitute) from ref to hyp, by search."""
    frontier, seen, steps = {ref}, {ref}, 0
    while hyp not in frontier:
        nxt = set()
        for s in frontier:
            for i in range(len(s) + 1):
                for a in alphabet:
                    nxt.add(s[:i] + (a,) + s[i:])  # insertion
                if i < len(s):
                    nxt.add(s[:i] + s[i + 1 :])  # deletion
                    for a in alphabet:
                        nxt.add(s[:i] + (a,) + s[i + 1 :])  # substitution
        frontier = nxt - seen
        seen |= frontier
        steps += 1
    return steps


def all_sequences(alphabet, max_len):
    for n in range(max_len + 1):
        yield from itertools.product(alphabet, repeat=n)


def test_every_pair_of_short_sequences_against_search():
    sequences = list(all_sequences((0, 1, 2), 3))  # 40 sequences, 1,600 pairs
    for ref in sequences:
        for hyp in sequences:
            assert edit_distance(ref, hyp) == bfs_distance(ref, hyp, (0, 1, 2)), (ref, hyp)


def test_metric_axioms_on_random_sequences():
    rng = random.Random(0)
    for _ in range(300):
        a, b, c = ([rng.randrange(4) for _ in range(rng.randrange(8))] for _ in range(3))
        d_ab = edit_distance(a, b)
        assert (d_ab == 0) == (a == b)
        assert d_ab == edit_distance(b, a)
        assert d_ab <= edit_distance(a, c) + edit_distance(c, b)  # triangle inequality
        assert abs(len(a) - len(b)) <= d_ab <= max(len(a), len(b))


def test_agrees_with_jiwer():
    import jiwer  # a test-only dependency: the speech community's WER

    rng = random.Random(1)
    refs = [[str(rng.randrange(10)) for _ in range(rng.randrange(1, 8))] for _ in range(200)]
    hyps = [[str(rng.randrange(10)) for _ in range(rng.randrange(0, 8))] for _ in range(200)]
    expected = jiwer.wer([" ".join(r) for r in refs], [" ".join(h) for h in hyps])
    assert error_rate(refs, hyps) == pytest.approx(expected)
    for r, h in zip(refs, hyps, strict=True):  # one pair at a time: the edit distance itself
        if r:
            assert edit_distance(r, h) == round(jiwer.wer(" ".join(r), " ".join(h) or "") * len(r))


# (references, hypotheses, error rate, sequence accuracy), worked by hand
RATES = [
    ([[1, 2, 3]], [[1, 2, 3]], 0.0, 1.0),
    ([[1, 2, 3]], [[]], 1.0, 0.0),  # 3 deletions / 3
    ([[1]], [[1, 1, 1]], 2.0, 0.0),  # insertions can push the rate past 1
    # 1 substitution + 0 + 2 deletions = 3 edits over 3 + 1 + 4 = 8 digits; one string right
    ([[1, 2, 3], [4], [5, 6, 7, 8]], [[1, 9, 3], [4], [5, 6]], 3 / 8, 1 / 3),
    # an empty reference adds its hypothesis' insertions but no length: (0 + 2) / 2
    ([[], [5, 5]], [[7, 7], [5, 5]], 1.0, 0.5),
    # strings are sequences of characters: character error rate; word lists: word error rate
    (["seven", "two"], ["seven", "too"], 1 / 8, 0.5),
    ([["two", "four"], ["six"]], [["two", "for"], ["six"]], 1 / 3, 0.5),
    # corpus-level, not the mean of sentence rates ((1/1 + 0/9) / 2 = 0.5)
    ([[1], list(range(9))], [[2], list(range(9))], 1 / 10, 0.5),
]


@pytest.mark.parametrize("refs,hyps,rate,accuracy", RATES)
def test_hand_worked_rates(refs, hyps, rate, accuracy):
    assert error_rate(refs, hyps) == pytest.approx(rate)
    assert sequence_accuracy(refs, hyps) == pytest.approx(accuracy)


def test_sequence_accuracy_compares_tokens_not_containers():
    assert sequence_accuracy([(1, 2)], [[1, 2]]) == 1.0


@pytest.mark.parametrize(
    "refs,hyps,message",
    [
        ([[1]], [], "1 references but 0 hypotheses"),
        ([], [], "no references"),
        ([[], []], [[1], []], "every reference is empty"),
    ],
)
def test_errors(refs, hyps, message):
    with pytest.raises(InputError, match=message):
        error_rate(refs, hyps)
    if "empty" not in message:
        with pytest.raises(InputError, match=message):
            sequence_accuracy(refs, hyps)
    else:
        assert sequence_accuracy(refs, hyps) == 0.5
