"""Sequence-tagging quality: CoNLL-2003 NER test entity F1 and UD English-LinES UPOS accuracy.

Trains our SequenceTagger with a CRF and, beside it, with a softmax per token (same network
otherwise), without pretrained vectors, on `$RNNLAB_DATA`, and prints one row per run: test and
dev scores, epochs, wall time and the mean time of a training epoch. Bars (issue 6): NER test
entity F1 >= 85 (conlleval's overall F1; Lample et al. 2016 reach 90.94 with pretrained vectors
and characters), UPOS test accuracy >= 93%. Results also go to OUT/results.json, run by run.

    RNNLAB_DATA=../shared/data python benchmarks/tagging.py
    RNNLAB_DATA=../shared/data python benchmarks/tagging.py --runs ner-crf --max-sentences 1000 \
        --epochs 2          # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from rnnlab.models.tagger import TaggerConfig
from rnnlab.tasks.tag import TagJob, train_tagger
from rnnlab.train import TrainConfig

# Lample et al. (2016) sizes: words 100, characters 25 -> 2x25, BiLSTM 2x100, dropout 0.5, BIOES;
# plus an 8-d casing feature. Adam instead of their SGD (0.01, one sentence per step): fewer
# epochs on a CPU, cosine-annealed over --epochs (their SGD decays too); the best dev F1 /
# accuracy epoch is kept (early stopping with --patience; 0 lets the annealing finish).
NETWORK = {"embed_dim": 100, "char_dim": 25, "char_hidden": 25, "case_dim": 8,
           "hidden_size": 100, "dropout": 0.5, "singleton_unk": 0.5}  # fmt: skip
# Per task, unless given on the command line. NER: without pretrained vectors the names are
# learnt from the training set alone, and a wider network (words 2x200, characters 2x50) with
# smaller batches (10 sentences, more updates per epoch) generalises best among the settings
# tried (benchmarks/RESULTS.md: dev F1 91.2 against 90.1-90.7 at 32 sentences).
TASK_DEFAULTS = {
    "ner": {"hidden": 200, "char_hidden": 50, "batch_size": 10},
    "pos": {"hidden": NETWORK["hidden_size"], "char_hidden": NETWORK["char_hidden"],
            "batch_size": 32},
}  # fmt: skip
RUNS = {
    "ner-crf": ("conll2003", "ner", "BIOES", True),
    "pos-crf": ("ud_english_lines", "upos", "BIOES", True),
    "pos-softmax": ("ud_english_lines", "upos", "BIOES", False),
    "ner-softmax": ("conll2003", "ner", "BIOES", False),
}
BARS = {"ner": ("entity F1", 0.85), "pos": ("UPOS accuracy", 0.93)}


def run(name: str, args: argparse.Namespace) -> dict:
    """Train one configuration; return its scores and times."""
    data, target, scheme, crf = RUNS[name]
    task = name.split("-")[0]
    given = {k: getattr(args, k) for k in TASK_DEFAULTS[task]}
    args = argparse.Namespace(**{**vars(args), **{
        k: TASK_DEFAULTS[task][k] if v is None else v for k, v in given.items()}})  # fmt: skip
    t0 = time.time()
    job = TagJob(
        data=data, target=target, scheme=scheme, chars=True, out=str(Path(args.out, name)),
        batch_size=args.batch_size, max_sentences=args.max_sentences,
        model=TaggerConfig(vocab_size=1, num_tags=1, crf=crf, **{**NETWORK,
                           "hidden_size": args.hidden, "char_hidden": args.char_hidden,
                           "embed_dim": args.embed_dim, "num_layers": args.layers,
                           "dropout": args.dropout, "singleton_unk": args.singleton_unk}),
        train=TrainConfig(epochs=args.epochs, lr=args.lr, clip_norm=5.0, monitor="f1",
                          mode="max", patience=args.patience or None,
                          anneal_to=0.05 if args.schedule == "cosine" else None,
                          seed=args.seed, device=args.device, progress=False),
    )  # fmt: skip
    result = train_tagger(job)
    seconds = time.time() - t0
    test, dev = result.scores["test"], result.scores["dev"]

    def score(s: dict) -> float:
        return s["entities"]["overall"]["f1"] if task == "ner" else s["accuracy"]

    epoch_times = [h["time"] for h in result.history]
    return {
        "run": name, "data": data, "target": target, "head": "crf" if crf else "softmax",
        "test": score(test), "dev": score(dev), "test_accuracy": test["accuracy"],
        "test_entities": test["entities"], "epochs": len(result.history),
        "best_epoch": max(h["epoch"] for h in result.history if h["best"]),
        "epoch_seconds": statistics.mean(epoch_times), "seconds": seconds,
        "settings": {k: getattr(args, k) for k in ("hidden", "char_hidden", "batch_size",
                     "embed_dim", "layers", "dropout", "lr", "epochs", "seed", "device")},
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", default=",".join(RUNS), help="comma-separated, of " + ", ".join(RUNS))
    p.add_argument("--epochs", type=int, default=20, help="maximum epochs per run")
    p.add_argument("--patience", type=int, default=5, help="early stopping on dev (0: off)")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    p.add_argument("--schedule", choices=("constant", "cosine"), default="cosine",
                   help="learning rate over the run: constant, or cosine-annealed to 5%% over "
                        "--epochs (default: %(default)s)")  # fmt: skip
    p.add_argument("--batch-size", type=int, help="sentences per batch (default: NER 10, POS 32)")
    p.add_argument(
        "--hidden", type=int, help="word BiLSTM units per direction (default: NER 200, POS 100)"
    )
    p.add_argument(
        "--char-hidden",
        type=int,
        help="character BiLSTM units per direction (default: NER 50, POS 25)",
    )
    p.add_argument(
        "--embed-dim",
        type=int,
        default=NETWORK["embed_dim"],
        help="word embedding size (default: %(default)s)",
    )
    p.add_argument("--layers", type=int, default=1, help="stacked BiLSTM layers (default: 1)")
    p.add_argument(
        "--dropout",
        type=float,
        default=NETWORK["dropout"],
        help="dropout before and after the BiLSTM (default: %(default)s)",
    )
    p.add_argument(
        "--singleton-unk",
        type=float,
        default=NETWORK["singleton_unk"],
        help="probability of training a word seen once as <unk> (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and batches")
    p.add_argument("--device", default="cpu", help="torch device (default: %(default)s)")
    p.add_argument("--max-sentences", type=int, help="train on the first N sentences (smoke)")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--out", default="runs/bench_tagging", help="model directories and JSON")
    args = p.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        p.error("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {args.threads} threads, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    print("| run | head | test | dev | bar | epochs (best) | s/epoch | wall (s) |")
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for name in args.runs.split(","):
        r = run(name, args)
        results.append(r)
        Path(args.out, "results.json").write_text(json.dumps(results, indent=2))
        what, bar = BARS[name.split("-")[0]]
        met = "met" if r["test"] >= bar else "NOT met"
        print(f"| {name} ({what}) | {r['head']} | {100 * r['test']:.2f} | {100 * r['dev']:.2f} | "
              f">= {100 * bar:.0f}: {met} | {r['epochs']} ({r['best_epoch']}) | "
              f"{r['epoch_seconds']:.0f} | {r['seconds']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
