"""``rnnlab demo``: why a vanilla RNN forgets and an LSTM or GRU does not, in about twenty seconds.

1. Train a vanilla RNN, an LSTM and a GRU on parity of bit strings of 1..L bits, for each L,
   with the same budget (:mod:`rnnlab.tasks.dependencies`); score them on strings of exactly L.
2. Measure ||dL/dh_t|| over a long string for the trained models and for the same models at
   initialisation (:func:`rnnlab.inspect.gradient_flow`), and for a vanilla RNN with a large
   recurrent initialisation, before and after ``clip_grad_norm_``.
3. Score each cell's model from the longest L it learned on strings of ``flow_length`` bits.
   Where a vanilla RNN that learned short strings handles long ones too, what it lacks is not
   the capacity to represent parity but a gradient from the early bits of long strings.
4. Write ``accuracy_vs_length.png`` and ``gradient_flow.png``.

Nothing is downloaded: the data is generated from the seed.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnlab.data.synthetic import TASKS, SequenceBatch, parity
from rnnlab.inspect import GradientFlow, gradient_flow
from rnnlab.inspect.plots import Curve, Panel, plot_gradient_flow, plot_metric_vs_length
from rnnlab.tasks.dependencies import (
    BenchConfig,
    RunResult,
    build_model,
    held_out,
    result_table,
    run_bench,
    score,
    task_loss,
)

__all__ = ["DemoConfig", "DemoResult", "FlowExperiment", "flow_experiment", "run_demo"]


def large_recurrent_init_(model: torch.nn.Module, gain: float) -> None:
    """Redraw every ``weight_hh`` as N(0, gain^2 / H): spectral radius about ``gain``.

    PyTorch's U(-1/sqrt(H), 1/sqrt(H)) has gain 1/sqrt(3) = 0.58; above 1 a tanh RNN is chaotic
    and its gradients grow geometrically backwards in time.
    """
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "weight_hh" in name:
                p.normal_(0.0, gain / math.sqrt(p.shape[1]))


@dataclass
class FlowExperiment:
    """Gradient flow on one parity batch of ``length`` bits, loss at the last step."""

    length: int
    flows: dict[str, GradientFlow]  # label ("lstm", "rnn at init", ...) -> its flow
    exploding: GradientFlow  # vanilla RNN with weight_hh ~ N(0, gain^2 / H), clipped
    gain: float
    clip_norm: float

    def panels(self) -> list[Panel]:
        """The two panels of the picture: cells side by side, and explosion with clipping."""
        curves = [Curve(label, f.curve().tolist(), dashed="init" in label)
                  for label, f in self.flows.items()]  # fmt: skip
        e = self.exploding
        raw, clipped = e.curve().tolist(), e.clipped_curve().tolist()
        note = (f"||dL/dθ|| = {e.grad_norm:.3g} -> clip_grad_norm_({self.clip_norm:g}) -> "
                f"{e.clipped_grad_norm:.3g}\nevery step scaled by c = {e.clip_coef:.3g}: "
                "same shape, bounded update;\nthe early steps still dominate")  # fmt: skip
        return [
            Panel(f"parity, {self.length} bits: ||dL/dh_t|| per cell", curves),
            Panel(f"vanilla RNN, weight_hh ~ N(0, {self.gain:g}²/H): explosion", [
                Curve("rnn, large init", raw, color="tab:red"),
                Curve(f"rnn, after clip_grad_norm_({self.clip_norm:g})", clipped,
                      color="tab:orange", dashed=True),
            ], note=note),
        ]  # fmt: skip


def flow_experiment(
    models: dict[str, torch.nn.Module],
    length: int,
    hidden_size: int,
    batch_size: int = 32,
    gain: float = 3.0,
    clip_norm: float = 1.0,
    seed: int = 0,
) -> FlowExperiment:
    """||dL/dh_t|| of each of ``models`` (DependencyModels for parity) on one batch of strings of
    exactly ``length`` bits, plus a vanilla RNN with a large recurrent init, clipped.

    Measured on float64 copies of the models; the models themselves are left untouched."""
    if not gain > 0:
        raise ValueError(f"gain must be positive, got {gain}")
    task = TASKS["parity"]
    batch = parity(batch_size, length, torch.Generator().manual_seed(seed), min_length=length)
    batch = SequenceBatch(batch.x.double(), batch.lengths, batch.y)

    def loss_fn(model, b):
        return task_loss(task, model, b)

    # float64 copies: a vanished gradient of 1e-50 stays a number instead of underflowing to 0
    flows = {label: gradient_flow(copy.deepcopy(m).double(), batch, loss_fn)
             for label, m in models.items()}  # fmt: skip
    torch.manual_seed(seed)
    wild = build_model("rnn", task, hidden_size).double()
    large_recurrent_init_(wild, gain)
    exploding = gradient_flow(wild, batch, loss_fn, clip_norm=clip_norm)
    return FlowExperiment(length, flows, exploding, gain, clip_norm)


@dataclass
class DemoConfig:
    """The demo's defaults fit about twenty seconds on two cores (with the compiled engine);
    ``steps`` is the budget knob."""

    lengths: tuple[int, ...] = (5, 10, 20, 50)
    steps: int = 1000  # the budget per cell and length (runs stop early once solved)
    hidden_size: int = 32
    flow_length: int = 100  # bits in the gradient-flow string
    gain: float = 3.0  # the large recurrent init of the explosion panel
    clip_norm: float = 1.0
    seed: int = 0
    out: str = "runs/demo"
    progress: bool = True

    def bench(self) -> BenchConfig:
        return BenchConfig(task="parity", lengths=self.lengths, steps=self.steps,
                           hidden_size=self.hidden_size, clip_norm=self.clip_norm,
                           seed=self.seed, progress=self.progress)  # fmt: skip


@dataclass
class DemoResult:
    results: list[RunResult]
    flow: FlowExperiment
    pictures: dict[str, Path] = field(default_factory=dict)  # name -> PNG written
    # cell -> (the longest L it learned, accuracy of that model on strings of flow.length bits)
    transfer: dict[str, tuple[int, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def learned_up_to(self) -> dict[str, int | None]:
        """Cell -> the longest L it solved, every shorter L solved too (None: not the shortest)."""
        out: dict[str, int | None] = {}
        for cell in dict.fromkeys(r.cell for r in self.results):
            out[cell] = None
            for r in sorted((r for r in self.results if r.cell == cell), key=lambda r: r.length):
                if r.solved_at is None:
                    break
                out[cell] = r.length
        return out


def run_demo(config: DemoConfig | None = None) -> DemoResult:
    """Train, measure and draw; see the module docstring."""
    config = config or DemoConfig()
    start = time.perf_counter()
    bench = config.bench()
    results = run_bench(bench)
    longest = max(config.lengths)
    trained = {r.cell: r.model for r in results if r.length == longest}
    task = TASKS["parity"]
    models: dict[str, torch.nn.Module] = {}
    for cell in bench.cells:
        torch.manual_seed(config.seed)  # the very initialisation the runs started from
        models[f"{cell} at init"] = build_model(cell, task, config.hidden_size, bench.forget_bias)
        models[f"{cell} trained (L={longest})"] = trained[cell]
    with torch.random.fork_rng():
        flow = flow_experiment(models, config.flow_length, config.hidden_size, gain=config.gain,
                               clip_norm=config.clip_norm, seed=config.seed)  # fmt: skip
    out = Path(config.out)
    pictures = {
        "accuracy_vs_length": plot_metric_vs_length(
            result_table(results, "accuracy"), out / "accuracy_vs_length.png", "accuracy",
            chance=task.chance,
            title=f"parity of 1..L bits, at most {config.steps} steps each; "
                  "accuracy on strings of exactly L bits",
        ),
        "gradient_flow": plot_gradient_flow(flow.panels(), out / "gradient_flow.png"),
    }  # fmt: skip
    demo = DemoResult(results, flow, pictures)
    long_strings = held_out(task, 1000, config.flow_length, seed=config.seed + 7919)
    for cell, learned in demo.learned_up_to().items():
        if learned is not None:
            model = next(r.model for r in results if r.cell == cell and r.length == learned)
            demo.transfer[cell] = (learned, score(task, model, long_strings)["accuracy"])
    demo.seconds = time.perf_counter() - start
    return demo
