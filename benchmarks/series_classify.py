"""Series classification (UEA BasicMotions and JapaneseVowels): test accuracy and wall time of
ours beside two peers, each on the archive's own train/test split.

- ours: ``rnnlab train series`` (per-channel normalisation from the training series, a BiGRU
  over each series' real steps, concat pooling), one run per seed.
- 1-NN DTW: tslearn's ``KNeighborsTimeSeriesClassifier(n_neighbors=1, metric="dtw")``
  (dependent, multivariate DTW: one warping path for all channels), on the raw values as the
  archive's DTW_D baseline is run, variable-length series as they are (NaN padding); its time
  leaves out numba's one-off compilation.
- logistic regression: scikit-learn on summary statistics of each channel (mean, standard
  deviation, min, max, first, last value, least-squares slope) and the series length,
  standardised on the training series.

tslearn is a benchmark-only dependency (the ``bench`` extra); nothing under src/ imports it.

    RNNLAB_DATA=../shared/data python benchmarks/series_classify.py --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

from machine import cpu_name
from rnnlab.data.series import SeriesSet, load_series
from rnnlab.models.series import SeriesConfig
from rnnlab.tasks.series import SeriesJob, train_series
from rnnlab.train import TrainConfig

DATASETS = ("basic_motions", "japanese_vowels")


def ours(name: str, seed: int, tmp: str, args) -> tuple[float, float, dict]:
    """Test accuracy, wall time and the run's notes of our model on ``name``."""
    model = SeriesConfig(num_classes=2, channels=1, cell=args.cell, hidden_size=args.hidden,
                         num_layers=args.layers, dropout=args.dropout,
                         deltas=args.deltas, ensemble=args.ensemble)  # fmt: skip
    train = TrainConfig(epochs=args.epochs, lr=args.lr, anneal_to=0.05, monitor="loss",
                        mode="min", clip_norm=5.0, seed=seed, progress=False)  # fmt: skip
    job = SeriesJob(data=name, out=f"{tmp}/{name}-{seed}", batch_size=args.batch_size,
                    valid_fraction=args.valid_fraction, model=model, train=train)  # fmt: skip
    t0 = time.perf_counter()
    result = train_series(job)
    wall = time.perf_counter() - t0
    best = [r["epoch"] for r in result.history if r.get("best")][-1]
    return result.scores["test"]["accuracy"], wall, {"epochs": len(result.history), "best": best}


def as_tslearn(s: SeriesSet) -> np.ndarray:
    """(N, T, C) with NaN after each series' end: tslearn's variable-length layout."""
    X = s.X.astype(np.float64).copy()
    X[np.arange(X.shape[1])[None, :] >= s.lengths[:, None]] = np.nan
    return X


def one_nn_dtw(train: SeriesSet, test: SeriesSet) -> tuple[float, float]:
    with warnings.catch_warnings():  # tslearn warns that h5py (its file format) is absent
        warnings.simplefilter("ignore", UserWarning)
        from tslearn.neighbors import KNeighborsTimeSeriesClassifier

    # tslearn compiles its DTW with numba on first use: compile before the clock starts
    KNeighborsTimeSeriesClassifier(n_neighbors=1, metric="dtw").fit(
        as_tslearn(train)[:2], train.y[:2]).predict(as_tslearn(test)[:1])  # fmt: skip
    t0 = time.perf_counter()
    clf = KNeighborsTimeSeriesClassifier(n_neighbors=1, metric="dtw", n_jobs=1)
    clf.fit(as_tslearn(train), train.y)
    acc = float((clf.predict(as_tslearn(test)) == test.y).mean())
    return acc, time.perf_counter() - t0


def summary_statistics(s: SeriesSet) -> np.ndarray:
    """(N, 7C + 1): per channel mean, std, min, max, first, last, slope; and the length."""
    rows = []
    for i in range(len(s)):
        x = s.series(i).astype(np.float64)  # (T_i, C)
        t = np.arange(len(x)) - (len(x) - 1) / 2
        slope = (t @ (x - x.mean(0))) / max(float(t @ t), 1e-12)  # least squares, (C,)
        rows.append(np.concatenate([x.mean(0), x.std(0), x.min(0), x.max(0), x[0], x[-1],
                                    slope, [len(x)]]))  # fmt: skip
    return np.array(rows)


def logistic_regression(train: SeriesSet, test: SeriesSet) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    t0 = time.perf_counter()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    clf.fit(summary_statistics(train), train.y)
    acc = float((clf.predict(summary_statistics(test)) == test.y).mean())
    return acc, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", default=",".join(DATASETS), help="(default: %(default)s)")
    ap.add_argument("--seeds", default="0,1,2", help="our runs' seeds (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=1, help="(default: %(default)s)")
    ap.add_argument("--cell", default="gru", help="(default: %(default)s)")
    ap.add_argument("--hidden", type=int, default=64, help="(default: %(default)s)")
    ap.add_argument("--layers", type=int, default=2, help="(default: %(default)s)")
    ap.add_argument("--dropout", type=float, default=0.2, help="(default: %(default)s)")
    ap.add_argument("--deltas", action="store_true", help="delta channels")
    ap.add_argument("--ensemble", type=int, default=1, help="(default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=60, help="(default: %(default)s)")
    ap.add_argument("--lr", type=float, default=3e-3, help="(default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=16, help="(default: %(default)s)")
    ap.add_argument("--valid-fraction", type=float, default=0.2, help="(default: %(default)s)")
    args = ap.parse_args()
    if not os.environ.get("RNNLAB_DATA"):
        sys.exit("set RNNLAB_DATA to the dataset mirror (../shared/data)")
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"# {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} "
          f"torch thread(s); load average before {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"# ours: {args.cell} {args.layers}x{args.hidden} bidirectional, dropout "
          f"{args.dropout}, deltas {args.deltas}, ensemble {args.ensemble}, {args.epochs} "
          f"epochs, lr {args.lr} annealed to 5%, batch {args.batch_size}, valid fraction "
          f"{args.valid_fraction}")  # fmt: skip
    print("| data | model | test accuracy | notes | wall (s) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.data.split(","):
            train, test = load_series(name, "train"), load_series(name, "test")
            test = test.relabel(train.labels)
            accs = []
            for seed in seeds:
                acc, wall, notes = ours(name, seed, tmp, args)
                accs.append(acc)
                print(f"| {name} | ours, seed {seed} | {acc:.4f} | {notes['epochs']} epochs, "
                      f"best {notes['best']} | {wall:.1f} |", flush=True)  # fmt: skip
            errors = [round((1 - a) * len(test)) for a in accs]
            print(f"| {name} | ours, mean of {len(seeds)} | {np.mean(accs):.4f} | errors per "
                  f"seed {errors} of {len(test)} | |", flush=True)  # fmt: skip
            acc, wall = one_nn_dtw(train, test)
            print(f"| {name} | 1-NN DTW (tslearn, raw values) | {acc:.4f} | | {wall:.1f} |",
                  flush=True)  # fmt: skip
            acc, wall = logistic_regression(train, test)
            print(f"| {name} | logistic regression on summary statistics | {acc:.4f} | | "
                  f"{wall:.1f} |", flush=True)  # fmt: skip
    print(f"# load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
