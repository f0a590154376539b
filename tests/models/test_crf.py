"""The linear-chain CRF against brute force over every tag path, gradcheck, and length masks."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnlab.models.crf import CRF


def make_crf(C: int, seed: int, dtype=torch.float64) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(C).to(dtype)
    with torch.no_grad():  # larger than the init so that paths differ clearly
        for p in crf.parameters():
            p.normal_(0.0, 1.0)
    return crf


def path_score(crf: CRF, x: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    """s(y) of one unbatched sequence x (n, C), written out term by term."""
    s = crf.start[path[0]] + crf.end[path[-1]]
    for t, y in enumerate(path):
        s = s + x[t, y]
        if t:
            s = s + crf.transitions[path[t - 1], y]
    return s


def brute_force(crf: CRF, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """(log Z, best path) of x (n, C) by enumerating all C**n paths."""
    n, C = x.shape
    paths = list(itertools.product(range(C), repeat=n))
    scores = torch.stack([path_score(crf, x, p) for p in paths])
    return torch.logsumexp(scores, 0), paths[int(scores.argmax())]


@pytest.mark.parametrize("C, lengths", [(1, [3]), (2, [1]), (3, [4, 2, 1]), (4, [3, 3]),
                                        (3, [5, 1, 3, 4])])  # fmt: skip
def test_log_partition_and_viterbi_equal_brute_force(C, lengths):
    crf = make_crf(C, seed=C)
    B, T = len(lengths), max(lengths)
    x = torch.randn(B, T, C, dtype=torch.float64)
    log_z = crf.log_partition(x, torch.tensor(lengths))
    path = crf.decode(x, torch.tensor(lengths))
    for b, n in enumerate(lengths):
        want_z, want_path = brute_force(crf, x[b, :n])
        torch.testing.assert_close(log_z[b], want_z)
        assert path[b, :n].tolist() == list(want_path)
        assert (path[b, n:] == -1).all()


def test_score_equals_the_written_out_sum_and_nll_is_a_log_probability():
    crf = make_crf(3, seed=7)
    lengths = torch.tensor([4, 2, 3])
    x = torch.randn(3, 4, 3, dtype=torch.float64)
    tags = torch.randint(0, 3, (3, 4))
    tags[1, 2:] = -1  # padding may hold anything
    s = crf.score(x, tags, lengths)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(s[b], path_score(crf, x[b, :n], tuple(tags[b, :n].tolist())))
    # the probabilities of all paths of a sequence sum to one
    n = 3
    total = sum(
        torch.exp(-crf.nll(x[2:3, :n], torch.tensor([p]), torch.tensor([n])))
        for p in itertools.product(range(3), repeat=n)
    )
    torch.testing.assert_close(total, torch.ones(1, dtype=torch.float64))


def test_gradcheck_float64():
    crf = make_crf(3, seed=1)
    lengths = torch.tensor([4, 2, 1])
    x = torch.randn(3, 4, 3, dtype=torch.float64, requires_grad=True)
    tags = torch.randint(0, 3, (3, 4))
    params = (crf.transitions, crf.start, crf.end)

    def g(x, trans, start, end):  # the CRF as a function of its input and parameters
        c = CRF(3).to(torch.float64)
        del c.transitions, c.start, c.end
        c.transitions, c.start, c.end = trans, start, end
        return c.log_partition(x, lengths), c.nll(x, tags, lengths)

    inputs = (x, *(p.detach().clone().requires_grad_(True) for p in params))
    assert torch.autograd.gradcheck(g, inputs)


def test_padding_is_never_read():
    crf = make_crf(4, seed=3)
    lengths = torch.tensor([5, 2, 3])
    x = torch.randn(3, 5, 4, dtype=torch.float64)
    tags = torch.randint(0, 4, (3, 5))
    noisy = x.clone()
    for b, n in enumerate(lengths.tolist()):
        noisy[b, n:] = 1e3 * torch.randn(5 - n, 4, dtype=torch.float64)
    torch.testing.assert_close(crf.log_partition(x, lengths), crf.log_partition(noisy, lengths))
    torch.testing.assert_close(crf.score(x, tags, lengths), crf.score(noisy, tags, lengths))
    assert torch.equal(crf.decode(x, lengths), crf.decode(noisy, lengths))
    # a batch gives each sequence what it gets alone
    for b, n in enumerate(lengths.tolist()):
        alone = x[b : b + 1, :n]
        torch.testing.assert_close(crf.log_partition(alone, lengths[b : b + 1])[0],
                                   crf.log_partition(x, lengths)[b])  # fmt: skip
        assert (
            crf.decode(alone, lengths[b : b + 1])[0].tolist()
            == crf.decode(x, lengths)[b, :n].tolist()
        )


def test_a_long_sequence_stays_finite_in_log_space():
    crf = make_crf(5, seed=0, dtype=torch.float32)
    x = 50 * torch.randn(2, 200, 5)
    log_z = crf.log_partition(x, torch.tensor([200, 150]))
    assert torch.isfinite(log_z).all()
    best = crf.score(x, crf.decode(x, torch.tensor([200, 150])), torch.tensor([200, 150]))
    assert (best <= log_z + 1e-3).all()


def test_bad_inputs_say_what_is_wrong():
    crf = CRF(3)
    with pytest.raises(ValueError, match="emissions"):
        crf.log_partition(torch.zeros(2, 4, 5), torch.tensor([4, 4]))
    with pytest.raises(ValueError, match="length"):
        crf.log_partition(torch.zeros(2, 4, 3), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="length"):
        crf.decode(torch.zeros(2, 4, 3), torch.tensor([5, 4]))
    with pytest.raises(ValueError, match="tags must be in"):
        crf.score(torch.zeros(1, 2, 3), torch.tensor([[0, 3]]), torch.tensor([2]))
    with pytest.raises(ValueError, match="num_tags"):
        CRF(0)
