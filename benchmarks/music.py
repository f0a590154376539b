"""Polyphonic music on the JSB chorales (quarter notes): test NLL per time step, every cell, the
plain-PyTorch peer beside them, and what the generated chorales look like.

For each cell (``--cells``) ``--seeds`` MusicModels train for at most ``--minutes`` each (early
stopping on the valid NLL, patience 20, the best epoch kept) and are scored on the test chorales;
with several seeds, also their ensemble (the mean of their key probabilities, ensemble_nll).
The best single model then writes ``--samples`` chorales of 64 steps (temperature 1, seeds
0..n-1); their key (Krumhansl-Kessler), the share of sounding steps in it and the note density
are printed beside the same figures for the training chorales and for the samples of an
untrained model of the same size. With ``--peers``, ../shared/peers/music_lstm.py
(torch.nn.LSTM 256, dropout 0.3, ``--minutes``) runs on the same machine, after ours.

    RNNLAB_DATA=../shared/data python benchmarks/music.py --cells rnn,gru,lstm --minutes 5 \\
        --seeds 3 --peers
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
from rnnlab.models.music import MusicConfig, MusicModel, default_weight_dropout, ensemble_nll
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
    ap.add_argument("--dropout", type=float, default=0.5, help="before the output layer")
    ap.add_argument("--input-dropout", type=float, default=0.1, help="on the input keys")
    ap.add_argument("--weight-dropout", type=float,
                    help="DropConnect on W_hh (default: the CLI's, 0.8 for lstm and gru, 0.3 "
                         "for rnn)")  # fmt: skip
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--transpose", type=int, default=0, help="random shifts in training")
    ap.add_argument("--seeds", type=int, default=1,
                    help="models per cell (seeds 0..n-1); n > 1 adds their ensemble")  # fmt: skip
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--peers", action="store_true", help="also run the peer script")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR", help="save the trained runs under DIR")
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    print(f"# {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} "
          f"threads, at most {args.minutes:g} minutes per model")  # fmt: skip
    print("| model | valid NLL | test NLL | epochs | wall (s) |")
    print("|---|---|---|---|---|")
    splits = {name: load_music("jsb_chorales", name) for name in ("valid", "test")}
    best, start = None, time.time()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        for cell in args.cells.split(","):
            wd = args.weight_dropout
            wd = default_weight_dropout(cell) if wd is None else wd
            config = MusicConfig(cell=cell, hidden_size=args.hidden, dropout=args.dropout,
                                 input_dropout=args.input_dropout, weight_dropout=wd)  # fmt: skip
            name = (f"{cell} {args.hidden}, dropout {args.input_dropout:g}/{args.dropout:g}, "
                    f"lr {args.lr:g}, batch {args.batch_size}"
                    + (f", weight dropout {wd:g}" if wd else "")
                    + (f", transpose {args.transpose}" if args.transpose else ""))  # fmt: skip
            members, t_cell = [], time.time()
            for seed in range(args.seeds):
                train = TrainConfig(epochs=500, lr=args.lr, patience=20, monitor="loss",
                                    mode="min", clip_norm=5.0, progress=False, seed=seed,
                                    max_minutes=args.minutes)  # fmt: skip
                t0 = time.time()
                job = MusicJob(out=f"{tmp}/{cell}-{seed}", model=config, train=train,
                               batch_size=args.batch_size, transpose=args.transpose)  # fmt: skip
                result = train_music(job)
                s = result.scores
                print(f"| ours {name}, seed {seed} | {s['valid']['nll']:.3f} | "
                      f"{s['test']['nll']:.3f} | {len(result.history)} | "
                      f"{time.time() - t0:.0f} |", flush=True)  # fmt: skip
                members.append(result.model)
                if best is None or s["valid"]["nll"] < best[0]:
                    best = (s["valid"]["nll"], cell, result.model)
            if len(members) > 1:
                v, t = (ensemble_nll(members, splits[k]) for k in ("valid", "test"))
                print(f"| ours {name}, ensemble of the {len(members)} seeds | {v:.3f} | "
                      f"{t:.3f} | | {time.time() - t_cell:.0f} |", flush=True)  # fmt: skip
        print(f"# our models trained in {time.time() - start:.0f} s in all", flush=True)
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
        if not args.samples:
            return
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
