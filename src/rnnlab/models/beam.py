"""Decoding a conditional language model: greedy search and batched beam search.

Symbols: B batch, K beam size, V target vocabulary, S source length. A hypothesis' model score
is the sum of its tokens' log-probabilities, ``<eos>`` included:

    score(y_1 .. y_n) = sum_t log P(y_t | y_<t, x)

Greedy search takes the most probable token at every step. Beam search keeps the K best partial
hypotheses of every sentence: each step extends every one by every token, and of the B x K x V
candidates keeps, per sentence, the K best; a candidate ending in ``<eos>`` among those K leaves
the beam as a finished hypothesis, and the beam is refilled with the next best candidates. A
sentence's result is the finished hypothesis with the best

    score / length ** alpha         (alpha = 0: the raw model score; alpha = 1: per token)

and its search stops as soon as no live hypothesis can beat that any more: a score only falls as
tokens are added, so the best a live hypothesis can still reach is score / max_len ** alpha. At
``max_len`` the unfinished hypotheses compete too. (Stopping once K hypotheses have finished, a
common shortcut, can return a short hypothesis worse than greedy's longer one.)

``<pad>`` and ``<bos>`` are never produced, nor any id in ``forbid`` (a captioner forbids
``<unk>``: no reference caption contains it). With K = 1 beam search is greedy search, token for
token. The model only needs ``encode(src, lengths) -> memory`` (with ``memory.select(rows)``),
``init_state(memory)`` and ``step(y_prev, state, memory) -> (logits, state, attention)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnnlab.errors import InputError
from rnnlab.text.vocab import Vocab

__all__ = ["Hypothesis", "beam_search", "greedy_decode"]


@dataclass
class Hypothesis:
    """A decoded sentence: token ids (ending in ``<eos>`` when ``finished``), the model score
    (sum of log-probabilities), and one attention row (S,) per token (None without attention)."""

    tokens: list[int]
    score: float
    attention: torch.Tensor | None  # (len(tokens), S)
    finished: bool


def _log_probs(logits: torch.Tensor, forbid: Sequence[int] = ()) -> torch.Tensor:
    """log-softmax (N, V) with ``<pad>``, ``<bos>`` and the ids ``forbid`` impossible (the
    others' probabilities are the model's, not renormalised)."""
    logp = torch.log_softmax(logits.float(), dim=-1)  # (N, V)
    logp[:, [Vocab.pad_id, Vocab.bos_id, *forbid]] = float("-inf")
    return logp


def _reorder(state, index: torch.Tensor):
    """The rows ``index`` of a decoder state (a tensor, or an LSTM's pair)."""
    if isinstance(state, tuple):
        return tuple(s.index_select(0, index) for s in state)
    return state.index_select(0, index)


@torch.no_grad()
def greedy_decode(
    model, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int, forbid: Sequence[int] = ()
) -> list[Hypothesis]:
    """The most probable token at each step, for a batch; stops at ``<eos>`` or ``max_len``.

    Args:
        model: the decoder (see the module docstring).
        src: (B, S) right-padded source ids; src_lengths: (B,).
        max_len: most tokens per hypothesis, ``<eos>`` included.
        forbid: token ids never to produce (besides ``<pad>`` and ``<bos>``).

    Returns:
        B hypotheses, in batch order.
    """
    if max_len < 1:
        raise InputError(f"max_len must be >= 1, got {max_len}")
    memory = model.encode(src, src_lengths)
    state = model.init_state(memory)
    B = src.shape[0]
    y = torch.full((B,), Vocab.bos_id, dtype=torch.long, device=src.device)  # (B,)
    scores = torch.zeros(B, device=src.device)  # (B,)
    done = torch.zeros(B, dtype=torch.bool, device=src.device)  # (B,)
    tokens, rows = [], []
    for _ in range(max_len):
        logits, state, weights = model.step(y, state, memory)  # (B, V), .., (B, S)
        logp = _log_probs(logits, forbid)  # (B, V)
        y = logp.argmax(-1)  # (B,)
        scores = scores + torch.where(done, 0.0, logp.gather(1, y[:, None]).squeeze(1))
        tokens.append(y)
        rows.append(weights)
        done = done | (y == Vocab.eos_id)
        if bool(done.all()):
            break
    ids = torch.stack(tokens, dim=1).tolist()  # (B, L)
    att = None if rows[0] is None else torch.stack(rows, dim=1)  # (B, L, S)
    out = []
    for b in range(B):
        seq = ids[b]
        finished = Vocab.eos_id in seq
        n = seq.index(Vocab.eos_id) + 1 if finished else len(seq)
        out.append(Hypothesis(seq[:n], float(scores[b]), None if att is None else att[b, :n],
                              finished))  # fmt: skip
    return out


@torch.no_grad()
def beam_search(
    model,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    beam: int,
    max_len: int,
    alpha: float = 0.0,
    forbid: Sequence[int] = (),
) -> list[Hypothesis]:
    """Batched beam search (see the module docstring).

    Args:
        model: the decoder.
        src: (B, S) right-padded source ids; src_lengths: (B,).
        beam: K >= 1.
        max_len: most tokens per hypothesis, ``<eos>`` included.
        alpha: length normalisation exponent of the final choice (>= 0); 0 here, the plain
            search for the best model score; a translator decodes with
            :data:`rnnlab.models.seq2seq.DEFAULT_ALPHA`.
        forbid: token ids never to produce (besides ``<pad>`` and ``<bos>``).

    Returns:
        B hypotheses, the best of each sentence, in batch order.
    """
    if beam < 1 or max_len < 1:
        raise InputError(f"beam and max_len must be >= 1, got {beam} and {max_len}")
    if alpha < 0:
        raise InputError(f"alpha must be >= 0, got {alpha}")
    B, K, device = src.shape[0], beam, src.device
    memory = model.encode(src, src_lengths).select(
        torch.arange(B, device=device).repeat_interleave(K)
    )
    state = model.init_state(memory)  # rows b*K + k
    scores = torch.full((B, K), float("-inf"), device=device)  # (B, K)
    scores[:, 0] = 0.0  # one live hypothesis (the empty one) per sentence at first
    y = torch.full((B * K,), Vocab.bos_id, dtype=torch.long, device=device)  # (B*K,)
    hist = torch.zeros(B, K, 0, dtype=torch.long, device=device)  # (B, K, t) tokens so far
    att_hist = None  # (B, K, t, S)
    finished: list[list[tuple[float, Hypothesis]]] = [[] for _ in range(B)]
    best = [float("-inf")] * B  # best normalised score of a finished hypothesis, per sentence
    done = [False] * B
    base = torch.arange(B, device=device).unsqueeze(1) * K  # (B, 1)
    for _ in range(max_len):
        logits, state, weights = model.step(y, state, memory)  # (B*K, V), .., (B*K, S)
        V = logits.shape[-1]
        logp = _log_probs(logits, forbid).view(B, K, V)
        cand = (scores.unsqueeze(-1) + logp).view(B, K * V)  # (B, K*V)
        top, idx = cand.topk(2 * K, dim=1)  # (B, 2K): at most K of them end in <eos>
        from_beam, tok = idx // V, idx % V  # (B, 2K)
        is_eos = tok == Vocab.eos_id
        w = None if weights is None else weights.view(B, K, -1)  # (B, K, S)
        ended = is_eos[:, :K] & torch.isfinite(top[:, :K])  # <eos> among the K best
        for b, j in ended.nonzero().tolist():
            if done[b]:
                continue
            k, score = int(from_beam[b, j]), float(top[b, j])
            toks = hist[b, k].tolist() + [Vocab.eos_id]
            att = None
            if w is not None:
                prev = att_hist[b, k] if att_hist is not None else w.new_zeros(0, w.shape[-1])
                att = torch.cat([prev, w[b, k][None]])  # (len, S)
            finished[b].append((score / len(toks) ** alpha, Hypothesis(toks, score, att, True)))
            best[b] = max(best[b], finished[b][-1][0])
        # the K best candidates that do not end: <eos> ones sort last, ties keep rank order
        rank = is_eos.long() * (2 * K) + torch.arange(2 * K, device=device)  # (B, 2K)
        keep = rank.argsort(dim=1)[:, :K]  # (B, K)
        scores = top.gather(1, keep)  # (B, K)
        # done when the best a live hypothesis can still reach cannot beat the best finished one
        reach = (scores.max(dim=1).values / max_len**alpha).tolist()  # (B,)
        done = [d or best[b] >= reach[b] for b, d in enumerate(done)]
        if all(done):
            break
        parent = from_beam.gather(1, keep)  # (B, K)
        new_tok = tok.gather(1, keep)  # (B, K)
        rows = (base + parent).view(-1)  # (B*K,) which old row each new hypothesis extends
        state = _reorder(state, rows)
        hist = torch.cat([hist.view(B * K, -1)[rows].view(B, K, -1), new_tok[..., None]], dim=2)
        if w is not None:
            step_att = w.reshape(B * K, 1, -1)[rows]  # (B*K, 1, S)
            old = att_hist.reshape(B * K, -1, w.shape[-1])[rows] if att_hist is not None else None
            att_hist = (step_att if old is None else torch.cat([old, step_att], 1)).view(
                B, K, -1, w.shape[-1]
            )
        y = new_tok.view(-1)
    out = []
    for b in range(B):
        pool = finished[b]
        if not done[b]:  # max_len reached: the unfinished hypotheses compete too
            for k in range(K):
                score = float(scores[b, k])
                if score != float("-inf"):
                    toks = hist[b, k].tolist()
                    att = None if att_hist is None else att_hist[b, k]
                    pool.append((score / len(toks) ** alpha, Hypothesis(toks, score, att, False)))
        out.append(max(pool, key=lambda item: item[0])[1])
    return out
