"""Skip-gram and CBOW with negative sampling (Mikolov et al. 2013): the SGD updates on one
chunk of a token stream, in place.

Symbols: V vocabulary, D dimension, N tokens in the chunk, K negatives, w the window, P pairs.
``w_in`` (V, D) holds the input vectors v (the word vectors kept afterwards), ``w_out`` (V, D)
the output vectors u. For a centre word o and its hidden vector h:

    skip-gram   h = v_c for each context word c within the reduced window of o
    CBOW        h = mean_{c in window} v_c
    s_k = u_{t_k} . h,  t_0 = o (label 1),  t_1..t_K drawn from the noise table (label 0)
    loss = -log sigma(s_0) - sum_{k>=1} log sigma(-s_k)
    g_k = lr (label_k - sigma(s_k))
    u_{t_k} += g_k h,   dh = sum_k g_k u_{t_k},   v_c += dh  (each context word c)

Before the windows, each word w is kept with probability ``keep[w]`` (subsampling of frequent
words); the reduced window draws b uniform in [0, w) per centre word and takes the words within
w - b of it (so near words count more); a noise word equal to the centre is skipped. The learning
rate falls linearly from ``lr_start`` to ``lr_end`` across the chunk.

Engines:

    "torch"   readable batched PyTorch: the chunk's pairs in batches of ``batch_size``, each batch
              gathered, scored and scattered back with ``index_add_`` (with batch_size=1 it is
              the sequential update exactly)
    "native"  ``csrc/sgns.cpp`` compiled on first use (like :mod:`rnnlab.nn.native`): the
              sequential update, one pair at a time, by ``threads`` Hogwild threads
    "auto"    "native" when it builds, else "torch" (one logged warning)
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import torch

from rnnlab.nn import native

__all__ = ["ENGINES", "native_available", "train_chunk"]

logger = logging.getLogger(__name__)

ENGINES = ("auto", "native", "torch")
SOURCE = Path(__file__).with_name("csrc") / "sgns.cpp"

_lock = threading.Lock()
_state: dict[str, object] = {}  # "ops" once loaded, or "error": why the build failed


def _load():
    """Build (first use) or load csrc/sgns.cpp; return ``torch.ops.rnnlab_sgns``.

    Raises:
        RuntimeError: it cannot be built here (the message says why).
    """
    with _lock:
        if "ops" in _state:
            return _state["ops"]
        if "error" in _state:
            raise RuntimeError(_state["error"])
        try:
            native.compile_extension("sgns", SOURCE)
            _state["ops"] = torch.ops.rnnlab_sgns
        except Exception as e:  # noqa: BLE001 (a compiler, ninja or loader failure of any kind)
            _state["error"] = failure = native.failure("the native skip-gram engine", e)
            raise RuntimeError(failure) from e
        return _state["ops"]


def native_available() -> bool:
    """Whether the compiled engine builds and loads here (builds it on the first call)."""
    try:
        _load()
    except RuntimeError:
        return False
    return True


def resolve_engine(engine: str) -> str:
    """``"native"`` or ``"torch"`` for ``engine`` (see the module docstring).

    Raises:
        ValueError: an unknown engine. RuntimeError: "native" and it cannot be built.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "native":
        _load()
        return "native"
    if engine == "auto":
        if native_available():
            return "native"
        logger.warning("%s; training with the torch engine", _state["error"])
    return "torch"


def train_chunk(
    w_in: torch.Tensor,
    w_out: torch.Tensor,
    ids: torch.Tensor,
    keep: torch.Tensor,
    table: torch.Tensor,
    *,
    window: int,
    negative: int,
    cbow: bool,
    lr_start: float,
    lr_end: float,
    seed: int,
    engine: str = "auto",
    threads: int = 1,
    batch_size: int = 1024,
) -> tuple[float, int]:
    """Train ``w_in`` and ``w_out`` in place on one chunk of the token stream.

    Args:
        w_in, w_out: float32 (V, D), contiguous, on the CPU.
        ids: int32 (N,) word ids, -1 between sentences.
        keep: float32 (V,) the probability of keeping each word (1: no subsampling).
        table: int32 (S,) the noise table: ids in proportion to count^0.75.
        window, negative, cbow: the window w >= 1, negatives K >= 0, CBOW instead of skip-gram.
        lr_start, lr_end: the learning rate at the chunk's first and last token.
        seed: the chunk's random draws (subsampling, windows, negatives) follow from it.
        engine: "auto", "native" or "torch"; threads: the native engine's Hogwild threads;
            batch_size: the torch engine's pairs per update.

    Returns:
        (loss sum, updates): the summed loss of every scored centre word and how many.
    """
    if w_in.dtype != torch.float32 or w_out.shape != w_in.shape or w_in.dim() != 2:
        raise ValueError(f"w_in and w_out must be float32 (V, D), got {w_in.dtype} "
                         f"{tuple(w_in.shape)} and {tuple(w_out.shape)}")  # fmt: skip
    if window < 1 or not 0 <= negative <= 64:
        raise ValueError(f"window must be >= 1 and negative in 0..64, got {window} and {negative}")
    if resolve_engine(engine) == "native":
        out = _load().train_chunk(w_in, w_out, ids, keep, table, window, negative, cbow,
                                  lr_start, lr_end, seed, threads)  # fmt: skip
        return float(out[0]), int(out[1])
    gen = torch.Generator().manual_seed(seed)
    return _torch_chunk(w_in, w_out, ids, keep, table, window, negative, cbow, lr_start, lr_end,
                        gen, batch_size)  # fmt: skip


@torch.no_grad()
def _torch_chunk(w_in, w_out, ids, keep, table, window, negative, cbow, lr_start, lr_end, gen,
                 batch_size) -> tuple[float, int]:  # fmt: skip
    """The "torch" engine of :func:`train_chunk`."""
    ids = ids.long()
    N = ids.numel()
    # subsampling: a word stays with probability keep[w]; the -1 separators always stay
    is_word = ids >= 0
    draw = torch.rand(N, generator=gen)
    stay = ~is_word | (keep[ids.clamp(min=0)] >= draw)
    stream = ids[stay]  # (M,)
    M = stream.numel()
    sentence = torch.cumsum(stream < 0, 0)  # (M,) which sentence each position is in
    centres = torch.nonzero(stream >= 0).squeeze(1)  # (C,) positions of the words
    # the reduced window: b uniform in [0, w), context within w - b of the centre
    reach = window - torch.randint(0, window, (centres.numel(),), generator=gen)  # (C,)
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])  # (2w,)
    ctx = centres[:, None] + offsets[None, :]  # (C, 2w) candidate context positions
    inside = (ctx >= 0) & (ctx < M)
    ctx = ctx.clamp(0, M - 1)
    mask = inside & (offsets.abs()[None, :] <= reach[:, None])
    mask &= (stream[ctx] >= 0) & (sentence[ctx] == sentence[centres][:, None])  # (C, 2w)
    ctx_ids, centre_ids = stream[ctx], stream[centres]  # (C, 2w), (C,)
    if cbow:
        keep_rows = mask.any(1)
        rows = (centre_ids[keep_rows], ctx_ids[keep_rows], mask[keep_rows],
                centres[keep_rows])  # fmt: skip
    else:
        row, col = torch.nonzero(mask, as_tuple=True)  # ordered by centre, then context
        rows = (centre_ids[row], ctx_ids[row, col], None, centres[row])
    target, context, context_mask, where = rows
    # a batch holds about ``batch_size`` (context, target) pairs: a CBOW row carries up to 2w
    # context words, and summing more stale updates per row than that stops CBOW learning
    step = max(1, batch_size // (2 * window)) if cbow else batch_size
    loss, updates = 0.0, 0
    for start in range(0, target.numel(), step):
        sl = slice(start, start + step)
        lr = lr_start + (lr_end - lr_start) * float(where[start]) / max(1, M)
        loss += _update(w_in, w_out, target[sl], context[sl],
                        None if context_mask is None else context_mask[sl], table, negative, lr,
                        gen)  # fmt: skip
        updates += target[sl].numel()
    return loss, updates


def _update(w_in, w_out, target, context, context_mask, table, negative, lr, gen) -> float:
    """One batch of B updates; ``context`` is (B,) for skip-gram, (B, 2w) with ``context_mask``
    for CBOW. Returns the batch's summed loss."""
    B, D = target.numel(), w_in.shape[1]
    if context_mask is None:
        # skip-gram: h = v_c
        h = w_in[context]  # (B, D)
    else:
        # CBOW: h = mean_{c in window} v_c
        m = context_mask.to(w_in.dtype)  # (B, 2w)
        h = (w_in[context] * m[..., None]).sum(1) / m.sum(1, keepdim=True)  # (B, D)
    noise = table[torch.randint(0, table.numel(), (B, negative), generator=gen)].long()  # (B, K)
    targets = torch.cat([target[:, None], noise], 1)  # (B, K+1)
    labels = torch.zeros(B, negative + 1)
    labels[:, 0] = 1.0
    valid = torch.ones(B, negative + 1, dtype=torch.bool)
    valid[:, 1:] = noise != target[:, None]  # a noise word equal to the centre is skipped
    u = w_out[targets]  # (B, K+1, D)
    # s_k = u_{t_k} . h
    scores = torch.einsum("bkd,bd->bk", u, h)  # (B, K+1)
    # loss = -log sigma(s_0) - sum_k log sigma(-s_k)
    signed = torch.where(labels > 0, scores, -scores)
    loss = float((torch.nn.functional.softplus(-signed) * valid).sum())
    # g_k = lr (label_k - sigma(s_k))
    g = lr * (labels - torch.sigmoid(scores)) * valid  # (B, K+1)
    # dh = sum_k g_k u_{t_k};  u_{t_k} += g_k h
    dh = torch.einsum("bk,bkd->bd", g, u)  # (B, D)
    w_out.index_add_(0, targets.reshape(-1), (g[..., None] * h[:, None, :]).reshape(-1, D))
    # v_c += dh for each context word c
    if context_mask is None:
        w_in.index_add_(0, context, dh)
    else:
        rows, cols = torch.nonzero(context_mask, as_tuple=True)
        w_in.index_add_(0, context[rows, cols], dh[rows])
    return loss
