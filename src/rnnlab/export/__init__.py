"""Exporting trained models to other runtimes: ONNX for a classifier, a tagger's emissions and a
language model's step (:func:`export_onnx`; ``rnnlab export RUN --format onnx``)."""

from rnnlab.export.onnx import EXPORTABLE, ExportError, OnnxGraph, export_onnx, onnx_graph
from rnnlab.export.recurrence import MaskedRecurrence, with_masked_recurrence

__all__ = [
    "EXPORTABLE",
    "ExportError",
    "MaskedRecurrence",
    "OnnxGraph",
    "export_onnx",
    "onnx_graph",
    "with_masked_recurrence",
]
