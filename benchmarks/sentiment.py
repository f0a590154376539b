"""Sentiment classification quality: test accuracy and wall time, ours beside the peers.

Runs (``--runs``, comma-separated; each trains on ``$RNNLAB_DATA`` and prints a table row):

- ``sst2``, ``sst5``: our BiLSTM and our bag-of-words, both trained on every labelled phrase of
  the SST training trees (``phrases``), and TF-IDF (uni+bigram) + logistic regression trained on
  the same phrases (scikit-learn, C picked on dev), all scored on whole test sentences;
  ``sst2-transfer``, ``sst5-transfer``: the classifier started from ``--pretrained`` (ULMFiT);
  ``sst2-nolm``, ``sst5-nolm``: the same classifier (the LM's cell and sizes, concat pooling,
  the same schedule and budget) from random initial weights (Keras' initialisation), to measure
  what the pretrained LM adds.
- ``review_polarity``: BiGRU and bag-of-words on Pang & Lee's 2,000 reviews.
- ``imdb-keras``: the lecture's pipeline exactly: the 5,000 most frequent words (4 of the ids
  reserved), reviews pre-padded / truncated to their last 600 tokens, Embedding(5000, 32) ->
  LSTM(100) -> sigmoid, Keras' initial weights, Adam 1e-3, batch 64, 3 epochs, evaluated on the
  same 600 tokens.
- ``imdb-scratch``, ``imdb-bow``: our best from-scratch model and the bag-of-words.
- ``imdb-transfer``: fine-tune the encoder of ``--pretrained`` (a language model trained with
  ``rnnlab train lm --data imdb``) on the 22,500 training reviews, ULMFiT's discriminative rates
  and gradual unfreezing, concat pooling; whole reviews at test. ``imdb-nolm``: the same
  classifier and budget without the LM (as ``sst2-nolm``).

With ``--peers``, also runs the plain scikit-learn and PyTorch scripts of ../shared/peers/ on the
same machine, one at a time (sst_tfidf_lr.py and sst_bilstm.py for SST, imdb_tfidf_lr.py for
IMDb), and prints their figures.

    RNNLAB_DATA=../shared/data python benchmarks/sentiment.py --runs sst2,sst5 --peers
    RNNLAB_DATA=../shared/data python benchmarks/sentiment.py --runs imdb-keras,imdb-scratch
    RNNLAB_DATA=../shared/data python benchmarks/sentiment.py --runs imdb-transfer \\
        --pretrained runs/imdb-lm
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from machine import cpu_name
from rnnlab import data
from rnnlab.models.classifier import ClassifierConfig, FineTuning
from rnnlab.tasks.classify import ClassifyJob, train_classifier
from rnnlab.text import tokenize
from rnnlab.train import TrainConfig

BILSTM = {"cell": "lstm", "bidirectional": True, "hidden_size": 128, "embed_dim": 128}
BOW = {"model": "bow", "embed_dim": 128}
# run -> [(row name, model config, train config, job options)]; chosen on the dev splits
RUNS = {
    "sst2": [("BiLSTM, phrases", BILSTM, {"epochs": 8, "patience": 3}, {"batch_size": 64}),
             ("bag-of-words, phrases", BOW, {"epochs": 15, "patience": 3}, {"batch_size": 64})],
    "sst5": [("BiLSTM, phrases", BILSTM, {"epochs": 8, "patience": 3}, {"batch_size": 64}),
             ("bag-of-words, phrases", BOW, {"epochs": 15, "patience": 3}, {"batch_size": 64})],
    "review_polarity": [
        ("BiGRU", {"cell": "gru", "bidirectional": True, "hidden_size": 64, "embed_dim": 64,
                   "pooling": "mean"},
         {"epochs": 15, "patience": 5, "lr": 2e-3}, {"max_len": 300, "batch_size": 16}),
        ("bag-of-words", BOW, {"epochs": 30, "patience": 5}, {}),
    ],
    "imdb-keras": [
        ("lecture: Embedding(5000, 32) -> LSTM(100) -> sigmoid, 600 tokens, 3 epochs",
         {"cell": "lstm", "embed_dim": 32, "hidden_size": 100, "dropout": 0.0, "init": "keras"},
         {"epochs": 3}, {"max_vocab": 5000, "max_len": 600, "eval_max_len": 600,
                         "batch_size": 64}),
    ],
    "imdb-scratch": [
        ("BiGRU 128, concat pooling, last 400 tokens",
         {"cell": "gru", "bidirectional": True, "hidden_size": 128, "embed_dim": 128,
          "pooling": "concat", "dropout": 0.5},
         {"epochs": 4, "patience": 2}, {"max_vocab": 30000, "max_len": 400, "batch_size": 32}),
    ],
    "imdb-bow": [("bag-of-words", BOW, {"epochs": 10, "patience": 2},
                  {"max_vocab": 30000, "batch_size": 64})],
}  # fmt: skip
TRANSFER = {  # the classifier head and schedule over a pretrained encoder
    "model": {"pooling": "concat", "dropout": 0.4},
    "sst2": ({"epochs": 6, "patience": 3, "lr": 2e-3}, {"batch_size": 64}),
    "sst5": ({"epochs": 6, "patience": 3, "lr": 2e-3}, {"batch_size": 64}),
    "imdb": ({"epochs": 5, "lr": 2e-3, "max_minutes": 55}, {"max_len": 400, "batch_size": 32}),
}
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


def tfidf_lr(dataset: str) -> dict:
    """TF-IDF (uni+bigram, sublinear tf) + logistic regression on the same training phrases as
    ours, tokenised as ours; C picked on the dev sentences; test accuracy on whole sentences."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0 = time.time()
    train, dev, test = (data.load(dataset, s) for s in ("phrases", "dev", "test"))
    vec = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                          ngram_range=(1, 2), sublinear_tf=True)  # fmt: skip
    X = vec.fit_transform(train.texts)
    best = None
    for C in (0.3, 1, 3, 10, 30):
        lr = LogisticRegression(C=C, max_iter=2000).fit(X, train.labels)
        acc = lr.score(vec.transform(dev.texts), dev.labels)
        if best is None or acc > best[0]:
            best = (acc, C, lr)
    acc_dev, C, lr = best
    return {"test": lr.score(vec.transform(test.texts), test.labels), "dev": acc_dev,
            "epochs": f"C={C}", "seconds": time.time() - t0}  # fmt: skip


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


def rows_of(name: str, pretrained: str | None) -> list[tuple[str, dict, dict, dict]]:
    """The configurations of run ``name``."""
    if name.endswith(("-transfer", "-nolm")):
        if pretrained is None:
            sys.exit(f"{name} needs --pretrained LM_RUN")
        base, kind = name.rsplit("-", 1)
        train, job = TRANSFER[base]
        if kind == "transfer":
            job = {**job, "pretrained": pretrained, "fine_tuning": FineTuning()}
            return [(f"pretrained LM {Path(pretrained).name}, ULMFiT fine-tuning",
                     TRANSFER["model"], train, job)]  # fmt: skip
        # the same classifier from random weights: the LM's cell and sizes, its vocabulary size
        lm = json.loads(Path(pretrained, "config.json").read_text())["model"]
        model = {**TRANSFER["model"], "cell": lm["cell"], "embed_dim": lm["embed_dim"],
                 "hidden_size": lm["hidden_size"], "num_layers": lm["num_layers"],
                 "init": "keras"}  # fmt: skip
        # IMDb: the LM's vocabulary size (its corpus is IMDb); SST: every training word
        job = {**job, "max_vocab": lm["vocab_size"] if base == "imdb" else None}
        return [("the same classifier without the LM (Keras' initial weights)", model, train,
                 job)]  # fmt: skip
    return RUNS[name]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", default="sst2,sst5,review_polarity", help="(default: %(default)s)")
    ap.add_argument("--pretrained", help="a saved language model for the *-transfer runs")
    ap.add_argument("--peers", action="store_true", help="also run the peer scripts")
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--keep", metavar="DIR", help="save the trained runs under DIR (default: "
                    "a temporary directory, removed at the end)")  # fmt: skip
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    print(f"# {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.threads} threads")  # fmt: skip
    print("| run | model | test acc | dev acc | epochs | wall (s) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        os.makedirs(tmp, exist_ok=True)
        for name in args.runs.split(","):
            dataset = name.split("-")[0]
            for label, model, train, job in rows_of(name, args.pretrained):
                r = run(dataset, model, train, job, out=f"{tmp}/{name}-{len(os.listdir(tmp))}")
                print(f"| {name} | {label} | {r['test']:.4f} | {r['dev']:.4f} | {r['epochs']} | "
                      f"{r['seconds']:.0f} |", flush=True)  # fmt: skip
            if name in ("sst2", "sst5"):
                r = tfidf_lr(name)
                print(
                    f"| {name} | TF-IDF uni+bigram + LR, phrases | {r['test']:.4f} | "
                    f"{r['dev']:.4f} | {r['epochs']} | {r['seconds']:.0f} |",
                    flush=True,
                )
            peers = {"sst2": [("sst_tfidf_lr.py", []), ("sst_bilstm.py", ["--dataset", "sst2"])],
                     "sst5": [("sst_tfidf_lr.py", []), ("sst_bilstm.py", ["--dataset", "sst5"])],
                     "imdb-keras": [("imdb_tfidf_lr.py", [])]}  # fmt: skip
            for script, extra in peers.get(name, []) if args.peers else []:
                r = run_peer(script, extra)
                if r is not None:
                    print(
                        f"| {name} | peer {script} {' '.join(extra)} | see JSON: "
                        f"{json.dumps(r['raw'])[:300]} | | | {r['seconds']:.0f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
