"""MusicModel: the published NLL per time step on a hand-computed case, inputs shifted by one
step, sampling (seeded, primed, greedy), and a saved model that plays the same."""

from __future__ import annotations

import math

import pytest
import torch

from rnnlab import saved
from rnnlab.errors import InputError
from rnnlab.models.music import KEYS, MusicConfig, MusicModel, ensemble_nll, shifted


def model(**kw) -> MusicModel:
    torch.manual_seed(0)
    return MusicModel(MusicConfig(hidden_size=16, dropout=0.0, **kw)).eval()


def roll(steps: list[list[int]]) -> torch.Tensor:
    x = torch.zeros(len(steps), KEYS)
    for t, keys in enumerate(steps):
        x[t, keys] = 1.0
    return x


def constant(b: torch.Tensor) -> MusicModel:
    """A model whose logits are b at every step: output weights zero, output bias b."""
    m = model()
    with torch.no_grad():
        m.out.weight.zero_()
        m.out.bias.copy_(b)
    return m


def test_nll_per_time_step_on_a_hand_computed_case():
    # two pieces, 3 steps in all; logits b_k = 0 except b_5 = 2 and b_7 = -1
    b = torch.zeros(KEYS)
    b[5], b[7] = 2.0, -1.0
    m = constant(b)
    pieces = [roll([[5], [5, 7]]), roll([[]])]

    def log_sig(z):  # log sigmoid(z)
        return -math.log1p(math.exp(-z))

    # a key with logit 0 costs log 2 whether on or off; key 5 on: -log s(2); off: -log s(-2)
    # key 7 on: -log s(-1); off: -log s(1)
    step1 = 86 * math.log(2) - log_sig(2.0) - log_sig(1.0)  # key 5 on, key 7 off
    step2 = 86 * math.log(2) - log_sig(2.0) - log_sig(-1.0)  # keys 5 and 7 on
    step3 = 86 * math.log(2) - log_sig(-2.0) - log_sig(1.0)  # nothing on
    want = (step1 + step2 + step3) / 3
    assert m.nll(pieces) == pytest.approx(want, rel=1e-6)
    # the same through batches (padding must not count), as the trainer's evaluate sees it
    padded = torch.nn.utils.rnn.pad_sequence(pieces, batch_first=True)
    assert m.evaluate([(padded, torch.tensor([2, 1]))])["nll"] == pytest.approx(want, rel=1e-6)
    assert m.loss((padded, torch.tensor([2, 1]))).item() == pytest.approx(want, rel=1e-6)


def test_step_t_sees_only_the_steps_before_it():
    x = roll([[1], [2], [3], [4]])[None]
    assert torch.equal(shifted(x)[0, 0], torch.zeros(KEYS))
    assert torch.equal(shifted(x)[0, 1:], x[0, :-1])
    m = model()
    with torch.no_grad():
        a, _ = m(x)
        y = x.clone()
        y[0, 2] = roll([[60]])[0]  # change step 2: logits of steps 0..2 stay, step 3 moves
        b, _ = m(y)
    torch.testing.assert_close(a[0, :3], b[0, :3])
    assert not torch.allclose(a[0, 3], b[0, 3])


def test_sampling_is_seeded_primed_and_greedy_at_temperature_zero():
    m = model(cell="gru")
    a, b = m.sample(12, 1.0, seed=3), m.sample(12, 1.0, seed=3)
    assert a.shape == (12, KEYS) and torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, m.sample(12, 1.0, seed=4))
    prime = roll([[40, 44, 47], [40, 44, 47], [41, 45, 48]])
    c = m.sample(5, 1.0, seed=3, prime=prime)
    assert c.shape == (8, KEYS) and torch.equal(c[:3], prime)
    # greedy: each step the keys with p > 1/2, given the steps before it
    g = m.sample(4, 0.0)
    with torch.no_grad():
        logits, _ = m(g[None])
    assert torch.equal(g, (logits[0] > 0).float())
    for bad in ({"steps": 0}, {"steps": 3, "temperature": -1.0}):
        with pytest.raises(InputError):
            m.sample(**bad)
    with pytest.raises(InputError, match="prime"):
        m.sample(3, prime=torch.zeros(4, 12))


def test_a_saved_model_plays_the_same(tmp_path):
    from rnnlab.train.weights import save_weights

    m = model(cell="rnn", num_layers=2)
    m.steps_per_quarter = 2
    saved.save_config(m, tmp_path)
    save_weights(m, tmp_path / "model.safetensors")
    back = saved.load(tmp_path)
    assert back.config == m.config and back.steps_per_quarter == 2
    assert torch.equal(back.sample(6, 1.0, seed=0), m.sample(6, 1.0, seed=0))


def test_config_refuses_bad_values():
    for bad in ({"cell": "tcn"}, {"hidden_size": 0}, {"dropout": 1.0}):
        with pytest.raises(ValueError):
            MusicConfig(**bad)
    with pytest.raises(ValueError, match="88"):
        model()(torch.zeros(1, 3, 12))


def test_an_ensemble_averages_the_key_probabilities():
    # two constant models: p_k = sigmoid(b_k) and sigmoid(c_k); the ensemble's p_k is their mean
    b, c = torch.zeros(KEYS), torch.zeros(KEYS)
    b[5], b[7], c[5], c[9] = 3.0, -2.0, -1.0, 4.0
    pieces = [roll([[5], [5, 9], []]), roll([[7, 9]])]
    p = (torch.sigmoid(b) + torch.sigmoid(c)) / 2
    want = -sum(float((v * p.log() + (1 - v) * (1 - p).log()).sum()) for v in pieces) / 4
    assert ensemble_nll([constant(b), constant(c)], pieces) == pytest.approx(want, rel=1e-6)
    # one member is the model itself; the mean of two copies is the same model
    m = model(cell="gru")
    assert ensemble_nll([m], pieces) == pytest.approx(m.nll(pieces), rel=1e-6)
    assert ensemble_nll([m, m], pieces) == pytest.approx(m.nll(pieces), rel=1e-6)
    # never worse than the mean of its members' NLLs (log is concave, per key and step)
    both = (constant(b).nll(pieces) + constant(c).nll(pieces)) / 2
    assert ensemble_nll([constant(b), constant(c)], pieces) <= both
    with pytest.raises(InputError, match="at least one"):
        ensemble_nll([], pieces)


def test_a_primed_sample_continues_from_the_state_a_step_by_step_reading_gives():
    m = model(cell="lstm")
    prime = roll([[40, 44, 47], [40, 44, 47], [41, 45, 48], [43, 47]])
    x, state = torch.zeros(1, 1, KEYS), None
    for v in prime:  # the reference: one step at a time
        _, state = m.rnn(x, state)
        x = v.view(1, 1, KEYS)
    out, _ = m.rnn(x, state)
    want = torch.sigmoid(m.out(out)[0, 0])  # p(v_T0) given the prime
    g = torch.Generator().manual_seed(5)
    assert torch.equal(
        m.sample(1, 1.0, seed=5, prime=prime)[-1], torch.bernoulli(want, generator=g)
    )
    got = m(torch.cat([prime, torch.zeros(1, KEYS)])[None])[0][0, -1]
    torch.testing.assert_close(torch.sigmoid(got), want, rtol=1e-5, atol=1e-6)
