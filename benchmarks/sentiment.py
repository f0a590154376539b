"""Sentiment classification quality: test accuracy and wall time on SST-2, SST-5, review_polarity.

For every dataset, trains our recurrent classifier and the bag-of-words baseline with the
configurations below (no pretrained vectors), on `$RNNLAB_DATA`, and prints a table. With
`--peers`, also runs the plain scikit-learn and PyTorch scripts of ../shared/peers/ on the same
machine, one at a time, and puts their figures beside ours.

    RNNLAB_DATA=../shared/data python benchmarks/sentiment.py
    RNNLAB_DATA=../shared/data python benchmarks/sentiment.py --datasets sst2 --peers
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from rnnlab.models.classifier import ClassifierConfig
from rnnlab.tasks.classify import ClassifyJob, train_classifier
from rnnlab.train import TrainConfig

# dataset -> (model config, train config, job options); chosen on the dev splits
OURS = {
    "sst2": (
        {"cell": "lstm", "bidirectional": True, "hidden_size": 128, "embed_dim": 128},
        {"epochs": 12, "patience": 4},
        {},
    ),
    "sst5": (
        {"cell": "lstm", "bidirectional": True, "hidden_size": 128, "embed_dim": 128},
        {"epochs": 12, "patience": 4},
        {},
    ),
    "review_polarity": (
        {
            "cell": "gru",
            "bidirectional": True,
            "hidden_size": 64,
            "embed_dim": 64,
            "pooling": "mean",
        },  # fmt: skip
        {"epochs": 15, "patience": 5, "lr": 2e-3},
        {"max_len": 300, "batch_size": 16},  # the last 300 tokens: where reviews give a verdict
    ),
}
BOW = ({"model": "bow", "embed_dim": 128}, {"epochs": 30, "patience": 5}, {})
PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"


def run(dataset: str, model: dict, train: dict, job: dict, out: str) -> dict:
    """Train one configuration; return test/dev accuracy, epochs and wall time."""
    t0 = time.time()
    config = ClassifierConfig(vocab_size=1, num_classes=2, **model)
    tcfg = TrainConfig(monitor="accuracy", mode="max", clip_norm=5.0, progress=False, **train)
    result = train_classifier(ClassifyJob(data=dataset, out=out, model=config, train=tcfg, **job))
    return {
        "test": result.scores["test"]["accuracy"],
        "dev": result.scores["dev"]["accuracy"],
        "epochs": len(result.history),
        "seconds": time.time() - t0,
    }


def run_peer(script: str, args: list[str]) -> dict | None:
    """Run a peer script of ../shared/peers and read the JSON it writes (None if it fails)."""
    path = PEERS / script
    if not path.exists():
        print(f"# peer {path} not found", file=sys.stderr)
        return None
    before = set((PEERS / "out").glob("*.json")) if (PEERS / "out").exists() else set()
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"# peer {script} failed: {proc.stderr[-500:]}", file=sys.stderr)
        return None
    outs = sorted(set((PEERS / "out").glob("*.json")) - before or (PEERS / "out").glob("*.json"),
                  key=lambda p: p.stat().st_mtime)  # fmt: skip
    res = json.loads(outs[-1].read_text()) if outs else {}
    return {"raw": res, "seconds": time.time() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--datasets", default=",".join(OURS), help="(default: %(default)s)")
    ap.add_argument("--peers", action="store_true", help="also run the peer scripts")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.threads} threads")  # fmt: skip
    print("| dataset | model | test acc | dev acc | epochs | wall (s) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for ds in args.datasets.split(","):
            model, train, job = OURS[ds]
            label = f"{'Bi' if model.get('bidirectional') else ''}{model['cell'].upper()}"
            for name, cfg in ((label, (model, train, job)), ("bag-of-words", BOW)):
                r = run(ds, *cfg, out=f"{tmp}/{ds}-{name}")
                print(f"| {ds} | {name} | {r['test']:.4f} | {r['dev']:.4f} | {r['epochs']} | "
                      f"{r['seconds']:.0f} |", flush=True)  # fmt: skip
            if args.peers and ds in ("sst2", "sst5"):
                peers = (("sst_tfidf_lr.py", []), ("sst_bilstm.py", ["--dataset", ds]))
                for script, extra in peers:
                    r = run_peer(script, extra)
                    if r is not None:
                        print(f"| {ds} | peer {script} | see JSON: {json.dumps(r['raw'])[:200]} "
                              f"| | | {r['seconds']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
