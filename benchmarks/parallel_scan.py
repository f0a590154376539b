"""Parallel in time: minGRU and minLSTM (a log-space scan over T) beside our LSTM and torch.nn.LSTM.

Three parts (``--parts``), every model measured in the same run on the same machine:

throughput  training tokens/s (B*T per forward + backward, loss = sum of the outputs) at
            T = 64..4096 with B, I, H fixed; the models interleaved at each T after a warm-up,
            medians (fewer repeats at long T); the ratios minGRU / LSTM and minGRU / torch.nn.LSTM.
            ``mingru-seq`` is the same minGRU stepped in Python (mode="sequential"), to set the
            scan against the same recurrence without it.
tasks       the adding problem and parity (rnnlab.data.synthetic; the heads, losses and scores of
            rnnlab.tasks.dependencies): each model gets the same training-time budget per run
            (``--task-seconds``, on ``--task-threads`` 1: tiny models run faster and steadier on
            one) and the same stream of batches, stops early once the dev batch is solved, and is
            scored on a separate test batch.
lm          tiny-shakespeare characters: embedding -> L x H recurrent -> linear, dropout, Adam
            with warm-up and a cosine over the budget, contiguous streams with the state carried;
            each model trains for the same ``--minutes`` (training time; default 10), then dev
            nats/char over 16 streams (char-rnn's estimator).

Other work on the machine slows some models more than others: run it alone for figures to keep.
Results go to ``--out`` (default runs/parallel_scan/) as JSON, and a table is printed.

    python benchmarks/parallel_scan.py --parts throughput,tasks      # ~5 + at most 12 min
    RNNLAB_DATA=../shared/data python benchmarks/parallel_scan.py --parts lm    # 3 x 10 min + eval
    RNNLAB_DATA=../shared/data python benchmarks/parallel_scan.py --parts lm --minutes 2  # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import rnnlab.nn as rnn
from machine import cpu_name
from rnnlab.data.synthetic import TASKS, stream
from rnnlab.tasks.dependencies import SOLVED, held_out, score, task_loss
from rnnlab.text.stream import StreamBatches
from rnnlab.train.schedules import cosine_factor

MODELS = ("mingru", "minlstm", "lstm", "torch-lstm", "mingru-seq")


def make_layer(kind: str, I: int, H: int, layers: int = 1, dropout: float = 0.0,
               engine: str | None = None) -> nn.Module:  # fmt: skip
    """A batch-first recurrent stack (B, T, I) -> (B, T, H); ``engine`` only for our LSTM."""
    kw = {"num_layers": layers, "dropout": dropout, "batch_first": True}
    if kind in ("mingru", "mingru-seq"):
        return rnn.MinGRU(I, H, **kw)
    if kind == "minlstm":
        return rnn.MinLSTM(I, H, **kw)
    if kind == "lstm":
        return rnn.LSTM(I, H, **kw, **({"engine": engine} if engine else {}))
    if kind == "torch-lstm":
        return nn.LSTM(I, H, **kw)
    raise ValueError(f"unknown model {kind!r}; known: {', '.join(MODELS)}")


def run_layer(kind: str, layer: nn.Module, x, state=None, lengths=None):
    """``layer(x, state)``, stepped in Python for ``mingru-seq``; -> output, state."""
    kw = {} if lengths is None else {"lengths": lengths}
    if kind == "mingru-seq":
        kw["mode"] = "sequential"
    return layer(x, state, **kw)


# ---- throughput --------------------------------------------------------------------------------
def throughput(args) -> list[dict]:
    """Median training tokens/s of every model at every T, interleaved."""
    B, I, H = args.batch, args.input, args.hidden
    rows = []
    for T in args.lengths:
        torch.manual_seed(0)
        x = torch.randn(B, T, I)  # (B, T, I)
        layers = {k: make_layer(k, I, H, engine=args.engine) for k in args.models}
        repeats = args.repeats if T <= 256 else max(3, round(args.repeats * (256 / T) ** 0.5))
        times: dict[str, list[float]] = {k: [] for k in layers}
        for i in range(1 + repeats):  # the first round is the warm-up
            for kind, layer in layers.items():
                layer.zero_grad(set_to_none=True)
                t0 = time.perf_counter()
                out, _ = run_layer(kind, layer, x)
                out.sum().backward()  # gradients flow back through every step
                if i:
                    times[kind].append(time.perf_counter() - t0)
        row = {"T": T, "B": B, "I": I, "H": H, "repeats": repeats}
        row |= {k: B * T / statistics.median(v) for k, v in times.items()}
        engine = getattr(layers.get("lstm"), "engine", None)
        rows.append(row | {"lstm_engine": engine})
        print_throughput_row(row, args.models)
    return rows


def print_throughput_row(row: dict, models) -> None:
    cells = " | ".join(f"{row[k]:,.0f}" for k in models)
    ratios = [f"{row['mingru'] / row[k]:.2f}x" if {"mingru", k} <= set(row) else "-"
              for k in ("lstm", "torch-lstm")]  # fmt: skip
    print(f"| {row['T']} | {cells} | {' | '.join(ratios)} |", flush=True)


# ---- adding and parity -------------------------------------------------------------------------
class TaskModel(nn.Module):
    """A recurrent stack and a linear read-out of the last layer's state after the last real
    step."""

    def __init__(self, kind: str, task, hidden: int, layers: int, engine: str | None) -> None:
        super().__init__()
        self.kind = kind
        self.rnn = make_layer(kind, task.input_size, hidden, layers, engine=engine)
        self.out = nn.Linear(hidden, task.output_size)
        if kind == "lstm":  # forget-gate bias 1 at initialisation, as rnnlab.tasks.dependencies
            with torch.no_grad():
                for layer in range(layers):
                    getattr(self.rnn, f"bias_ih_l{layer}")[hidden : 2 * hidden] = 1.0
                    getattr(self.rnn, f"bias_hh_l{layer}")[hidden : 2 * hidden] = 0.0

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        _, state = run_layer(self.kind, self.rnn, x, lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state  # (L, B, H)
        return self.out(h_n[-1])  # (B, O)


def solved(metric: str, scores: dict[str, float]) -> bool:
    v = scores[metric]
    return v >= SOLVED[metric] if metric == "accuracy" else v <= SOLVED[metric]


def train_task(kind: str, name: str, length: int, args) -> dict:
    """Train one model on one task and length for ``args.task_seconds`` of training time."""
    task = TASKS[name]
    torch.manual_seed(args.seed)
    model = TaskModel(kind, task, args.task_hidden, args.task_layers, args.engine)
    opt = torch.optim.Adam(model.parameters(), lr=args.task_lr)
    dev = held_out(task, 1000, length, seed=args.seed + 1_000_003)
    batches = stream(name, 64, length, seed=args.seed)  # the same batches for every model
    spent, steps, solved_at = 0.0, 0, None
    while spent < args.task_seconds:
        model.train()
        t0 = time.perf_counter()
        loss = task_loss(task, model, next(batches))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        spent += time.perf_counter() - t0
        steps += 1
        if steps % 50 == 0:
            model.eval()
            if solved(task.metric, score(task, model, dev)):
                solved_at = steps
                break
    model.eval()
    test = score(task, model, held_out(task, 1000, length, seed=args.seed + 7919))
    return {"model": kind, "task": name, "length": length, "metric": task.metric,
            "test": test, "steps": steps, "train_s": spent, "solved_at": solved_at,
            "chance": task.chance}  # fmt: skip


def tasks(args) -> list[dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(args.task_threads)  # tiny models: one thread is faster, and steadier
    rows = []
    for name, lengths in (("adding", args.adding_lengths), ("parity", args.parity_lengths)):
        for length in lengths:
            for kind in args.task_models:
                r = train_task(kind, name, length, args)
                rows.append(r)
                where = f"solved @ {r['solved_at']}" if r["solved_at"] else "not solved"
                extra = f" (mse {r['test']['mse']:.4f})" if name == "adding" else ""
                acc = r["test"]["accuracy"]
                print(f"| {name} | {length} | {kind} | {acc:.3f}{extra} | {r['steps']} steps, "
                      f"{r['train_s']:.0f} s, {where} |", flush=True)  # fmt: skip
    torch.set_num_threads(threads)
    return rows


# ---- tiny-shakespeare --------------------------------------------------------------------------
class CharLM(nn.Module):
    """Embedding -> dropout -> recurrent stack (dropout between layers) -> dropout -> linear."""

    def __init__(self, kind: str, V: int, args) -> None:
        super().__init__()
        self.kind = kind
        self.embedding = nn.Embedding(V, args.lm_embed)
        self.rnn = make_layer(kind, args.lm_embed, args.lm_hidden, args.lm_layers,
                              args.lm_dropout, args.engine)  # fmt: skip
        self.drop = nn.Dropout(args.lm_dropout)
        self.out = nn.Linear(args.lm_hidden, V)

    def forward(self, ids: torch.Tensor, state=None):
        x = self.drop(self.embedding(ids))  # (B, T, E)
        out, state = run_layer(self.kind, self.rnn, x, state)  # (B, T, H)
        return self.out(self.drop(out)), state  # (B, T, V)


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


@torch.no_grad()
def dev_loss(model: CharLM, ids: torch.Tensor, streams: int = 16, bptt: int = 100) -> float:
    """Nats per character over ``streams`` contiguous rows, the state carried."""
    model.eval()
    total, count, state = 0.0, 0, None
    for batch in StreamBatches(ids, streams, bptt):
        logits, state = model(batch.inputs, state)
        total += F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(), reduction="sum")
        count += batch.targets.numel()
    return float(total) / count


def train_lm(kind: str, train_ids, dev_ids, V: int, args) -> dict:
    torch.manual_seed(args.seed)
    model = CharLM(kind, V, args)
    opt = torch.optim.Adam(model.parameters(), lr=args.lm_lr)
    budget = args.minutes * 60
    spent, steps, tokens, state, losses = 0.0, 0, 0, None, []
    while spent < budget:
        for batch in StreamBatches(train_ids, args.lm_batch, args.lm_bptt):
            if spent >= budget:
                break
            t0 = time.perf_counter()
            warm = min(1.0, (steps + 1) / args.lm_warmup)
            for group in opt.param_groups:  # linear warm-up, then a cosine over the budget
                group["lr"] = args.lm_lr * warm * cosine_factor(spent / budget, 0.1)
            model.train()
            state = None if batch.first else detach(state)
            logits, state = model(batch.inputs, state)
            loss = F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            spent += time.perf_counter() - t0
            steps, tokens = steps + 1, tokens + batch.inputs.numel()
            losses.append(loss.item())
    t0 = time.perf_counter()
    dev = dev_loss(model, dev_ids)
    return {"model": kind, "dev_nats_per_char": dev, "train_loss_last100": statistics.mean(
        losses[-100:]), "steps": steps, "epochs": tokens / len(train_ids), "train_s": spent,
        "tokens_per_s": tokens / spent, "eval_s": time.perf_counter() - t0,
        "params": sum(p.numel() for p in model.parameters())}  # fmt: skip


def language_model(args) -> list[dict]:
    from rnnlab.data import load_corpora

    splits = load_corpora("tinyshakespeare", progress=False)
    train, dev = splits["train"].stream(), splits["dev"].stream()
    chars = sorted(set(train) | set(dev))
    index = {c: i for i, c in enumerate(chars)}
    train_ids = torch.tensor([index[c] for c in train])
    dev_ids = torch.tensor([index[c] for c in dev])
    rows = []
    for kind in args.lm_models:
        r = train_lm(kind, train_ids, dev_ids, len(chars), args)
        rows.append(r)
        print(f"| {kind} | {args.lm_layers}x{args.lm_hidden} | {r['params']:,} | "
              f"**{r['dev_nats_per_char']:.4f}** | {r['train_loss_last100']:.4f} | "
              f"{r['tokens_per_s']:,.0f} | {r['steps']} ({r['epochs']:.2f} epochs) | "
              f"{r['train_s']:.0f} s |", flush=True)  # fmt: skip
    return rows


def ints(s: str) -> list[int]:
    return [int(v) for v in s.split(",")]


def names(s: str) -> list[str]:
    bad = [v for v in s.split(",") if v not in MODELS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown models {bad}; known: {', '.join(MODELS)}")
    return s.split(",")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--parts", default="throughput,tasks,lm", help="(default: %(default)s)")
    ap.add_argument("--no-lm", action="store_true", help="skip the tiny-shakespeare part")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--engine", help="engine= for rnnlab.nn.LSTM (default: the layer's default)")
    ap.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    ap.add_argument("--out", default="runs/parallel_scan", help="(default: %(default)s)")
    g = ap.add_argument_group("throughput")
    g.add_argument("--lengths", type=ints, default=[64, 256, 1024, 4096], help="T values")
    g.add_argument("--models", type=names, default=list(MODELS), help="(default: all)")
    g.add_argument("--batch", type=int, default=16, help="B (default: %(default)s)")
    g.add_argument("--input", type=int, default=64, help="I (default: %(default)s)")
    g.add_argument("--hidden", type=int, default=256, help="H (default: %(default)s)")
    g.add_argument("--repeats", type=int, default=7,
                   help="timed rounds at T <= 256, fewer above (default: %(default)s)")  # fmt: skip
    g = ap.add_argument_group("tasks")
    g.add_argument("--task-models", type=names, default=["mingru", "minlstm", "lstm"],
                   help="(default: mingru,minlstm,lstm)")  # fmt: skip
    g.add_argument("--adding-lengths", type=ints, default=[100, 400], help="(default: 100,400)")
    g.add_argument("--parity-lengths", type=ints, default=[20, 100], help="(default: 20,100)")
    g.add_argument("--task-seconds", type=float, default=60.0,
                   help="training time per model and run (default: %(default)s)")  # fmt: skip
    g.add_argument("--task-hidden", type=int, default=32, help="(default: %(default)s)")
    g.add_argument("--task-layers", type=int, default=2, help="(default: %(default)s)")
    g.add_argument("--task-lr", type=float, default=1e-2, help="Adam (default: %(default)s)")
    g.add_argument("--task-threads", type=int, default=1, help="(default: %(default)s)")
    g = ap.add_argument_group("lm (tiny-shakespeare)")
    g.add_argument("--lm-models", type=names, default=["mingru", "minlstm", "lstm"],
                   help="(default: mingru,minlstm,lstm)")  # fmt: skip
    g.add_argument("--minutes", type=float, default=10.0,
                   help="training minutes per model (default: %(default)s)")  # fmt: skip
    g.add_argument("--lm-layers", type=int, default=2, help="(default: %(default)s)")
    g.add_argument("--lm-hidden", type=int, default=256, help="(default: %(default)s)")
    g.add_argument("--lm-embed", type=int, default=128, help="(default: %(default)s)")
    g.add_argument("--lm-dropout", type=float, default=0.2, help="(default: %(default)s)")
    g.add_argument("--lm-batch", type=int, default=64, help="(default: %(default)s)")
    g.add_argument("--lm-bptt", type=int, default=100, help="(default: %(default)s)")
    g.add_argument("--lm-lr", type=float, default=3e-3, help="Adam (default: %(default)s)")
    g.add_argument("--lm-warmup", type=int, default=100, help="steps (default: %(default)s)")
    args = ap.parse_args()
    parts = [p for p in args.parts.split(",") if not (args.no_lm and p == "lm")]
    unknown = set(parts) - {"throughput", "tasks", "lm"}
    if unknown:
        ap.error(f"unknown parts {sorted(unknown)}; choose among throughput, tasks, lm")
    if "lm" in parts and not os.environ.get("RNNLAB_DATA"):
        ap.error("the lm part needs RNNLAB_DATA set to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    head = {"cpu": cpu_name(), "cores": os.cpu_count(), "threads": args.threads,
            "torch": torch.__version__, "started": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    print(f"# {head['cpu']}, {head['cores']} cores, torch {head['torch']}, "
          f"{args.threads} threads, fp32")  # fmt: skip
    for part in parts:
        if part == "throughput":
            print(f"\n## training tokens/s (forward + backward), B={args.batch} I={args.input} "
                  f"H={args.hidden}, 1 layer, median after 1 warm-up round")  # fmt: skip
            print(f"| T | {' | '.join(args.models)} | minGRU/LSTM | minGRU/torch.nn.LSTM |")
            print("|---" * (len(args.models) + 3) + "|")
            rows = throughput(args)
        elif part == "tasks":
            print(f"\n## adding and parity: {args.task_layers}x{args.task_hidden}, "
                  f"{args.task_seconds:g} s of training per run, stopped once solved, "
                  f"{args.task_threads} thread(s)")  # fmt: skip
            print("| task | T | model | test accuracy | budget used |")
            print("|---|---|---|---|---|")
            rows = tasks(args)
        else:
            print(f"\n## tiny-shakespeare, {args.minutes:g} min of training per model")
            print("| model | layers | params | dev nats/char | train loss | tok/s | steps | "
                  "train |")  # fmt: skip
            print("|---|---|---|---|---|---|---|---|")
            rows = language_model(args)
        path = out / f"{part}.json"
        path.write_text(json.dumps(head | {"args": vars(args), "rows": rows}, indent=1))
        print(f"# wrote {path}")


if __name__ == "__main__":
    main()
