"""Polyphonic music on the JSB chorales (quarter notes): test NLL per time step, every cell, the
plain-PyTorch peer beside them, and what the generated chorales look like.

For each cell (``--cells``) a MusicModel trains for ``--minutes`` (early stopping on the valid
NLL, the best epoch kept) and is scored on the test chorales. The best of them then writes
``--samples`` chorales of 64 steps (temperature 1, seeds 0..n-1); their key (Krumhansl-Kessler),
the share of sounding steps in it and the note density are printed beside the same figures for
the training chorales and for the samples of an untrained model of the same size. With
``--peers``, ../shared/peers/music_lstm.py (torch.nn.LSTM 256, dropout 0.3, the same budget)
runs on the same machine, one at a time.

    RNNLAB_DATA=../shared/data python benchmarks/music.py --cells rnn,gru,lstm --minutes 10 --peers
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
from rnnlab.data.music import load_music
from rnnlab.metrics.music import estimate_key, in_key_share, note_density
from rnnlab.models.music import MusicConfig, MusicModel
from rnnlab.tasks.music import MusicJob, train_music
from rnnlab.train import TrainConfig

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"


def stats(rolls: list[torch.Tensor]) -> tuple[float, float]:
    """Mean in-key share (each roll in its own estimated key) and mean note density."""
    sounding = [r for r in rolls if r.any()]
    share = sum(in_key_share(r, estimate_key(r)) for r in sounding) / max(1, len(sounding))
    return share, sum(note_density(r) for r in rolls) / len(rolls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cells", default="rnn,gru,lstm", help="(default: %(default)s)")
    ap.add_argument("--minutes", type=float, default=10.0, help="budget per cell")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--peers", action="store_true", help="also run the peer script")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR", help="save the trained runs under DIR")
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    print(f"# {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} "
          f"threads, {args.minutes:g} minutes per model")  # fmt: skip
    print("| model | valid NLL | test NLL | epochs | wall (s) |")
    print("|---|---|---|---|---|")
    best = None
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        for cell in args.cells.split(","):
            config = MusicConfig(cell=cell, hidden_size=args.hidden, dropout=args.dropout)
            train = TrainConfig(epochs=500, lr=1e-3, patience=20, monitor="loss", mode="min",
                                clip_norm=5.0, progress=False,
                                max_minutes=args.minutes)  # fmt: skip
            t0 = time.time()
            result = train_music(MusicJob(out=f"{tmp}/{cell}", model=config, train=train))
            s = result.scores
            print(f"| ours {cell} {args.hidden}, dropout {args.dropout} | "
                  f"{s['valid']['nll']:.3f} | {s['test']['nll']:.3f} | {len(result.history)} | "
                  f"{time.time() - t0:.0f} |", flush=True)  # fmt: skip
            if best is None or s["valid"]["nll"] < best[0]:
                best = (s["valid"]["nll"], cell, result.model)
        if args.peers:
            peer = PEERS / "music_lstm.py"
            t0 = time.time()
            proc = subprocess.run([sys.executable, str(peer), "--minutes", str(args.minutes)],
                                  capture_output=True, text=True)  # fmt: skip
            if proc.returncode == 0:
                res = json.loads((PEERS / "out" / "music_lstm.json").read_text())
                print(f"| peer music_lstm.py | {res} | | | {time.time() - t0:.0f} |", flush=True)
            else:
                print(f"# peer failed: {proc.stderr[-300:]}", file=sys.stderr)
        _, cell, model = best
        untrained = MusicModel(MusicConfig(cell=cell, hidden_size=args.hidden))
        print("\n| chorales | in-key share | keys down per step |\n|---|---|---|")
        for name, rolls in (
            ("the training chorales (whole)", load_music("jsb_chorales", "train")),
            (f"{args.samples} samples of our best ({cell}), 64 steps",
             [model.sample(64, 1.0, seed=i) for i in range(args.samples)]),
            (f"{args.samples} samples of an untrained model, 64 steps",
             [untrained.sample(64, 1.0, seed=i) for i in range(args.samples)]),
        ):  # fmt: skip
            share, density = stats(rolls)
            print(f"| {name} | {share:.3f} | {density:.2f} |", flush=True)


if __name__ == "__main__":
    main()
