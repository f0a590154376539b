"""rnnlab train series, and rnnlab evaluate / rnnlab predict for a series classifier."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.cli.common import (
    TaskCLI,
    UsageError,
    add_training_args,
    as_usage_error,
    positive_int,
    print_saved,
    register,
    run_training,
    train_config,
)


def add_train(sub) -> None:
    """``rnnlab train series``."""
    p = sub.add_parser(
        "series",
        help="series classification: numeric channels over time -> a class (activities from "
        "sensor signals, speakers from vowels)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", default="basic_motions",
                   help="basic_motions, japanese_vowels, a UEA/UCR .ts file (a NAME_TRAIN.ts "
                        "finds its NAME_TEST.ts beside it) or a .npz with X (N, T, C) and "
                        "y (N,)")  # fmt: skip
    g.add_argument("--test", metavar="FILE",
                   help="a test .ts/.npz; default: the dataset's test split, the _TEST file "
                        "beside a _TRAIN file, or else --test-fraction of the series")  # fmt: skip
    g.add_argument("--valid-fraction", type=float, default=0.2,
                   help="training series held out (stratified, seeded) to choose the epoch; 0: "
                        "train on all of them for --epochs")  # fmt: skip
    g.add_argument("--test-fraction", type=float, default=0.2,
                   help="series held out as test when the data has no test file")  # fmt: skip
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=("lstm", "gru", "rnn"), default="gru", help="cell")
    g.add_argument("--layers", type=positive_int, default=2, help="stacked layers")
    g.add_argument("--hidden", type=positive_int, default=64, help="hidden units per direction")
    g.add_argument("--unidirectional", action="store_true", help="read the series forwards only")
    g.add_argument("--dropout", type=float, default=0.2, help="dropout probability")
    g.add_argument("--pooling", choices=("last", "max", "mean", "concat"), default="concat",
                   help="how the steps' outputs become one vector (concat: last, max and "
                        "mean)")  # fmt: skip
    g.add_argument("--ensemble", type=positive_int, default=1,
                   help="this many networks (own initial weights) trained side by side, their "
                        "probabilities averaged")  # fmt: skip
    g.add_argument("--deltas", action="store_true",
                   help="also feed each channel's step-to-step difference")  # fmt: skip
    g.add_argument("--scale", type=float, default=0.0,
                   help="training: multiply each series' normalised channels by "
                        "N(1, scale^2)")  # fmt: skip
    g.add_argument("--jitter", type=float, default=0.0,
                   help="training: add N(0, jitter^2) to every normalised value")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=positive_int, default=16, help="series per batch")
    add_training_args(g, lr=3e-3, out="runs/series", epochs=60, patience=0)
    p.set_defaults(func=cmd_train_series, anneal_to=0.05)


def cmd_train_series(args) -> int:
    from rnnlab.models.series import SeriesConfig
    from rnnlab.tasks.series import SeriesJob, train_series

    with as_usage_error():
        job = SeriesJob(
            data=args.data, test=args.test, out=args.out, valid_fraction=args.valid_fraction,
            test_fraction=args.test_fraction, batch_size=args.batch_size,
            model=SeriesConfig(
                num_classes=2, channels=1, cell=args.cell, hidden_size=args.hidden,
                num_layers=args.layers, bidirectional=not args.unidirectional,
                dropout=args.dropout, pooling=args.pooling, deltas=args.deltas, scale=args.scale,
                jitter=args.jitter, ensemble=args.ensemble,
            ),
            train=train_config(args, monitor="loss", mode="min"),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_series, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        print(f"{split}: accuracy {s['accuracy']:.4f}  loss {s['loss']:.4f}")
    _confusion(result.model, result.scores["test"]["confusion"], args.out, "test")
    print_saved(args.out, "config.json, run.json, scores.json, confusion_test.png")
    return 0


def _confusion(model, cm, out_dir: str, name: str, title: str = "") -> None:
    """Print the confusion matrix and draw it as ``confusion_NAME.png`` beside the model."""
    import numpy as np

    from rnnlab.inspect.confusion_plot import plot_confusion_matrix
    from rnnlab.metrics import format_confusion_matrix

    cm = np.asarray(cm)
    print(format_confusion_matrix(cm, model.labels))
    path = plot_confusion_matrix(cm, model.labels, Path(out_dir, f"confusion_{name}.png"),
                                 title=title or name)  # fmt: skip
    print(f"wrote {path}")


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a series classifier: accuracy and the confusion matrix (printed,
    and as a PNG beside the model) on a registered dataset's split or a labelled file."""
    from rnnlab.data.series import series_names
    from rnnlab.tasks.series import evaluate_series

    acc, cm, n = evaluate_series(model, args.data, args.split)
    registered = args.data in series_names()
    where = f"{args.data} {args.split}" if registered else args.data
    print(f"{where} ({n:,} series): accuracy {acc:.4f}")
    stem = Path(args.data).name.split(".")[0] + (f"_{args.split}" if registered else "")
    _confusion(model, cm, args.model_dir, stem, title=where)
    return 0


def cmd_predict(model, args) -> int:
    """``rnnlab predict RUN FILE.ts ...``: one line per series, ``label<TAB>probability<TAB>
    FILE:index`` (index from 1, in the file's order)."""
    from rnnlab.data.series import read_series_file

    files = list(args.texts) + ([args.file] if args.file else [])
    if not files:
        raise UsageError("nothing to classify: give .ts or .npz files of series")
    for path in files:
        series = read_series_file(path)
        if series.channels != model.config.channels:
            raise UsageError(f"{path}: {series.channels} channels per step, the model reads "
                             f"{model.config.channels}")  # fmt: skip
        for i, p in enumerate(model.predict(series), start=1):
            print(f"{p.label}\t{p.probability:.4f}\t{path}:{i}")
    return 0


TASK = register(TaskCLI(
    "series", "a series classifier", "rnnlab predict", cmd_evaluate,
    "--data basic_motions or japanese_vowels and --split train|test, or a labelled .ts/.npz "
    "file (e.g. NAME_TEST.ts); accuracy and the confusion matrix (printed, and a PNG beside "
    "the model)",
    predict=cmd_predict,
))  # fmt: skip
