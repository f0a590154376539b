"""How fast can an LSTM's inference be on this CPU? The matrix products set the ceiling.

An LSTM layer's forward is two products and cheap elementwise work: the input projection
a^x = X W_ih^T over all T*B rows, (T*B, I) @ (I, 4H), and per step the recurrent product
h_{t-1} W_hh^T, (B, H) @ (H, 4H). Their floating-point operations, 2*T*B*4H*(I + H), are > 98% of
the layer's work. This script measures, for each config of bptt_vs_torch.py and in one run:

* the GEMM throughput (GFLOP/s) ATen's ``torch.mm`` (MKL on the x86 wheels) reaches on exactly
  those two shapes (the recurrent one T times in a row), on all threads, and on one thread for
  one thread's share of the rows (B / threads), the way our compiled loop splits the work;
* the same shapes on oneDNN's fp32 inner product (``torch._C._nn.mkldnn_linear`` on oneDNN
  tensors), the library whose JIT kernels torch.nn.LSTM runs;
* the effective GFLOP/s of a whole inference forward of torch.nn.LSTM and of ours.

The ceiling of an engine built on a GEMM library is its GEMM time alone, the better of the two
designs: flops_x / rate_x + flops_h / rate_h on all threads, or the one-thread rates with ideal
scaling over the threads. ``ceiling/torch`` is torch.nn.LSTM's time over that ceiling: the ratio
our layer could reach with free elementwise work. Below 1.0x, no amount of loop fusion on that
library beats torch.nn.LSTM here. Each ``torch.mm`` call from Python costs a few microseconds
more than the product, which matters only where a step's product is that small (c2, c4): there
the measured rates understate the library and the ceiling is not one.

    python benchmarks/gemm_ceiling.py            # 2 threads, the four configs
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import rnnlab.nn as rnn
from machine import cpu_name

CONFIGS = {
    "c1": (64, 100, 128, 256),
    "c2": (32, 200, 64, 128),
    "c3": (64, 100, 256, 512),
    "c4": (16, 500, 32, 64),
}  # fmt: skip  (B, T, I, H), one layer as in bptt_vs_torch.py


def _seconds(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after two warm-up calls."""
    fn(), fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _rates(B: int, T: int, I: int, H: int, threads: int, repeats: int) -> dict:
    """GFLOP/s * 1e9 of the two products of one layer on ``threads`` threads, for MKL (torch.mm)
    and oneDNN (mkldnn_linear): {"mkl_x", "mkl_h", "dnnl_x", "dnnl_h"}."""
    torch.set_num_threads(threads)
    x_rows, w_ih = torch.randn(T * B, I), torch.randn(4 * H, I)  # (T*B, I), (4H, I)
    h, w_hh = torch.randn(B, H), torch.randn(4 * H, H)  # (B, H), (4H, H)
    flops_x, flops_h = 2 * T * B * I * 4 * H, 2 * T * B * H * 4 * H
    zero = torch.zeros(4 * H)
    d_x, d_wih, d_h, d_whh, d_b = (t.to_mkldnn() for t in (x_rows, w_ih, h, w_hh, zero))
    lin = torch._C._nn.mkldnn_linear
    return {
        "mkl_x": flops_x / _seconds(lambda: torch.mm(x_rows, w_ih.t()), repeats),
        "mkl_h": flops_h / _seconds(lambda: [torch.mm(h, w_hh.t()) for _ in range(T)], repeats),
        "dnnl_x": flops_x / _seconds(lambda: lin(d_x, d_wih, d_b), repeats),
        "dnnl_h": flops_h / _seconds(lambda: [lin(d_h, d_whh, d_b) for _ in range(T)], repeats),
    }


def measure(B: int, T: int, I: int, H: int, threads: int, repeats: int) -> dict:
    """Effective GFLOP/s * 1e9 of torch.nn.LSTM's and our inference forward, and the ceiling
    ratios (see the module docstring) of an engine on MKL and on oneDNN products, each the better
    of two designs: every product on all threads, or each thread its own B/threads rows with
    single-threaded products (no synchronisation; ideal scaling assumed, so an upper bound)."""
    torch.manual_seed(0)
    flops_x, flops_h = 2 * T * B * I * 4 * H, 2 * T * B * H * 4 * H
    shared = _rates(B, T, I, H, threads, repeats)
    own = _rates(B // threads, T, I, H, 1, repeats)  # one thread's rows
    torch.set_num_threads(threads)
    ref = torch.nn.LSTM(I, H)
    ours = rnn.LSTM(I, H)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(T, B, I)
    with torch.no_grad():
        t_torch = _seconds(lambda: ref(x), repeats)
        t_ours = _seconds(lambda: ours(x), repeats)

    def ceiling(lib: str) -> float:
        t_shared = flops_x / shared[f"{lib}_x"] + flops_h / shared[f"{lib}_h"]
        t_own = (flops_x / own[f"{lib}_x"] + flops_h / own[f"{lib}_h"]) / threads
        return t_torch / min(t_shared, t_own)

    total = flops_x + flops_h
    return {
        "mkl_x": shared["mkl_x"], "mkl_h": shared["mkl_h"], "mkl1_x": own["mkl_x"],
        "mkl1_h": own["mkl_h"], "dnnl_x": shared["dnnl_x"], "dnnl_h": shared["dnnl_h"],
        "torch": total / t_torch, "ours": total / t_ours, "ceil_mkl": ceiling("mkl"),
        "ceil_dnnl": ceiling("dnnl"), "ours_ratio": t_torch / t_ours,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--configs", default=",".join(CONFIGS), help="(default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=9, help="(default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {cpu_name()}, torch {torch.__version__}, {args.threads} threads, "
          f"median of {args.repeats}; GFLOP/s, LSTM inference (fp32)")  # fmt: skip
    print("| config | B T I H | MKL X W_ih^T | MKL h W_hh^T | MKL 1 thread, B/threads rows: "
          "X W_ih^T | h W_hh^T | oneDNN X W_ih^T | oneDNN h W_hh^T | torch.nn.LSTM | ours | "
          "MKL ceiling/torch | oneDNN ceiling/torch | ours/torch |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for cfg in args.configs.split(","):
        B, T, I, H = CONFIGS[cfg]
        r = measure(B, T, I, H, args.threads, args.repeats)
        g = {k: f"{v / 1e9:.0f}" for k, v in r.items()}
        print(f"| {cfg} | {B} {T} {I} {H} | {g['mkl_x']} | {g['mkl_h']} | {g['mkl1_x']} | "
              f"{g['mkl1_h']} | {g['dnnl_x']} | "
              f"{g['dnnl_h']} | {g['torch']} | {g['ours']} | {r['ceil_mkl']:.2f}x | "
              f"{r['ceil_dnnl']:.2f}x | {r['ours_ratio']:.2f}x |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
