"""ONNX export of a saved classifier, tagger (its emission scores) or language model (one step,
or a whole batch, with the recurrent state in and out).

Symbols: B batch, T time (tokens), W characters per word, C classes or tags, V vocabulary,
L layers, D directions, H hidden units. Every graph has a dynamic batch and sequence length and
takes the real length of each sequence, so one padded batch of any shape runs in one call:

    kind        inputs                                          outputs
    classify    ids (B, T) int64, lengths (B,) int64            probabilities (B, C)
    tag         words (B, T) int64, [chars (B, T, W) int64],    emissions (B, T, C)
                [cases (B, T) int64], lengths (B,) int64
    lm          ids (B, T) int64, lengths (B,) int64,           logits (B, T, V), h_n, [c_n]
                h_0 (L, B, H) float32, [c_0 (L, B, H)]

Ids come from the run's vocabulary files (vocab.json ...), padded with 0 on the side the model
was trained with (a classifier's ``padding``; right for the others); a tagger's ``cases`` are
:func:`rnnlab.models.tagger.casing` of each word; an LM's state starts at zeros and its h_n (c_n)
feed the next call (T = 1 to sample token by token). The language model's logits are for every
position; with an adaptive softmax they are already log-probabilities. A tagger with a CRF
exports its emissions: the Viterbi decoding over them uses the CRF's transitions
(``crf.transitions`` in model.safetensors).

The recurrent layers run as :class:`rnnlab.export.recurrence.MaskedRecurrence` (masks and an
ONNX Scan instead of packed sequences, which PyTorch cannot export: pytorch#49936), the rest of
each model as its own modules; tests/export hold onnxruntime's outputs against the model's.
"""

from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rnnlab.errors import InputError
from rnnlab.export.recurrence import with_masked_recurrence

__all__ = ["EXPORTABLE", "ExportError", "OnnxGraph", "export_onnx", "onnx_graph"]

logger = logging.getLogger(__name__)

EXPORTABLE = ("classify", "tag", "lm")  # config.json's task of the kinds that export
OPSET = 18


class ExportError(InputError):
    """The model cannot be exported (its kind, or something it holds, has no ONNX form)."""


@dataclass
class OnnxGraph:
    """A module to export and how: its example inputs, their names and dynamic axes, and the
    names of its outputs."""

    module: nn.Module
    inputs: tuple[torch.Tensor, ...]
    input_names: list[str]
    output_names: list[str]
    dynamic: dict[str, dict[int, str]]  # input name -> {axis: "batch" | "time" | "chars"}
    varargs: int  # the inputs from this one on are the module's *args (torch.export nests them)


class _Classifier(nn.Module):
    """ids (B, T), lengths (B,) -> probabilities (B, C)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.model.predict_proba(ids, lengths)  # (B, C)


class _Tagger(nn.Module):
    """words (B, T), [chars (B, T, W)], [cases (B, T)], lengths (B,) -> emissions (B, T, C).

    The model's own emissions, with its character BiLSTM run over every word slot (padding
    included, each with at least one step) and its features then zeroed at the padding: the
    model itself runs it over the real words only (a data-dependent shape no graph can have),
    which gives the same features for those."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        c = model.config
        self.chars, self.cases = bool(c.num_chars), bool(c.case_dim)

    def forward(self, words: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        m, rest = self.model, list(rest)
        chars = rest.pop(0) if self.chars else None
        cases = rest.pop(0) if self.cases else None
        (lengths,) = rest
        feats = [m.embedding(words)]  # (B, T, E)
        if chars is not None:
            B, T, W = chars.shape
            flat = chars.reshape(B * T, W)  # (B*T, W)
            n = (flat != 0).sum(1).clamp(min=1)  # (B*T,) characters per word slot, >= 1
            _, (h_n, _) = m.char_rnn(m.char_embedding(flat), lengths=n)  # h_n (2, B*T, Q)
            f = torch.cat([h_n[0], h_n[1]], dim=-1).reshape(B, T, -1)  # (B, T, 2Q)
            feats.append(f * (words != 0).unsqueeze(-1).to(f.dtype))  # zeros at padding
        if cases is not None:
            feats.append(m.case_embedding(cases))  # (B, T, S)
        h, _ = m.rnn(torch.cat(feats, dim=-1), lengths=lengths)  # (B, T, D*H)
        return m.out(h)  # (B, T, C)


class _LanguageModel(nn.Module):
    """ids (B, T), lengths (B,), h_0 (L, B, H) [, c_0] -> logits (B, T, V), h_n [, c_n]."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, *state: torch.Tensor):
        hx = tuple(state) if len(state) == 2 else state[0]
        logits, out = self.model(ids, hx, lengths=lengths)  # (B, T, V)
        return (logits, *out) if isinstance(out, tuple) else (logits, out)


def onnx_graph(model: nn.Module) -> OnnxGraph:
    """What :func:`export_onnx` exports for ``model`` (a loaded classifier, tagger or LM): a copy
    in eval mode whose recurrent layers are :class:`MaskedRecurrence`, with example inputs.

    Raises:
        ExportError: another kind of model, or a part with no ONNX form.
    """
    task = getattr(model, "task", None)
    if task not in EXPORTABLE:
        raise ExportError(
            f"a {task or type(model).__name__} model cannot be exported to ONNX: rnnlab export "
            f"supports {', '.join(EXPORTABLE)} (a classifier, a tagger's emissions, a language "
            "model's step)"
        )
    module = with_masked_recurrence(copy.deepcopy(model).float().eval().cpu())
    B, T, W = 2, 3, 4  # example sizes; none is 1, which torch.export would specialise on
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([T, T - 1], dtype=torch.long)
    if task == "classify":
        ids = torch.randint(4, model.config.vocab_size, (B, T), generator=g)
        axes = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
        return OnnxGraph(_Classifier(module), (ids, lengths), ["ids", "lengths"],
                         ["probabilities"], axes, varargs=2)  # fmt: skip
    if task == "tag":
        c = model.config
        words = torch.randint(4, c.vocab_size, (B, T), generator=g)
        inputs, names = [words], ["words"]
        axes = {"words": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
        if c.num_chars:
            inputs.append(torch.randint(4, c.num_chars, (B, T, W), generator=g))
            names.append("chars")
            axes["chars"] = {0: "batch", 1: "time", 2: "chars"}
        if c.case_dim:
            inputs.append(torch.randint(1, 8, (B, T), generator=g))
            names.append("cases")
            axes["cases"] = {0: "batch", 1: "time"}
        return OnnxGraph(_Tagger(module), (*inputs, lengths), [*names, "lengths"],
                         ["emissions"], axes, varargs=1)  # fmt: skip
    c = model.config
    ids = torch.randint(4, c.vocab_size, (B, T), generator=g)
    state = [torch.zeros(c.num_layers, B, c.hidden_size)]
    names = ["ids", "lengths", "h_0"]
    outputs = ["logits", "h_n"]
    if c.cell == "lstm":
        state.append(torch.zeros(c.num_layers, B, c.hidden_size))
        names.append("c_0")
        outputs.append("c_n")
    axes = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
    axes.update({name: {1: "batch"} for name in names[2:]})
    return OnnxGraph(_LanguageModel(module), (ids, lengths, *state), names, outputs, axes,
                     varargs=2)  # fmt: skip


def export_onnx(model: nn.Module, path: str | os.PathLike, opset: int = OPSET) -> OnnxGraph:
    """Write ``model`` (a loaded classifier, tagger or LM) as the ONNX file ``path`` (the module
    docstring lists each kind's inputs and outputs); return what was exported.

    Raises:
        ExportError: a kind (or a part) with no ONNX form, or the exporter failed.
        ModuleNotFoundError: onnx / onnxscript are not installed (``pip install rnnlab[export]``).
    """
    graph = onnx_graph(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dims = {name: torch.export.Dim(name, min=1) for name in ("batch", "time", "chars")}
    shapes = {name: {axis: dims[dim] for axis, dim in axes.items()}
              for name, axes in graph.dynamic.items()}  # fmt: skip
    shapes = [shapes.get(name) for name in graph.input_names]
    if graph.varargs < len(shapes):
        shapes = [*shapes[: graph.varargs], tuple(shapes[graph.varargs :])]
    try:
        with torch.no_grad():
            program = torch.onnx.export(
                graph.module, graph.inputs, input_names=graph.input_names,
                output_names=graph.output_names, dynamic_shapes=tuple(shapes), opset_version=opset,
                dynamo=True, external_data=False, verbose=False,
            )  # fmt: skip
    except ModuleNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - the exporter's failures have many types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"the ONNX exporter failed on this {model.task} model: {first}") from e
    program.save(str(path))
    logger.info("exported %s to %s", type(model).__name__, path)
    return graph
