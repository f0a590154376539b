"""Synthetic long-range tasks: labels checked by brute force, shapes, padding, seeding, errors."""

from __future__ import annotations

import itertools
from functools import reduce
from operator import xor

import pytest
import torch

from rnnlab.data.synthetic import (
    TASKS,
    adding,
    bits_of,
    delayed_recall,
    parity,
    parity_label,
    stream,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_parity_label_on_every_string_up_to_ten_bits():
    for n in range(1, 11):
        for bits in itertools.product((0, 1), repeat=n):
            assert parity_label(bits) == reduce(xor, bits)
            assert parity_label("".join(map(str, bits))) == reduce(xor, bits)


def test_issue_examples():
    assert parity_label("1000010101") == 0  # YES: an even number of ones
    assert parity_label("100011") == 1  # NO: odd


def test_parity_batch_labels_by_brute_force():
    b = parity(256, 12, gen(3))
    assert b.x.shape == (256, 12, 2) and b.lengths.shape == (256,) and b.y.dtype == torch.long
    assert int(b.lengths.min()) >= 1 and int(b.lengths.max()) <= 12
    assert len(set(b.lengths.tolist())) > 6, "lengths vary"
    for i in range(len(b)):
        n = int(b.lengths[i])
        bits = []
        for t in range(12):
            one_hot = b.x[i, t].tolist()
            if t < n:
                assert one_hot in ([1.0, 0.0], [0.0, 1.0]), "one bit per real step"
                bits.append(int(one_hot[1]))
            else:
                assert one_hot == [0.0, 0.0], "padding is zeros"
        ones = 0
        for bit in bits:
            ones += bit
        assert int(b.y[i]) == ones % 2
        assert bits_of(b, i) == "".join(map(str, bits))


def test_parity_fixed_length_and_every_string_of_three_bits_appears():
    b = parity(400, 3, gen(0), min_length=3)
    assert (b.lengths == 3).all()
    assert {bits_of(b, i) for i in range(len(b))} == {
        "".join(p) for p in itertools.product("01", repeat=3)
    }


def test_adding_problem_targets():
    T = 20
    b = adding(64, T, gen(1))
    assert b.x.shape == (64, T, 2) and (b.lengths == T).all()
    for i in range(64):
        marks = [t for t in range(T) if b.x[i, t, 1] == 1.0]
        assert len(marks) == 2 and marks[0] < T // 2 <= marks[1], "one marker per half"
        assert (b.x[i, :, 1].sum() == 2).item()
        expected = float(b.x[i, marks[0], 0] + b.x[i, marks[1], 0])
        assert float(b.y[i]) == pytest.approx(expected)
    assert 0.0 <= float(b.x[..., 0].min()) and float(b.x[..., 0].max()) <= 1.0


def test_delayed_recall_layout():
    K, delay, A = 4, 7, 6
    b = delayed_recall(32, delay, gen(2), span=K, symbols=A)
    T = delay + 2 * K
    assert b.x.shape == (32, T, A + 2) and b.y.shape == (32, K)
    channel = b.x.argmax(-1)  # (B, T)
    assert (b.x.sum(-1) == 1).all(), "one-hot at every step"
    for i in range(32):
        assert channel[i, :K].tolist() == [int(s) + 1 for s in b.y[i]], "symbols shown first"
        rest = channel[i, K:].tolist()
        assert rest[delay - 1] == A + 1 and rest.count(A + 1) == 1, "go signal ends the delay"
        assert all(c == 0 for j, c in enumerate(rest) if j != delay - 1), "blanks otherwise"
    assert int(b.y.min()) >= 0 and int(b.y.max()) < A


@pytest.mark.parametrize("name", sorted(TASKS))
def test_streams_are_seeded_and_fresh(name):
    a, b, c = stream(name, 8, 10, seed=5), stream(name, 8, 10, seed=5), stream(name, 8, 10, 6)
    first, second = next(a), next(a)
    again = next(b)
    torch.testing.assert_close(first.x, again.x)
    torch.testing.assert_close(first.y, again.y)
    assert not torch.equal(first.x, second.x), "a fresh batch every step"
    assert not torch.equal(first.x, next(c).x), "another seed, other data"
    task = TASKS[name]
    assert first.x.shape[-1] == task.input_size


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda g: parity(0, 5, g), "batch_size"),
        (lambda g: parity(4, 2, g, min_length=3), "max_length"),
        (lambda g: adding(4, 1, g), "length"),
        (lambda g: delayed_recall(4, 0, g), "delay"),
        (lambda g: delayed_recall(4, 3, g, symbols=1), "symbols"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(gen())


def test_unknown_task():
    with pytest.raises(ValueError, match="unknown task"):
        next(stream("sorting", 2, 3, 0))
