"""Per-token gate activations: LSTM input/forget/output gates, GRU reset/update gates.

Symbols: T time, I input features, H hidden units, D directions.

Our layers compute their gates inside the fused BPTT Functions and keep none of them, so here
the cell equations are run again, one step at a time with plain torch ops, from the layer's own
parameters (PyTorch's names and gate order, so a ``torch.nn.LSTM``/``GRU`` works too). The tests
hold the hidden states this produces against the layer's own output.

LSTM (gate order i, f, g, o):

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate: how much to write
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate: how much to keep
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)         candidate cell
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate: how much to show
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

GRU (gate order r, z, n):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)      reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)      update gate: how much to keep
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))     reset_after=True
    n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)     reset_after=False
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

import rnnlab.nn as rnn
from rnnlab.text import tokenize

__all__ = ["GRU_GATES", "LSTM_GATES", "GateActivations", "find_recurrent", "gate_activations"]

LSTM_GATES = ("input", "forget", "candidate", "output")  # i_t, f_t, g_t, o_t
GRU_GATES = ("reset", "update", "candidate")  # r_t, z_t, n_t
_RECURRENT = (rnn.RNNBase, nn.RNNBase)


@dataclass
class GateActivations:
    """Gate values of one layer direction over one sequence, in natural time order.

    Attributes:
        cell: ``"lstm"`` or ``"gru"``.
        tokens: T labels, one per step (the tokens of a text, or step numbers).
        gates: gate name -> (T, H): ``LSTM_GATES`` or ``GRU_GATES``.
        hidden: (T, H) h_t.
        cell_state: (T, H) c_t for an LSTM, else None.
        layer, direction: which layer direction of the stack.
    """

    cell: str
    tokens: list[str]
    gates: dict[str, torch.Tensor]
    hidden: torch.Tensor
    cell_state: torch.Tensor | None = None
    layer: int = 0
    direction: int = 0

    def __post_init__(self) -> None:
        T = self.hidden.shape[0]
        if len(self.tokens) != T:
            raise ValueError(f"{len(self.tokens)} token labels for {T} steps")

    def means(self) -> dict[str, torch.Tensor]:
        """Gate name -> (T,) mean over the H units, for the sigmoid gates only."""
        keep = ("input", "forget", "output") if self.cell == "lstm" else ("reset", "update")
        return {name: self.gates[name].mean(dim=1) for name in keep}


def find_recurrent(model: nn.Module, name: str | None = None) -> tuple[str, nn.Module]:
    """The recurrent layer of ``model`` (``model`` itself, or the one named ``name``).

    Raises:
        ValueError: no recurrent layer, several and no ``name``, or ``name`` is not one.
    """
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, _RECURRENT)]
    if name is not None:
        found = [(n, m) for n, m in found if n == name]
        if not found:
            raise ValueError(f"the model has no recurrent layer named {name!r}")
    if not found:
        raise ValueError(f"{type(model).__name__} has no recurrent layer (RNN, LSTM or GRU)")
    if len(found) > 1:
        raise ValueError(f"several recurrent layers {[n for n, _ in found]}: pick one by name")
    return found[0]


def _weights(layer: nn.Module, index: int, direction: int) -> tuple:
    sfx = f"_l{index}" + ("_reverse" if direction else "")
    get = lambda n: getattr(layer, n + sfx, None)  # noqa: E731 (None when bias=False)
    return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")


def _lstm_steps(x: torch.Tensor, w_ih, w_hh, b_ih, b_hh) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Run one LSTM direction over x (T, I) from zero state; gates (T, H) each, h_t, c_t."""
    T, H = x.shape[0], w_hh.shape[1]
    pre_x = x @ w_ih.T  # (T, 4H) W_i* x_t for every t
    if b_ih is not None:
        pre_x = pre_x + b_ih + b_hh
    h, c = x.new_zeros(H), x.new_zeros(H)
    out = {k: [] for k in (*LSTM_GATES, "h", "c")}
    for t in range(T):
        a = pre_x[t] + w_hh @ h  # (4H,)
        a_i, a_f, a_g, a_o = a.split(H)
        # i_t = sigmoid(...), f_t = sigmoid(...), g_t = tanh(...), o_t = sigmoid(...)
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        # c_t = f_t * c_{t-1} + i_t * g_t
        c = f * c + i * g  # (H,)
        # h_t = o_t * tanh(c_t)
        h = o * torch.tanh(c)  # (H,)
        for k, v in zip((*LSTM_GATES, "h", "c"), (i, f, g, o, h, c), strict=True):
            out[k].append(v)
    out = {k: torch.stack(v) for k, v in out.items()}  # (T, H) each
    return {k: out[k] for k in LSTM_GATES}, out["h"], out["c"]


def _gru_steps(x: torch.Tensor, w_ih, w_hh, b_ih, b_hh, reset_after: bool) -> tuple:
    """Run one GRU direction over x (T, I) from zero state; gates (T, H) each, h_t."""
    T, H = x.shape[0], w_hh.shape[1]
    pre_x = x @ w_ih.T  # (T, 3H) W_i* x_t for every t
    if b_ih is not None:
        pre_x = pre_x + b_ih
    b_hh = w_hh.new_zeros(3 * H) if b_hh is None else b_hh
    h = x.new_zeros(H)
    out = {k: [] for k in (*GRU_GATES, "h")}
    for t in range(T):
        a_r, a_z, a_n = pre_x[t].split(H)
        w_hr, w_hz, w_hn = w_hh.split(H)
        b_hr, b_hz, b_hn = b_hh.split(H)
        # r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        r = torch.sigmoid(a_r + w_hr @ h + b_hr)  # (H,)
        # z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        z = torch.sigmoid(a_z + w_hz @ h + b_hz)  # (H,)
        if reset_after:
            # n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
            n = torch.tanh(a_n + r * (w_hn @ h + b_hn))  # (H,)
        else:
            # n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
            n = torch.tanh(a_n + w_hn @ (r * h) + b_hn)  # (H,)
        # h_t = (1 - z_t) * n_t + z_t * h_{t-1}
        h = (1 - z) * n + z * h  # (H,)
        for k, v in zip((*GRU_GATES, "h"), (r, z, n, h), strict=True):
            out[k].append(v)
    out = {k: torch.stack(v) for k, v in out.items()}  # (T, H) each
    return {k: out[k] for k in GRU_GATES}, out["h"], None


@torch.no_grad()
def run_gates(layer: nn.Module, x: torch.Tensor, index: int = 0, direction: int = 0) -> tuple:
    """Gates of layer ``index``, ``direction`` of a recurrent stack over one sequence x (T, I).

    Layers below ``index`` are run too (both directions, concatenated as the stack does), without
    dropout. Returns ``(gates dict of (T, H), h (T, H), c (T, H) or None)`` in natural time order.
    """
    mode = getattr(layer, "mode", "")
    if mode not in ("LSTM", "GRU"):
        raise ValueError(f"only LSTM and GRU layers have gates; this layer is {mode or layer!r}")
    if getattr(layer, "proj_size", 0):
        raise ValueError("LSTM with proj_size is not supported")
    D = 2 if layer.bidirectional else 1
    if not 0 <= index < layer.num_layers or not 0 <= direction < D:
        raise ValueError(
            f"layer {index} direction {direction} does not exist "
            f"({layer.num_layers} layer(s), {D} direction(s))"
        )
    reset_after = getattr(layer, "reset_after", True)  # torch.nn.GRU is reset-after
    for k in range(index + 1):
        results = []
        for d in range(D):
            w = _weights(layer, k, d)
            seq = x.flip(0) if d else x  # the reverse direction reads the sequence backwards
            if mode == "LSTM":
                gates, h, c = _lstm_steps(seq, *w)
            else:
                gates, h, c = _gru_steps(seq, *w, reset_after)
            if d:  # back to natural time order
                gates = {n: v.flip(0) for n, v in gates.items()}
                h, c = h.flip(0), (None if c is None else c.flip(0))
            results.append((gates, h, c))
        if k == index:
            return results[direction]
        x = torch.cat([h for _, h, _ in results], dim=-1)  # (T, D*H) input of layer k + 1
    raise AssertionError("unreachable")


def _encode(model: nn.Module, inputs) -> tuple[torch.Tensor, list[str]]:
    """Layer input (T, I) and step labels from a text, token ids, or float features."""
    if isinstance(inputs, str):
        if not hasattr(model, "vocab"):
            raise ValueError("a text needs a model with a vocabulary (TextClassifier, LM)")
        if hasattr(model, "tokens"):
            tokens = model.tokens(inputs)
        else:
            tokens = tokenize(inputs, getattr(model, "level", "word"))
        if not tokens:
            raise ValueError("the text has no tokens")
        inputs = torch.tensor(model.vocab.encode(tokens))
    elif isinstance(inputs, Sequence):
        inputs = torch.as_tensor(inputs)
        tokens = None
    else:
        tokens = None
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a str, token ids or a float tensor, got {type(inputs)}")
    if inputs.is_floating_point():
        x = inputs[0] if inputs.dim() == 3 and inputs.shape[0] == 1 else inputs
        if x.dim() != 2:
            raise ValueError(f"float inputs must be one sequence (T, I), got {tuple(x.shape)}")
        return x, tokens or [str(t) for t in range(x.shape[0])]
    ids = inputs.reshape(-1)
    embedding = getattr(model, "embedding", None)
    if not isinstance(embedding, nn.Embedding):
        raise ValueError("token ids need a model with an nn.Embedding named `embedding`")
    if tokens is None:
        vocab = getattr(model, "vocab", None)
        tokens = vocab.decode(ids.tolist()) if vocab is not None else [str(int(i)) for i in ids]
    with torch.no_grad():
        x = embedding(ids.to(embedding.weight.device))  # (T, E)
    return x, list(tokens)


def gate_activations(
    model: nn.Module,
    inputs,
    layer: int = 0,
    direction: int = 0,
    name: str | None = None,
    tokens: list[str] | None = None,
) -> GateActivations:
    """Per-step gate values of an LSTM or GRU inside ``model`` over one sequence.

    Args:
        model: a recurrent layer, or a model holding one (``name`` picks among several).
        inputs: a text (tokenised with the model's vocabulary: a ``TextClassifier`` or a
            language model), token ids (T,) that go through ``model.embedding``, or the
            layer's input features (T, I) as a float tensor.
        layer, direction: which layer direction of the stack.
        tokens: labels for the steps (default: the tokens of the text, or step numbers).

    Returns:
        a :class:`GateActivations` (on CPU).
    """
    _, rec = find_recurrent(model, name)
    x, labels = _encode(model, inputs)
    w = rec.weight_ih_l0
    gates, h, c = run_gates(rec, x.to(w.device, w.dtype), layer, direction)
    labels = list(tokens) if tokens is not None else labels
    cell = "lstm" if rec.mode == "LSTM" else "gru"
    return GateActivations(
        cell, labels, {k: v.cpu() for k, v in gates.items()}, h.cpu(),
        None if c is None else c.cpu(), layer, direction,
    )  # fmt: skip
