"""Image captioning within a CPU training budget: Flickr8k test BLEU-1..4 against 5 references.

Two captioners are trained through `rnnlab train caption` (the code behind it,
`rnnlab.tasks.caption.train_caption`) side by side, each in its own process on one thread, on the
same wall-clock training budget (`--max-minutes`: training time, evaluation not counted): Show,
Attend and Tell (soft attention over the CNN's 8 x 8 grid) and Show and Tell (the image as the
first input only). Same CNN (trained end to end from 128 px images: no pretrained encoder is
available here), same decoder sizes, Adam annealed (cosine) over the budget, the best epoch on
dev greedy BLEU-4 kept. BLEU: cumulative BLEU-1..4 over the 1,000 test images, each against all
its 5 references, lower-cased, punctuation dropped (`rnnlab.models.caption.caption_bleu`), beam 3.

Beside them, the bag-of-captions baseline: each test image gets the consensus caption of the
training image nearest to it by the attention model's encoder features (cosine on the mean of
the grid).

    RNNLAB_DATA=../shared/data python benchmarks/captioning.py --minutes 45     # 2 x 45 min
    RNNLAB_DATA=../shared/data python benchmarks/captioning.py --minutes 0.5    # smoke
    RNNLAB_DATA=../shared/data python benchmarks/captioning.py --reuse          # score saved runs

Run nothing else meanwhile: the two runs take the machine's two cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rnnlab  # noqa: E402
from machine import cpu_name  # noqa: E402
from rnnlab.data.captioning import load_captioning  # noqa: E402
from rnnlab.models.caption import caption_bleu  # noqa: E402
from rnnlab.tasks.caption import nearest_captions  # noqa: E402

RUNS = {"attention": "--attention", "no attention": "--no-attention"}


def train_side_by_side(out: Path, minutes: float, threads: int, extra: list[str]) -> dict:
    """Start both training runs at once and wait; returns each run's wall time (s)."""
    procs, start = {}, time.perf_counter()
    for name, flag in RUNS.items():
        cmd = [sys.executable, "-c", "import sys; from rnnlab.cli import main; sys.exit(main())",
               "train", "caption", "--data", "flickr8k", flag, "--max-minutes", str(minutes),
               "--epochs", "100", "--anneal-to", "0.05", "--threads", str(threads),
               "--no-progress", "--out", str(out / name.replace(" ", "_")), *extra]  # fmt: skip
        log = open(out / f"{name.replace(' ', '_')}.log", "w")  # noqa: SIM115
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)
    walls = {}
    for name, (p, log) in procs.items():
        if p.wait() != 0:
            raise SystemExit(f"training {name} failed: see {log.name}")
        walls[name] = time.perf_counter() - start
        log.close()
    return walls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=45.0, help="training budget per model")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per training process")
    ap.add_argument("--out", default="runs/bench_caption", help="where the two runs go")
    ap.add_argument("--reuse", action="store_true", help="score the runs already in --out")
    ap.add_argument("extra", nargs="*", help="more options for rnnlab train caption (after --)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"CPU: {cpu_name()}; torch {torch.__version__}; {args.threads} thread(s) per run")
    walls = {}
    if not args.reuse:
        walls = train_side_by_side(out, args.minutes, args.threads, args.extra)
    torch.set_num_threads(2)
    rows = []
    for name in RUNS:
        run = out / name.replace(" ", "_")
        s = json.loads((run / "scores.json").read_text())["test"]
        epochs = sum(1 for _ in (run / "metrics.jsonl").open())
        wall = f"{walls[name] / 60:.1f} min" if name in walls else "-"
        rows.append((f"ours, {name} ({epochs} epochs, {s['decoding']})", s, wall))
    start = time.perf_counter()
    splits = load_captioning("flickr8k", ("train", "test"))
    model = rnnlab.load(out / "attention")
    hyps = nearest_captions(model, splits["train"], splits["test"])
    base = caption_bleu(hyps, splits["test"].captions)
    rows.append(("nearest training image's consensus caption", base,
                 f"{time.perf_counter() - start:.0f} s"))  # fmt: skip
    budget = ("the runs' own budgets (their scores.json)" if args.reuse
              else f"budget {args.minutes:g} min per model")  # fmt: skip
    print(f"Flickr8k test, 1,000 images x 5 references, {budget}")
    print(f"{'model':58s} {'BLEU-1':>7s} {'BLEU-2':>7s} {'BLEU-3':>7s} {'BLEU-4':>7s}  wall")
    for label, s, wall in rows:
        print(f"{label:58s} " + " ".join(f"{s[f'bleu{n}']:7.3f}" for n in range(1, 5))
              + f"  {wall}")  # fmt: skip


if __name__ == "__main__":
    main()
