"""Seeing inside recurrent models: gradient flow through time, sensitivity to the first input,
gate activations per token, a Keras-style summary, and their pictures (PNG, headless).

>>> from rnnlab.inspect import gradient_flow, sensitivity, gate_activations, summary
"""

from rnnlab.inspect.attention_plot import plot_attention
from rnnlab.inspect.gate_activations import GateActivations, gate_activations
from rnnlab.inspect.gradient_flow import GradientFlow, format_at_steps, gradient_flow
from rnnlab.inspect.sensitivity import Sensitivity, sensitivity
from rnnlab.inspect.summary import Summary, recurrent_formula, summary

__all__ = [
    "GateActivations",
    "GradientFlow",
    "Sensitivity",
    "Summary",
    "format_at_steps",
    "gate_activations",
    "gradient_flow",
    "plot_attention",
    "recurrent_formula",
    "sensitivity",
    "summary",
]
