"""next_token: greedy, temperature, top-k, seeded generators, and its argument checks."""

from __future__ import annotations

import math

import pytest
import torch

from rnnlab.models.sampling import next_token


def draws(logits, n=2000, seed=0, **kw) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    return [next_token(logits, generator=g, **kw) for _ in range(n)]


def test_temperature_zero_and_top_1_are_greedy():
    logits = torch.randn(50, generator=torch.Generator().manual_seed(1))
    best = int(logits.argmax())
    assert next_token(logits, temperature=0) == best
    assert set(draws(logits, 50, top_k=1)) == {best}


@pytest.mark.parametrize("seed", range(5))
def test_a_temperature_near_zero_equals_greedy(seed):
    logits = torch.randn(1000, generator=torch.Generator().manual_seed(seed))
    assert set(draws(logits, 20, seed=seed, temperature=1e-4)) == {int(logits.argmax())}


def test_top_k_draws_only_among_the_k_largest():
    logits = torch.randn(30, generator=torch.Generator().manual_seed(2))
    top = set(torch.topk(logits, 5).indices.tolist())
    got = draws(logits, 3000, top_k=5, temperature=2.0)
    assert set(got) == top  # every one of the k is drawn, nothing else


def test_frequencies_follow_the_softmax():
    logits = torch.tensor([0.0, 1.0, 2.0, float("-inf")])
    got = draws(logits, 5000, seed=4)
    p = torch.softmax(logits, 0).tolist()
    for v in range(3):
        freq = got.count(v) / len(got)
        assert abs(freq - p[v]) < 4 * math.sqrt(p[v] * (1 - p[v]) / len(got))
    assert got.count(3) == 0  # -inf is impossible
    # temperature 2 flattens: the same as halving the logits
    hot = draws(logits, 2000, seed=4, temperature=2.0)
    assert hot == draws(logits / 2, 2000, seed=4)


def test_the_same_seed_gives_the_same_draws():
    logits = torch.randn(100)
    assert draws(logits, 200, seed=7) == draws(logits, 200, seed=7)
    assert draws(logits, 200, seed=7) != draws(logits, 200, seed=8)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": 2.0}, "top_k"),
    ],
)
def test_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        next_token(torch.zeros(4), **kw)
    with pytest.raises(ValueError, match="1-D"):
        next_token(torch.zeros(2, 4))
