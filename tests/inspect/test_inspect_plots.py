"""Every picture is a PNG written headless, into folders that do not exist yet."""

from __future__ import annotations

import torch

from rnnlab.inspect import gate_activations
from rnnlab.inspect.plots import (
    Curve,
    Panel,
    plot_gates,
    plot_gradient_flow,
    plot_metric_vs_length,
    plot_sensitivity,
)
from rnnlab.nn import GRU

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


def test_every_plot_writes_a_png(tmp_path):
    curves = [
        Curve("rnn", [0.0, 1e-30, 1e-3, float("inf"), 1.0]),
        Curve("lstm", [1.0] * 5, dashed=True),
    ]
    assert is_png(plot_gradient_flow([Panel("a", curves), Panel("b", curves, note="n")],
                                     tmp_path / "new" / "flow.png"))  # fmt: skip
    table = {"rnn": {10: 1.0, 20: 0.5}, "gru": {10: 1.0, 20: 1.0}}
    assert is_png(plot_metric_vs_length(table, tmp_path / "acc.png", chance=0.5, title="t"))
    assert is_png(plot_metric_vs_length({"lstm": {5: 0.1}}, tmp_path / "mse.png", "mse"))
    maps = {"rnn": torch.rand(6, 3), "lstm": torch.zeros(6, 3) + 1e-40}
    assert is_png(plot_sensitivity(maps, tmp_path / "sens.png"))
    acts = gate_activations(GRU(2, 4), torch.randn(5, 2), tokens=list("10110"))
    assert is_png(plot_gates(acts, tmp_path / "gates.png", units=3))
