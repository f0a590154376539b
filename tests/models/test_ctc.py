"""CTC decoding held against enumerating every path, and against torch's CTC loss."""

import itertools
import math
from collections import defaultdict

import pytest
import torch

from rnnlab.errors import InputError
from rnnlab.models.ctc import ctc_greedy_decode, ctc_prefix_beam_search


def collapse(path, blank):
    """B(pi): merge repeats, then drop blanks (written out here, apart from the module)."""
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return tuple(c for c in merged if c != blank)


def brute_force(log_probs: torch.Tensor, blank: int) -> dict[tuple, float]:
    """p(l | x) of every labelling l, by summing prod_t y_t[pi_t] over all V^T paths."""
    T, V = log_probs.shape
    probs = log_probs.double().exp()
    total: dict[tuple, float] = defaultdict(float)
    for path in itertools.product(range(V), repeat=T):
        p = 1.0
        for t, c in enumerate(path):
            p *= probs[t, c].item()
        total[collapse(path, blank)] += p
    return total


def random_log_probs(T: int, V: int, seed: int, scale: float = 2.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(scale * torch.randn(T, V, generator=g, dtype=torch.float64), -1)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("T,V", [(1, 2), (1, 3), (2, 3), (3, 2), (4, 3), (5, 3), (5, 2)])
def test_beam_equals_brute_force(T, V, seed):
    blank = seed % V  # the blank need not be class 0
    log_probs = random_log_probs(T, V, seed)
    exact = brute_force(log_probs, blank)
    assert sum(exact.values()) == pytest.approx(1.0, abs=1e-12)
    # a beam wider than the number of prefixes (at most sum_k (V-1)^k <= 63 here) prunes nothing
    results = ctc_prefix_beam_search(log_probs, beam=100, blank=blank)
    best_label, best_p = max(exact.items(), key=lambda item: item[1])
    assert results[0][0] == best_label
    assert math.exp(results[0][1]) == pytest.approx(best_p, abs=1e-6)
    # and every labelling, not only the best one
    assert {label for label, _ in results} == {label for label, p in exact.items() if p > 0}
    for label, logp in results:
        assert math.exp(logp) == pytest.approx(exact[label], abs=1e-9)
    scores = [logp for _, logp in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("seed", range(5))
def test_beam_top_equals_torch_ctc_loss(seed):
    """log p(y | x) of the top labelling is -ctc_loss(y), torch's forward-backward recursion."""
    T, V = 7, 4
    log_probs = random_log_probs(T, V, seed, scale=1.0)
    (label, logp), *_ = ctc_prefix_beam_search(log_probs, beam=2000)  # 3^0 + .. + 3^7 < 2000
    nll = torch.nn.functional.ctc_loss(
        log_probs.unsqueeze(1),  # (T, 1, V)
        torch.tensor([list(label) + [1]]),  # (1, S + 1): padded, so that S may be 0
        torch.tensor([T]),
        torch.tensor([len(label)]),
        blank=0,
        reduction="sum",
    )
    assert logp == pytest.approx(-nll.item(), abs=1e-6)


def test_narrow_beams_on_a_long_peaked_input_approach_torch_from_below():
    """Over 40 confident frames a narrow beam finds the top labelling; pruning only loses paths
    (those through a dropped prefix of it), so its probability rises towards the exact one as
    the beam widens (exact to 4e-6 at 512 in a trial run; 0.03 nats short at 8)."""
    T, V = 40, 6
    g = torch.Generator().manual_seed(3)
    best = torch.randint(0, V, (T,), generator=g)
    logits = torch.randn(T, V, generator=g, dtype=torch.float64)
    logits[torch.arange(T), best] += 6.0
    log_probs = torch.log_softmax(logits, -1)
    label = ctc_greedy_decode(log_probs)
    nll = torch.nn.functional.ctc_loss(
        log_probs.unsqueeze(1),
        torch.tensor([label]),
        torch.tensor([T]),
        torch.tensor([len(label)]),
        reduction="sum",
    )
    previous = -math.inf
    for beam in (2, 8, 32):
        (top, logp), *_ = ctc_prefix_beam_search(log_probs, beam=beam)
        assert top == label
        assert previous - 1e-12 <= logp <= -nll.item() + 1e-9
        previous = logp
    assert previous == pytest.approx(-nll.item(), abs=0.01)


def test_greedy_hand_worked():
    # argmax per frame: 1 1 0 1 2 2 0 0 3 -> merge repeats: 1 0 1 2 0 3 -> drop blanks: 1 1 2 3
    best = [1, 1, 0, 1, 2, 2, 0, 0, 3]
    log_probs = torch.full((len(best), 4), -5.0)
    log_probs[torch.arange(len(best)), torch.tensor(best)] = -0.1
    assert ctc_greedy_decode(log_probs) == (1, 1, 2, 3)
    # with blank = 1, the 1s are blanks: 1 0 1 2 0 3 -> 0 2 0 3
    assert ctc_greedy_decode(log_probs, blank=1) == (0, 2, 0, 3)


def test_greedy_batched_with_lengths():
    best = torch.tensor([[1, 0, 1, 2], [2, 2, 0, 0]])
    log_probs = torch.nn.functional.one_hot(best, 3).float().log()  # (2, 4, 3), -inf off-path
    assert ctc_greedy_decode(log_probs, lengths=[4, 2]) == [(1, 1, 2), (2,)]
    assert ctc_greedy_decode(log_probs, lengths=torch.tensor([2, 0])) == [(1,), ()]


def test_beam_batched_equals_one_by_one():
    log_probs = torch.stack([random_log_probs(5, 3, s) for s in range(3)])  # (3, 5, 3)
    lengths = [5, 3, 1]
    batched = ctc_prefix_beam_search(log_probs, beam=4, lengths=lengths)
    for b, n in enumerate(lengths):
        assert batched[b] == ctc_prefix_beam_search(log_probs[b, :n], beam=4)


def test_all_blanks_give_the_empty_labelling():
    log_probs = torch.full((6, 4), -30.0)
    log_probs[:, 0] = 0.0
    assert ctc_greedy_decode(log_probs) == ()
    (label, logp), *_ = ctc_prefix_beam_search(log_probs, beam=3)
    assert label == ()
    assert logp == pytest.approx(0.0, abs=1e-6)


def test_one_frame():
    log_probs = torch.tensor([[0.2, 0.5, 0.3]]).log()
    assert ctc_greedy_decode(log_probs) == (1,)
    results = ctc_prefix_beam_search(log_probs, beam=5)
    assert [label for label, _ in results] == [(1,), (2,), ()]
    assert [math.exp(p) for _, p in results] == pytest.approx([0.5, 0.3, 0.2])


def test_zero_frames_and_beam_one():
    assert ctc_prefix_beam_search(torch.zeros(0, 3)) == [((), 0.0)]
    assert ctc_greedy_decode(torch.zeros(0, 3)) == ()
    log_probs = random_log_probs(5, 3, 0)
    assert len(ctc_prefix_beam_search(log_probs, beam=1)) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"beam": 0}, {"blank": 3}, {"blank": -1}, {"lengths": [4]}],
)
def test_bad_arguments(kwargs):
    with pytest.raises(InputError):
        ctc_prefix_beam_search(torch.zeros(2, 3, 3).log_softmax(-1), **kwargs)


def test_bad_shape():
    with pytest.raises(InputError, match="shape"):
        ctc_greedy_decode(torch.zeros(3))
