"""Attention: masked softmax rows sum to 1 over the real source tokens and are 0 at padding;
additive and multiplicative scores equal their formulas computed position by position; one query
per step and all steps at once agree; padding never changes a context."""

from __future__ import annotations

import pytest
import torch

from rnnlab.models.attention import (
    AdditiveAttention,
    MultiplicativeAttention,
    make_attention,
    masked_softmax,
)

B, S, Q, K, A, T = 4, 6, 5, 7, 3, 3


@pytest.fixture
def inputs():
    g = torch.Generator().manual_seed(0)
    memory = torch.randn(B, S, K, generator=g, dtype=torch.float64)
    lengths = torch.tensor([6, 1, 3, 4])
    mask = torch.arange(S) < lengths[:, None]  # (B, S)
    memory = memory * mask[..., None]  # an encoder's outputs are 0 at padding
    return memory, mask, lengths, g


def reference_scores(kind, module, query, memory):
    """e_j for each (b, j) from the formula, one position at a time: (B, S)."""
    e = torch.empty(B, S, dtype=torch.float64)
    for b in range(B):
        for j in range(S):
            s, h = query[b], memory[b, j]
            if kind == "bahdanau":
                # e_j = v^T tanh(W_q s + b_q + W_k h_j)
                hidden = module.w_q.weight @ s + module.w_q.bias + module.w_k.weight @ h
                e[b, j] = module.v.weight[0] @ torch.tanh(hidden)
            elif kind == "general":
                e[b, j] = s @ (module.w_a.weight @ h)  # s^T W_a h_j
            else:
                e[b, j] = s @ h  # s^T h_j
    return e


def build(kind):
    torch.manual_seed(1)
    size = K if kind == "dot" else Q
    return make_attention(kind, size, K, A).double(), size


@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general"])
def test_weights_and_context_equal_the_formula(kind, inputs):
    memory, mask, lengths, g = inputs
    module, size = build(kind)
    query = torch.randn(B, size, generator=g, dtype=torch.float64)
    context, weights = module(query, memory, mask)
    e = reference_scores(kind, module, query, memory)
    for b in range(B):
        n = int(lengths[b])
        # alpha = softmax over the real positions only, exactly 0 at padding
        torch.testing.assert_close(weights[b, :n], torch.softmax(e[b, :n], 0))
        assert torch.all(weights[b, n:] == 0)
        torch.testing.assert_close(context[b], (weights[b, :n, None] * memory[b, :n]).sum(0))
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, dtype=torch.float64))


@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general"])
def test_all_steps_at_once_equal_step_by_step(kind, inputs):
    memory, mask, _, g = inputs
    module, size = build(kind)
    queries = torch.randn(B, T, size, generator=g, dtype=torch.float64)
    keys = module.keys(memory)
    context, weights = module(queries, memory, mask, keys)  # (B, T, K), (B, T, S)
    for t in range(T):
        c_t, w_t = module(queries[:, t], memory, mask)
        torch.testing.assert_close(context[:, t], c_t)
        torch.testing.assert_close(weights[:, t], w_t)


@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general"])
def test_padding_never_changes_the_context(kind, inputs):
    memory, mask, _, g = inputs
    module, size = build(kind)
    query = torch.randn(B, size, generator=g, dtype=torch.float64)
    wider = torch.cat([memory, 50 * torch.randn(B, 3, K, generator=g, dtype=torch.float64)], 1)
    wider_mask = torch.cat([mask, torch.zeros(B, 3, dtype=torch.bool)], 1)
    c1, w1 = module(query, memory, mask)
    c2, w2 = module(query, wider, wider_mask)
    torch.testing.assert_close(c1, c2)
    torch.testing.assert_close(w1, w2[:, :S])


def test_masked_softmax_rows():
    scores = torch.tensor([[1.0, 2.0, 3.0], [5.0, -1e4, 7.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    w = masked_softmax(scores, mask)
    torch.testing.assert_close(w[0], torch.tensor([1 / (1 + torch.e), torch.e / (1 + torch.e), 0]))
    assert w[1].tolist() == [1.0, 0.0, 0.0]
    w3 = masked_softmax(scores.unsqueeze(1).expand(2, 4, 3), mask)  # (B, T, S)
    torch.testing.assert_close(w3, w.unsqueeze(1).expand(2, 4, 3))


def test_gradients_reach_every_parameter(inputs):
    memory, mask, _, g = inputs
    for kind in ("bahdanau", "general"):
        module, size = build(kind)
        context, _ = module(torch.randn(B, size, generator=g, dtype=torch.float64), memory, mask)
        context.sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_errors():
    with pytest.raises(ValueError, match="dot attention needs"):
        MultiplicativeAttention(4, 6, "dot")
    with pytest.raises(ValueError, match="kind must be"):
        MultiplicativeAttention(4, 4, "cosine")
    with pytest.raises(ValueError, match="attention must be one of"):
        make_attention("luong", 4, 4, 4)
    assert isinstance(make_attention("bahdanau", 4, 6, 3), AdditiveAttention)
