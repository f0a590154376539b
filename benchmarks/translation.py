"""Translation quality within a training-time budget: Multi30k test2016 de->en BLEU.

Ours is trained through `rnnlab.tasks.translate.train_translate` (the code behind `rnnlab train
translate`): a bidirectional GRU encoder and a GRU decoder with attention, batches of similar
source length, Adam annealed (cosine) over the steps the budget is expected to hold (timed on the
first steps), the run stopped by the budget (`TrainConfig.max_minutes`: training time, evaluation
not counted, as the peer counts it), the better on dev of the best finished epoch and the weights
at the cut kept. BLEU: sacreBLEU's 13a tokenisation on the lower-cased detokenised output against
the lower-cased raw references (`rnnlab.metrics.corpus_bleu`, equal to sacreBLEU), as the peer
scores it; greedy and beam 5 (length-normalised, alpha 1) on the same model. The same model
without attention (the plain context-vector model) is trained on the same budget beside it.

With `--peers`, the plain PyTorch script ../shared/peers/multi30k_gru_attn.py (BiGRU + Bahdanau,
greedy) runs on the same budget and its figures are printed beside ours. Run nothing else
meanwhile: two runs on two cores measure each other.

    RNNLAB_DATA=../shared/data python benchmarks/translation.py                 # 2 x 30 min
    RNNLAB_DATA=../shared/data python benchmarks/translation.py --peers         # + 30 min
    RNNLAB_DATA=../shared/data python benchmarks/translation.py --minutes 1 --limit 50  # smoke
    RNNLAB_DATA=../shared/data python benchmarks/translation.py --speed  # s/batch against the peer

`--speed` times one training step (forward, backward, clip, Adam) of our three decoders and of the
peer's model (its class, imported from the peer script) on the same Multi30k batches of 128 pairs,
interleaved, and prints medians.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

from rnnlab.data.translation import load_translation
from rnnlab.models.seq2seq import Seq2SeqConfig
from rnnlab.tasks.translate import (
    PairDataset,
    TranslateJob,
    build_model,
    evaluate_bleu,
    pair_loader,
    train_translate,
)
from rnnlab.train import TrainConfig, make_optimizer, warmup_cosine

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"

# Luong's multiplicative ("general") attention lets the teacher-forced decoder run as one fused
# call; a tied output layer on 256-d attentional vectors keeps the vocabulary GEMM small.
BASE = dict(cell="gru", embed_dim=256, hidden_size=256, dropout=0.3, label_smoothing=0.1)
MODELS = {
    "attention": Seq2SeqConfig(1, 1, attention="general", **BASE),
    "no-attention": Seq2SeqConfig(1, 1, attention="none", **BASE),
    "bahdanau": Seq2SeqConfig(1, 1, attention="bahdanau", **BASE),
}
TRAIN = dict(lr=2e-3, clip_norm=1.0, batch_size=128, warmup=200, min_factor=0.05)


def steps_per_second(config: Seq2SeqConfig, splits: dict, steps: int = 12) -> tuple[float, int]:
    """(optimizer steps per second, steps per epoch), timed on ``steps`` training batches after
    two warm-up steps, with the pieces train_translate uses."""
    job = TranslateJob(model=config)
    model = build_model(job, splits["train"])
    loader = pair_loader(PairDataset.encode(splits["train"], model, job.max_train_len),
                         TRAIN["batch_size"], train=True)  # fmt: skip
    optimizer = make_optimizer(model, TrainConfig(lr=TRAIN["lr"]))
    batches = iter(loader)
    model.train()
    for i in range(steps + 2):
        if i == 2:
            started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        model.loss(next(batches)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), TRAIN["clip_norm"])
        optimizer.step()
    return steps / (time.perf_counter() - started), len(loader)


def run_ours(name: str, minutes: float, out: Path, splits: dict, limit: int | None) -> dict:
    """Train model ``name`` for ``minutes`` of training; its figures and BLEU scores."""
    t0 = time.time()
    config = MODELS[name]
    rate, per_epoch = steps_per_second(config, splits)
    total = max(1, int(rate * minutes * 60 * 0.98))  # steps the budget should hold
    schedule = warmup_cosine(min(TRAIN["warmup"], total // 10), total, TRAIN["min_factor"])
    job = TranslateJob(
        data="multi30k", src_lang="de", tgt_lang="en", out=str(out),
        batch_size=TRAIN["batch_size"], eval_splits=(), model=config,
        train=TrainConfig(lr=TRAIN["lr"], clip_norm=TRAIN["clip_norm"], max_minutes=minutes,
                          epochs=total // per_epoch + 2, schedule=schedule, progress=False),
    )  # fmt: skip
    result = train_translate(job)  # the budget, not the epoch count, ends it
    state = json.loads((out / "checkpoint" / "state.json").read_text())["state"]
    steps = state["global_step"]
    train_s = minutes * 60 if result.budget_spent else sum(r["time"] for r in result.history)
    model = result.model
    figures = {
        "config": asdict(model.config),
        "params": sum(p.numel() for p in model.parameters()),
        "epochs": steps / per_epoch,
        "steps": steps,
        "planned_steps": total,
        "train_s": train_s,
        "budget_spent": result.budget_spent,
    }
    test, dev = splits["test2016"], splits["dev"]
    if limit:
        test, dev = test.head(limit), dev.head(limit)
    for label, beam in (("greedy", 1), ("beam5", 5)):
        s = evaluate_bleu(model, test, beam=beam, alpha=1.0)
        figures[label] = {k: v for k, v in s.items() if k != "hypotheses"}
        figures[label]["samples"] = s["hypotheses"][:3]
    figures["dev_beam5"] = evaluate_bleu(model, dev, beam=5, alpha=1.0)["bleu"]
    figures["wall_s"] = time.time() - t0
    return figures


def run_peer(budget_s: float) -> dict | None:
    """Run ../shared/peers/multi30k_gru_attn.py with ``--budget``; the JSON it writes, or None."""
    path = PEERS / "multi30k_gru_attn.py"
    if not path.exists():
        print(f"# peer {path} not found", file=sys.stderr)
        return None
    t0 = time.time()
    proc = subprocess.run([sys.executable, str(path), "--budget", str(budget_s)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        print(f"# peer failed: {proc.stderr[-500:]}", file=sys.stderr)
        return None
    res = json.loads((PEERS / "out" / "multi30k_gru_attn.json").read_text())
    res["wall_s_here"] = time.time() - t0
    return res


def speed(splits: dict, batches: int = 6, repeats: int = 3) -> None:
    """Median seconds per training step, ours against the peer's model, on the same batches."""
    import importlib.util

    import torch.nn.functional as F

    spec = importlib.util.spec_from_file_location("peer", PEERS / "multi30k_gru_attn.py")
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)  # its Seq2Seq; importing runs nothing else
    ours = {name: build_model(TranslateJob(model=MODELS[name]), splits["train"]) for name in MODELS}
    first = next(iter(ours.values()))
    data = PairDataset.encode(splits["train"], first, 80)
    sample = list(itertools.islice(pair_loader(data, TRAIN["batch_size"], True, 1), batches))
    theirs = peer.Seq2Seq(len(first.src_vocab), len(first.tgt_vocab))

    def step(model, loss_of):
        optimizer = torch.optim.Adam(model.parameters(), TRAIN["lr"])

        def run(batch):
            optimizer.zero_grad(set_to_none=True)
            loss_of(batch).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), TRAIN["clip_norm"])
            optimizer.step()

        return run

    def peer_loss(tf):
        def loss(b):  # the peer reads <bos> y <eos> and predicts all but <bos>
            logits = theirs(b.src, b.src_lengths, torch.cat([b.tgt_in[:, :1], b.tgt_out], 1), tf)
            return F.cross_entropy(logits.flatten(0, 1), b.tgt_out.flatten(), ignore_index=0)

        return loss

    runs = {f"ours {n} ({MODELS[n].attention})": step(m, m.loss) for n, m in ours.items()}
    runs["peer, teacher forcing 0.5"] = step(theirs, peer_loss(0.5))
    runs["peer, teacher forcing 1.0"] = step(theirs, peer_loss(1.0))
    times: dict[str, list[float]] = {k: [] for k in runs}
    for r in range(repeats + 1):  # the first pass warms up
        for batch in sample:
            for name, run in runs.items():
                started = time.perf_counter()
                run(batch)
                if r:
                    times[name].append(time.perf_counter() - started)
    for name, t in times.items():
        t.sort()
        print(f"| {name} | {t[len(t) // 2]:.3f} s/batch |", flush=True)


def describe(name: str, r: dict) -> str:
    c = r["config"]
    dec = c["dec_hidden_size"] or 2 * c["hidden_size"]
    return (
        f"ours: BiGRU {c['hidden_size']}x2 -> GRU {dec}, attention {c['attention']}, tied, "
        f"dropout {c['dropout']}, label smoothing {c['label_smoothing']}, adam {TRAIN['lr']:g} "
        "cosine"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models", default="attention,no-attention",
                    help=f"of {', '.join(MODELS)} (default: %(default)s)")  # fmt: skip
    ap.add_argument("--minutes", type=float, default=30, help="training budget of each model")
    ap.add_argument("--peers", action="store_true", help="also run the peer script, same budget")
    ap.add_argument("--speed", action="store_true", help="only time training steps vs the peer")
    ap.add_argument("--limit", type=int, help="score only the first N test and dev sentences "
                                              "(smoke runs)")  # fmt: skip
    ap.add_argument("--threads", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--out", help="keep the run directories here (default: a temporary folder)")
    ap.add_argument("--json", help="also write every figure to this JSON file")
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
          f"{torch.__version__}, {args.threads} threads; Multi30k de->en, test2016 "
          f"({args.limit or 1000} sentences), BLEU: sacreBLEU 13a, lower-cased")  # fmt: skip
    splits = load_translation("multi30k", "de", "en", progress=False)
    if args.speed:
        print("| model | median time per training step |\n|---|---|")
        return speed(splits)
    print("| model | budget | test2016 BLEU greedy | beam 5 | dev beam 5 | progress | train | "
          "wall |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    everything = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.out or tmp)
        for name in args.models.split(","):
            if name not in MODELS:
                sys.exit(f"unknown model {name!r}; known: {', '.join(MODELS)}")
            r = run_ours(name, args.minutes, root / name, splits, args.limit)
            everything[name] = r
            print(f"| {describe(name, r)} ({r['params']:,} params) | {args.minutes:g} min | "
                  f"**{r['greedy']['bleu']:.2f}** | **{r['beam5']['bleu']:.2f}** | "
                  f"{r['dev_beam5']:.2f} | {r['epochs']:.2f} epochs | {r['train_s']:.0f} s | "
                  f"{r['wall_s']:.0f} s |", flush=True)  # fmt: skip
        if args.peers:
            res = run_peer(args.minutes * 60)
            if res is not None:
                everything["peer"] = {k: v for k, v in res.items() if k != "history"}
                print(f"| peer multi30k_gru_attn.py (BiGRU + Bahdanau, {res['params']:,} params) "
                      f"| {args.minutes:g} min | **{res['bleu']:.2f}** | | | {res['epochs']} "
                      f"epochs | {res['train_time_s']:.0f} s | {res['wall_time_s']:.0f} s |",
                      flush=True)  # fmt: skip
    for name, r in everything.items():
        if name != "peer":
            print(f"# {name}: greedy {r['greedy']['detail']}; beam 5 {r['beam5']['detail']}; "
                  f"{r['beam5']['signature']}; decoding {r['greedy']['seconds']:.0f} s greedy, "
                  f"{r['beam5']['seconds']:.0f} s beam")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
