"""Our BPTT against torch.nn.LSTM/GRU/RNN, measured side by side in one run.

For every config and cell, our layer on each engine asked for (``--engine``: by default the
compiled loop "native" and the pure-torch reference "rnnlab") and torch's get the same weights and
inputs; timings are interleaved (native, rnnlab, torch, native, ...) after warm-up, and the
median of the repeats is kept. Prints tokens/s (B*T per second) for a training step (forward +
backward) and for inference (forward under torch.no_grad), and the ratio of each engine to torch
(> 1 means we are faster). The first line names the CPU.

With ``--precision bf16`` both run inside ``torch.autocast("cpu", dtype=torch.bfloat16)``: torch's
layers then use oneDNN's bfloat16 RNN kernels (the recurrence in bfloat16 too), ours the bfloat16
products over all T*B rows with a float32 recurrence (see rnnlab.nn.precision).

    python benchmarks/bptt_vs_torch.py                 # all configs, 2 threads
    python benchmarks/bptt_vs_torch.py --configs c1 --cells lstm --repeats 5 --engine native
    python benchmarks/bptt_vs_torch.py --precision bf16 --engine rnnlab
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import rnnlab.nn as rnn
from machine import cpu_name

CONFIGS = {  # name: (B, T, I, H, L, bidirectional)
    "c1": (64, 100, 128, 256, 1, False),
    "c2": (32, 200, 64, 128, 1, False),
    "c3": (64, 100, 256, 512, 2, False),
    "c4": (16, 500, 32, 64, 1, False),
    "c1-bi": (64, 100, 128, 256, 1, True),
}
CELLS = {"lstm": (rnn.LSTM, torch.nn.LSTM), "gru": (rnn.GRU, torch.nn.GRU),
         "rnn": (rnn.RNN, torch.nn.RNN)}  # fmt: skip


def _train_step(model, x, low):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):  # forward only, as in AMP
        out, _ = model(x)
    out.float().sum().backward()  # a loss touching every output; gradients flow through all steps


def _infer(model, x, low):
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
        model(x)


def measure(cfg: str, cell: str, engines: list[str], repeats: int, warmup: int,
            low: bool = False) -> dict:  # fmt: skip
    """Median seconds per training step and per inference call: ``{(name, kind): s}`` for each
    engine and torch."""
    B, T, I, H, L, bi = CONFIGS[cfg]
    ours_cls, torch_cls = CELLS[cell]
    torch.manual_seed(0)
    ref = torch_cls(I, H, num_layers=L, bidirectional=bi, batch_first=True)
    models = []
    for engine in engines:
        ours = ours_cls(I, H, num_layers=L, bidirectional=bi, batch_first=True, engine=engine)
        ours.load_state_dict(ref.state_dict())
        models.append((engine, ours))
    models.append(("torch", ref))
    x = torch.randn(B, T, I, requires_grad=True)
    times = {(name, kind): [] for name, _ in models for kind in ("train", "infer")}
    for i in range(warmup + repeats):
        for name, model in models:
            for kind, fn in (("train", _train_step), ("infer", _infer)):
                model.zero_grad(set_to_none=True)
                x.grad = None
                t0 = time.perf_counter()
                fn(model, x, low)
                dt = time.perf_counter() - t0
                if i >= warmup:
                    times[(name, kind)].append(dt)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--configs", default=",".join(CONFIGS), help="(default: %(default)s)")
    ap.add_argument("--cells", default="lstm,gru,rnn", help="(default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=7, help="(default: %(default)s)")
    ap.add_argument("--warmup", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="bf16: all under torch.autocast (default: %(default)s)")  # fmt: skip
    ap.add_argument("--engine", default="native,rnnlab",
                    help="our engines, comma-separated: native, rnnlab, auto "
                         "(default: %(default)s)")  # fmt: skip
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    engines = args.engine.split(",")
    print(f"# {cpu_name()}, torch {torch.__version__}, {args.threads} threads, "
          f"median of {args.repeats} after {args.warmup} warm-up, {args.precision}")  # fmt: skip
    cols = [*engines, "torch"]
    head = []
    for kind in ("train", "infer"):
        head += [f"{kind} tok/s {c}" for c in cols] + [f"{kind} {e}/torch" for e in engines]
    print(f"| config | B T I H L | cell | {' | '.join(head)} |")
    print("|---|---|---|" + "---|" * len(head))
    for cfg in args.configs.split(","):
        B, T, I, H, L, bi = CONFIGS[cfg]
        for cell in args.cells.split(","):
            r = measure(cfg, cell, engines, args.repeats, args.warmup, args.precision == "bf16")
            shape = f"{B} {T} {I} {H} {L}" + (" bi" if bi else "")
            row = []
            for kind in ("train", "infer"):
                tok = {c: B * T / r[(c, kind)] for c in cols}
                row += [f"{tok[c]:,.0f}" for c in cols]
                row += [f"{tok[e] / tok['torch']:.2f}x" for e in engines]
            print(f"| {cfg} | {shape} | {cell} | {' | '.join(row)} |", flush=True)


if __name__ == "__main__":
    main()
