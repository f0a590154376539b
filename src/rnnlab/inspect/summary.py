"""A Keras-style model summary: layer by layer, output shapes and parameter counts.

For a recurrent layer with g gate blocks (RNN 1, GRU 3, LSTM 4), input size m and n units, each
layer direction holds

    g (m n + n^2 + 2 n)    PyTorch's and rnnlab's layout: two bias vectors, b_ih and b_hh
    g (m n + n^2 + n)      Keras' one-bias form (SimpleRNN, LSTM, GRU with reset_after=False)
    g (m n + n^2)          bias=False

(m = I for the first layer, D * H above it). Keras' GRU with ``reset_after=True`` (its default
since TF 2) keeps two bias vectors as well, 3 (m n + n^2 + 2 n). The lecture example,
Embedding(10000, 32) -> LSTM(100) -> Dense(1) on 600-token reviews: 320,000 + 53,600 (torch; Keras
53,200) + 101 parameters.

``summary(model)`` without an example input counts parameters only (nothing runs); with one,
``summary(model, x, ...)`` also shows each layer's output shape for that batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

import rnnlab.nn as rnn

__all__ = ["LayerRow", "Summary", "recurrent_formula", "summary"]

_RECURRENT = (rnn.RNNBase, nn.RNNBase)
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


@dataclass
class LayerRow:
    """One row of the table: a module that ran, its output shape(s) and own parameter count."""

    name: str
    kind: str  # the module's class name
    output_shape: str
    params: int
    notes: list[str] = field(default_factory=list)  # the recurrent formula, one line each


@dataclass
class Summary:
    """The table of :func:`summary`. ``total`` counts every parameter once (shared ones too)."""

    rows: list[LayerRow]
    total: int
    trainable: int
    input_shape: str | None  # None: no example ran, parameter counts only

    def __str__(self) -> str:
        return self.format()

    def format(self) -> str:
        """The table as text, Keras' columns: layer (type), output shape, parameters (the shape
        column only when an example ran)."""
        shapes = self.input_shape is not None
        head = ["Layer (type)", "Output Shape", "Param #"]
        cells = [[f"{r.name} ({r.kind})", r.output_shape, f"{r.params:,}"] for r in self.rows]
        if not shapes:  # nothing ran: drop the shape column
            head, cells = [head[0], head[2]], [[c[0], c[2]] for c in cells]
        w = [max(len(c[i]) for c in [head, *cells]) for i in range(len(head))]
        rule = "=" * (sum(w) + 3 * (len(w) - 1))

        def line(c: list[str]) -> str:  # left-aligned columns, the count right-aligned
            return "   ".join([*(f"{v:<{k}}" for v, k in zip(c[:-1], w, strict=False)),
                               f"{c[-1]:>{w[-1]}}"])  # fmt: skip

        given = self.input_shape if shapes else "none given, so parameter counts only (no shapes)"
        out = [f"input: {given}", rule, line(head), rule]
        for row, c in zip(self.rows, cells, strict=True):
            out.append(line(c))
            out += [f"    {note}" for note in row.notes]
        out += [
            rule,
            f"Total params: {self.total:,}",
            f"Trainable params: {self.trainable:,}",
            f"Non-trainable params: {self.total - self.trainable:,}",
        ]
        return "\n".join(out)


def _shape(out) -> str:
    if isinstance(out, torch.Tensor):
        return str(tuple(out.shape))
    if isinstance(out, tuple | list):
        inner = [_shape(o) for o in out]
        return "[" + ", ".join(s for s in inner if s) + "]"
    if hasattr(out, "data") and isinstance(out.data, torch.Tensor):  # PackedSequence
        return f"packed {tuple(out.data.shape)}"
    return ""


def recurrent_formula(layer: nn.Module) -> tuple[int, list[str]]:
    """Parameter count of a recurrent stack by the formula, and one line per layer direction.

    Each layer's line gives the two-bias count (PyTorch's) and the line after it Keras' (one bias,
    except its GRU with reset_after=True); a stack of several layers or directions ends with an
    ``all:`` line summing them.

    Returns:
        (total by the formula, lines such as
        ``"layer 0: 4(mn + n^2 + 2n), m=32 n=100: 4(3,200 + 10,000 + 200) = 53,600 ..."``).
    """
    g, n = _GATES[layer.mode], layer.hidden_size
    D = 2 if layer.bidirectional else 1
    two_bias = layer.bias
    keras_two = layer.mode == "GRU" and getattr(layer, "reset_after", True)
    total, keras_total, counts, lines = 0, 0, [], []
    for k in range(layer.num_layers):
        m = layer.input_size if k == 0 else D * n
        b = 2 * n if two_bias else 0
        count = g * (m * n + n * n + b)  # g (mn + n^2 + 2n), or g (mn + n^2) without bias
        total += D * count
        counts.append(f"{count:,}")
        where = f"layer {k}" + (" (each direction)" if D == 2 else "")
        form = "(mn + n^2 + 2n)" if two_bias else "(mn + n^2)"
        terms = f"{m * n:,} + {n * n:,}" + (f" + {b:,}" if two_bias else "")
        line = f"{where}: {g}{form}, m={m} n={n}: {g}({terms}) = {count:,}"
        if two_bias:
            keras = g * (m * n + n * n + (2 * n if keras_two else n))
            keras_total += D * keras
            line += " [two biases b_ih + b_hh, as torch.nn]"
            lines.append(line)
            if keras_two:
                lines.append(f"    Keras GRU(reset_after=True) also keeps two: {keras:,}")
            else:
                lines.append(
                    f"    Keras' one-bias {g}(mn + n^2 + n) = {g}({m * n:,} + {n * n:,} + "
                    f"{n:,}) = {keras:,} ({count - keras:,} fewer)"
                )
        else:
            lines.append(line + " [bias=False]")
    if D * layer.num_layers > 1:
        summed = " + ".join(counts)  # the layers of one direction
        if D == 2:
            summed = f"2 x ({summed})" if len(counts) > 1 else f"2 x {summed}"
        line = f"all: {summed} = {total:,}"
        if two_bias and not keras_two:
            line += f"; Keras' one-bias {keras_total:,}"
        lines.append(line)
    return total, lines


def summary(model: nn.Module, *example, **kwargs) -> Summary:
    """Tabulate a model's layers and parameter counts; with an example, also its output shapes.

    Without ``example`` and ``kwargs`` nothing runs: the rows are the leaf modules and recurrent
    layers in definition order, each with its parameter count (and a recurrent layer's formula),
    and the table has no shape column. With them, ``model(*example, **kwargs)`` runs once (eval
    mode, no gradients) and the rows come in the order the modules first ran, with the shapes of
    this example batch, then any that hold parameters but did not run (output shape "-"). Either
    way parameters held directly by a container come last ("(other)").

    Returns:
        a :class:`Summary`; ``print(summary(...))`` shows the table.
    """
    rows: dict[str, LayerRow] = {}
    leaves = {n: m for n, m in model.named_modules()
              if isinstance(m, _RECURRENT) or not any(True for _ in m.children())}  # fmt: skip
    ran = bool(example or kwargs)
    if ran:
        _run(model, leaves, rows, example, kwargs)
    for name, m in leaves.items():
        if name not in rows and (not ran or any(True for _ in m.parameters())):
            rows[name] = _row(name or "(model)", m, "-")
    in_rows = {id(p) for m in leaves.values() for p in m.parameters()}
    loose = [p for p in model.parameters() if id(p) not in in_rows]  # held by a non-leaf module
    if loose:
        rows["(other)"] = LayerRow("(other)", "Parameter", "-", sum(p.numel() for p in loose))
    unique = {id(p): p for p in model.parameters()}.values()
    total = sum(p.numel() for p in unique)
    trainable = sum(p.numel() for p in unique if p.requires_grad)
    shape = (", ".join(_shape(e) for e in example) or "-") if ran else None
    return Summary(list(rows.values()), total, trainable, shape)


def _run(model: nn.Module, leaves: dict, rows: dict, example: tuple, kwargs: dict) -> None:
    """Run the model once on the example, adding a row per leaf with its first output's shape."""
    hooks = []
    for name, m in leaves.items():

        def hook(mod, args, out, name=name):
            if name not in rows:
                rows[name] = _row(name or "(model)", mod, _shape(out))

        hooks.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*example, **kwargs)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()


def _row(name: str, m: nn.Module, shape: str) -> LayerRow:
    params = sum(p.numel() for p in m.parameters())
    notes = []
    if isinstance(m, _RECURRENT) and getattr(m, "mode", None) in _GATES:
        by_formula, notes = recurrent_formula(m)
        if by_formula != params:  # e.g. a torch LSTM with proj_size: the formula does not apply
            notes.append(f"(the formula gives {by_formula:,}; the layer holds {params:,})")
    return LayerRow(name, type(m).__name__, shape, params, notes)
