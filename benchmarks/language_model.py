"""Language-model quality within a training-time budget: PTB test perplexity (30 minutes) and
tiny-shakespeare validation nats/char (10 minutes), with wall time, beside the unigram baseline.

Ours is trained through `rnnlab.tasks.language_model.train_lm` (the code behind `rnnlab train lm`):
contiguous-stream truncated BPTT, the learning rate annealed (cosine) over the budget's training
time (`TrainConfig.anneal_to` with a time budget: it reaches its floor as the time runs out), the
run stopped by the budget (`TrainConfig.max_minutes`: training time, evaluation not counted, as
the peers count it), and the better on dev of the best finished epoch and the weights at the cut
kept. Scores:
PTB test and dev perplexity with one stream (every word predicted from all the text before it, as
the peer's test figure); tiny-shakespeare dev loss with one stream and with 16 streams (the char-rnn
peer's estimator). The configurations below come from the literature (Zaremba et al. 2014; Press &
Wolf 2017 for tying; char-rnn), not from a search on this machine.

With `--peers`, the plain PyTorch scripts of ../shared/peers run one at a time on the same budget
(`--budget` seconds), and their figures are printed beside ours. Run nothing else meanwhile: two
runs on two cores measure each other.

    RNNLAB_DATA=../shared/data python benchmarks/language_model.py             # 30 + 10 min
    RNNLAB_DATA=../shared/data python benchmarks/language_model.py --peers     # + 30 + 2 x 10 min
    RNNLAB_DATA=../shared/data python benchmarks/language_model.py --minutes 1 # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnlab.data import load_corpora
from rnnlab.models.language_model import LMConfig
from rnnlab.tasks.language_model import (
    LMJob,
    encode_corpus,
    evaluate_lm,
    train_lm,
    unigram_perplexity,
)
from rnnlab.text.stream import StreamBatches
from rnnlab.train import TrainConfig

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"


@dataclass
class Task:
    """One benchmark: the corpus, our configuration, the budget and the peers to run beside."""

    minutes: float
    job: dict  # LMJob fields
    model: dict  # LMConfig fields
    train: dict  # TrainConfig fields
    warmup: int  # learning-rate warm-up steps, then a cosine down to min_factor over the budget
    min_factor: float
    peers: list[str] = field(default_factory=list)


TASKS = {
    # Between Zaremba's "small" (2x200) and "medium" (2x650): 2x400 with variational dropout (one
    # mask per sequence, Gal & Ghahramani 2016), and an adaptive softmax (head of the 2,000 most
    # frequent words, clusters to 6,000 and 10,000) that makes a step ~1.6x faster than the full
    # softmax at this size; mixed precision (bfloat16 products, float32 recurrence) adds ~1.1x, so
    # ~8 epochs fit in 30 minutes on 2 cores. Dropout 0.2: in 30 minutes 0.3 underfitted (train
    # loss 4.63 against dev 4.75 at the end) and 0.15 began to overfit (4.18 against 4.66). SGD
    # at the per-token-mean equivalent of Zaremba's lr 1 (his loss is summed over 20 steps) and
    # clip, cosine-annealed.
    "ptb": Task(
        minutes=30,
        job={"data": "ptb", "batch_size": 20, "bptt": 35, "eval_batch_size": 10},
        model={
            "cell": "lstm",
            "embed_dim": 400,
            "hidden_size": 400,
            "num_layers": 2,
            "dropout": 0.2,
            "variational_dropout": True,
            "adaptive_cutoffs": (2000, 6000),
        },  # fmt: skip
        train={"optimizer": "sgd", "lr": 20.0, "clip_norm": 0.25, "precision": "bf16"},
        warmup=0,
        min_factor=0.02,
        peers=["ptb_zaremba_small.py"],
    ),
    # char-rnn's 2 x 256 LSTM (as the peer), with (variational) dropout against the overfitting
    # the peer shows after 6 minutes, and Adam annealed over the budget
    "tinyshakespeare": Task(
        minutes=10,
        job={"data": "tinyshakespeare", "batch_size": 64, "bptt": 100, "eval_batch_size": 16},
        model={
            "cell": "lstm",
            "embed_dim": 128,
            "hidden_size": 256,
            "num_layers": 2,
            "dropout": 0.2,
            "variational_dropout": True,
        },  # fmt: skip
        train={"optimizer": "adam", "lr": 3e-3, "clip_norm": 5.0, "precision": "bf16"},
        warmup=100,
        min_factor=0.1,
        peers=["char_lstm.py", "nanogpt_char.py"],
    ),
}


def run_ours(name: str, task: Task, minutes: float, out: Path) -> dict:
    """Train our model on ``name`` for ``minutes`` of training; return its figures."""
    t0 = time.time()
    splits = load_corpora(name)
    job = LMJob(
        **task.job,
        out=str(out),
        model=LMConfig(1, **task.model),
        train=TrainConfig(
            **task.train, epochs=10_000, patience=None, progress=False, max_minutes=minutes,
            anneal_to=task.min_factor, warmup=task.warmup,
        ),  # annealed over the budget: it ends long before the 10,000 epochs' steps
    )  # fmt: skip
    result = train_lm(job)  # the budget, not the epoch count, ends it
    state = json.loads((out / "checkpoint" / "state.json").read_text())["state"]
    steps = state["global_step"]
    per_epoch = len(StreamBatches(encode_corpus(result.model, splits["train"]),
                                  task.job["batch_size"], task.job["bptt"]))  # fmt: skip
    train_s = minutes * 60 if result.budget_spent else sum(r["time"] for r in result.history)
    figures = {
        "params": sum(p.numel() for p in result.model.parameters()),
        "epochs": steps / per_epoch,
        "train_s": train_s,
        "tokens_per_s": steps * task.job["batch_size"] * task.job["bptt"] / train_s,
        "scores": result.scores,
        "steps": steps,
    }
    reference = "test" if "test" in splits else "dev"
    figures["unigram_ppl"] = unigram_perplexity(splits["train"], splits[reference])
    if name == "tinyshakespeare":
        started = time.time()
        figures["dev_16_streams"] = evaluate_lm(result.model, splits["dev"], batch_size=16)
        figures["eval16_s"] = time.time() - started
    figures["wall_s"] = time.time() - t0
    return figures


def run_peer(script: str, budget_s: float) -> dict | None:
    """Run a peer script of ../shared/peers with ``--budget``; the JSON it writes, or None."""
    path = PEERS / script
    if not path.exists():
        print(f"# peer {path} not found", file=sys.stderr)
        return None
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(path), "--budget", str(budget_s)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        print(f"# peer {script} failed: {proc.stderr[-500:]}", file=sys.stderr)
        return None
    res = json.loads((PEERS / "out" / f"{Path(script).stem}.json").read_text())
    res["wall_s_here"] = time.time() - t0
    return res


def describe(task: Task) -> str:
    m, t = task.model, task.train
    tied = ", tied" if m.get("tie_weights") else ""
    kind = "variational " if m.get("variational_dropout") else ""
    if m.get("adaptive_cutoffs"):
        tied += f", adaptive softmax {','.join(map(str, m['adaptive_cutoffs']))}"
    return (f"ours: {m['cell'].upper()} {m['num_layers']}x{m['hidden_size']}{tied}, {kind}dropout "
            f"{m['dropout']}, {t['optimizer']} {t['lr']:g} cosine, "
            f"{t.get('precision', 'fp32')}")  # fmt: skip


def print_ours(name: str, task: Task, minutes: float, r: dict) -> None:
    s = r["scores"]
    if name == "ptb":
        result = (f"test ppl **{s['test']['perplexity']:.2f}** (dev {s['dev']['perplexity']:.2f}; "
                  f"{r['params']:,} params)")  # fmt: skip
        unigram = f"{r['unigram_ppl']:.1f}"
    else:
        result = (f"dev **{r['dev_16_streams']['loss']:.4f}** nats/char with 16 streams, "
                  f"{s['dev']['loss']:.4f} with 1 ({r['params']:,} params)")  # fmt: skip
        unigram = f"{math.log(r['unigram_ppl']):.4f} nats/char"
    print(f"| {name} | {describe(task)} | {minutes:g} min | {result} | {unigram} | "
          f"{r['epochs']:.2f} epochs, {r['tokens_per_s']:,.0f} tok/s | {r['train_s']:.0f} s | "
          f"{r['wall_s']:.0f} s |", flush=True)  # fmt: skip


def print_peer(name: str, script: str, minutes: float, res: dict) -> None:
    if "test_ppl" in res:
        result = f"test ppl **{res['test_ppl']:.2f}** (dev {res['final_valid_ppl']:.2f})"
        epochs = res["epochs_done"]
    else:
        result = (f"dev **{res['final_val_loss']:.4f}** nats/char (best "
                  f"{res['best_val_loss']:.4f})")  # fmt: skip
        epochs = res["epochs"]
    print(f"| {name} | peer {script} | {minutes:g} min | {result} | | {epochs:.2f} epochs, "
          f"{res['train_tokens_per_s']:,.0f} tok/s | {res['train_time_s']:.0f} s | "
          f"{res['wall_time_s']:.0f} s |", flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tasks", default="ptb,tinyshakespeare", help="(default: %(default)s)")
    ap.add_argument("--minutes", type=float,
                    help="training budget of every task (default: 30 for ptb, 10 for "
                         "tinyshakespeare)")  # fmt: skip
    ap.add_argument("--peers", action="store_true", help="also run the peer scripts, same budget")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--out", help="keep the run directories here (default: a temporary folder)")
    ap.add_argument("--json", help="also write every figure to this JSON file")
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
          f"{torch.__version__}, {args.threads} threads")  # fmt: skip
    print("| task | model | budget | result | unigram | progress | train | wall |")
    print("|---|---|---|---|---|---|---|---|")
    everything = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.out or tmp)
        for name in args.tasks.split(","):
            if name not in TASKS:
                sys.exit(f"unknown task {name!r}; known: {', '.join(TASKS)}")
            task = TASKS[name]
            minutes = args.minutes or task.minutes
            r = run_ours(name, task, minutes, root / name)
            print_ours(name, task, minutes, r)
            everything[name] = {"ours": r}
            for script in task.peers if args.peers else []:
                res = run_peer(script, minutes * 60)
                if res is not None:
                    print_peer(name, script, minutes, res)
                    everything[name][script] = {k: v for k, v in res.items() if k != "curve"}
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
