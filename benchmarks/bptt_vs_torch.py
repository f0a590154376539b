"""Our BPTT against torch.nn.LSTM/GRU/RNN, measured side by side in one run.

For every config and cell, both implementations get the same weights and inputs; timings are
interleaved (ours, torch, ours, torch, ...) after warm-up, and the median of the repeats is kept.
Prints tokens/s (B*T per second) for a training step (forward + backward) and for inference
(forward under torch.no_grad), and the ratio ours/torch (> 1 means we are faster).

With ``--precision bf16`` both run inside ``torch.autocast("cpu", dtype=torch.bfloat16)``: torch's
layers then use oneDNN's bfloat16 RNN kernels (the recurrence in bfloat16 too), ours the bfloat16
products over all T*B rows with a float32 recurrence (see rnnlab.nn.precision).

    python benchmarks/bptt_vs_torch.py                 # all configs, 2 threads
    python benchmarks/bptt_vs_torch.py --configs c1 --cells lstm --repeats 5
    python benchmarks/bptt_vs_torch.py --precision bf16
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

import rnnlab.nn as rnn

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


def measure(cfg: str, cell: str, repeats: int, warmup: int, low: bool = False) -> dict:
    """Median seconds per training step and per inference call, ours and torch's."""
    B, T, I, H, L, bi = CONFIGS[cfg]
    ours_cls, torch_cls = CELLS[cell]
    torch.manual_seed(0)
    ref = torch_cls(I, H, num_layers=L, bidirectional=bi, batch_first=True)
    ours = ours_cls(I, H, num_layers=L, bidirectional=bi, batch_first=True)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(B, T, I, requires_grad=True)
    times = {k: [] for k in ("ours_train", "torch_train", "ours_infer", "torch_infer")}
    for i in range(warmup + repeats):
        for name, model in (("ours", ours), ("torch", ref)):
            for kind, fn in (("train", _train_step), ("infer", _infer)):
                model.zero_grad(set_to_none=True)
                x.grad = None
                t0 = time.perf_counter()
                fn(model, x, low)
                dt = time.perf_counter() - t0
                if i >= warmup:
                    times[f"{name}_{kind}"].append(dt)
    return {k: statistics.median(v) for k, v in times.items()} | {"tokens": B * T}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--configs", default=",".join(CONFIGS), help="(default: %(default)s)")
    ap.add_argument("--cells", default="lstm,gru,rnn", help="(default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=7, help="(default: %(default)s)")
    ap.add_argument("--warmup", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="bf16: both under torch.autocast (default: %(default)s)")  # fmt: skip
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cpu = platform.processor() or platform.machine()
    print(f"# {cpu}, torch {torch.__version__}, {args.threads} threads, "
          f"median of {args.repeats} after {args.warmup} warm-up, {args.precision}")  # fmt: skip
    print("| config | B T I H L | cell | train tok/s ours | torch | ratio | "
          "infer tok/s ours | torch | ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for cfg in args.configs.split(","):
        B, T, I, H, L, bi = CONFIGS[cfg]
        for cell in args.cells.split(","):
            r = measure(cfg, cell, args.repeats, args.warmup, args.precision == "bf16")
            n = r["tokens"]
            tr = (n / r["ours_train"], n / r["torch_train"])
            inf = (n / r["ours_infer"], n / r["torch_infer"])
            shape = f"{B} {T} {I} {H} {L}" + (" bi" if bi else "")
            print(f"| {cfg} | {shape} | {cell} | {tr[0]:,.0f} | {tr[1]:,.0f} | "
                  f"{tr[0] / tr[1]:.2f}x | {inf[0]:,.0f} | {inf[1]:,.0f} | "
                  f"{inf[0] / inf[1]:.2f}x |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
