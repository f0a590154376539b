"""rnnlab train music, rnnlab sample for a music model, and rnnlab evaluate for one."""

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
    """``rnnlab train music``."""
    p = sub.add_parser(
        "music",
        help="polyphonic music: piano rolls step by step, 88 independent keys",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", default="jsb_chorales",
                   help="jsb_chorales, a JSON file of that layout ({train, valid, test}: pieces "
                        "of steps of MIDI pitches), or a folder of MIDI files")  # fmt: skip
    g.add_argument("--resolution", choices=("quarter", "8th", "16th"), default="quarter",
                   help="jsb_chorales' time grid (published figures: quarter)")  # fmt: skip
    g.add_argument("--steps-per-quarter", type=positive_int, default=1,
                   help="a MIDI folder's time grid")  # fmt: skip
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="cell")
    g.add_argument("--layers", type=positive_int, default=1, help="stacked layers")
    g.add_argument("--hidden", type=positive_int, default=256, help="hidden units")
    g.add_argument("--dropout", type=float, default=0.5,
                   help="dropout between layers and before the output layer")  # fmt: skip
    g.add_argument("--input-dropout", type=float, default=0.1,
                   help="dropout on the input keys")  # fmt: skip
    g.add_argument("--weight-dropout", type=float,
                   help="DropConnect on the recurrent matrices W_hh (default: 0.8 for lstm and "
                        "gru, 0.3 for rnn)")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=positive_int, default=4, help="pieces per batch")
    g.add_argument("--transpose", type=int, default=0, metavar="K",
                   help="move each training piece by a random shift in [-K, K] semitones "
                        "every time it is drawn (0: as written)")  # fmt: skip
    add_training_args(g, lr=2e-3, out="runs/music", epochs=300, patience=20)
    p.set_defaults(func=cmd_train_music)


def cmd_train_music(args) -> int:
    from rnnlab.models.music import MusicConfig, default_weight_dropout
    from rnnlab.tasks.music import MusicJob, train_music

    with as_usage_error():
        job = MusicJob(
            data=args.data, out=args.out, resolution=args.resolution,
            steps_per_quarter=args.steps_per_quarter, batch_size=args.batch_size,
            transpose=args.transpose,
            model=MusicConfig(cell=args.cell, hidden_size=args.hidden, num_layers=args.layers,
                              dropout=args.dropout, input_dropout=args.input_dropout,
                              weight_dropout=default_weight_dropout(args.cell)
                              if args.weight_dropout is None else args.weight_dropout),
            train=train_config(args, monitor="loss", mode="min"),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_music, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        print(f"{split}: NLL per time step {s['nll']:.4f}")
    print_saved(args.out, "config.json, run.json")
    return 0


def cmd_sample(model, args) -> int:
    """``rnnlab sample`` for a music model: a MIDI file and its piano-roll PNG."""
    from rnnlab.data.music import read_midi, write_midi
    from rnnlab.inspect.music_plot import plot_piano_roll

    if args.out is None:
        raise UsageError("a music model writes MIDI: give --out FILE.mid")
    prime = None
    spq = model.steps_per_quarter
    if args.prime:
        roll = read_midi(args.prime, spq)
        prime = roll[: args.bars * 4 * spq]  # 4/4: a bar is 4 quarter notes
    with as_usage_error():
        roll = model.sample(args.steps, args.temperature, args.seed, prime)
    path = write_midi(roll, args.out, steps_per_quarter=spq)
    png = plot_piano_roll(roll, Path(args.out).with_suffix(".png"), spq,
                          0 if prime is None else len(prime),
                          title=f"{Path(args.out).name}: {args.steps} steps at temperature "
                                f"{args.temperature:g}")  # fmt: skip
    if args.wav:
        from rnnlab.audio import render_roll, write_wav

        wav = write_wav(Path(args.out).with_suffix(".wav"), render_roll(roll, spq), 22050)
        print(f"wrote {wav} (an additive synthesiser at 120 quarter notes a minute)")
    from rnnlab.metrics.music import estimate_key, in_key_share, key_name, note_density

    print(f"wrote {path} ({len(roll)} steps, {int(roll.sum())} note-steps) and {png}")
    if roll.any():
        key = estimate_key(roll)
        print(f"key {key_name(key)}: {in_key_share(roll, key):.1%} of the sounding steps in it; "
              f"{note_density(roll):.2f} keys down per step")  # fmt: skip
    return 0


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a music model: NLL per time step on a split."""
    import json

    from rnnlab.data.music import STEPS_PER_QUARTER
    from rnnlab.tasks.music import MusicJob, music_splits
    from rnnlab.train import TrainConfig

    split = "valid" if args.split == "dev" else args.split
    spq = model.steps_per_quarter
    resolution = {v: k for k, v in STEPS_PER_QUARTER.items()}.get(spq, "quarter")
    run = Path(args.model_dir, "run.json")
    seed = (
        json.loads(run.read_text()).get("seed", 0) if run.is_file() else 0
    )  # a MIDI folder's split
    with as_usage_error():
        splits, _ = music_splits(
            MusicJob(
                data=args.data,
                resolution=resolution,
                steps_per_quarter=spq,
                train=TrainConfig(seed=seed),
            )
        )
    if not splits.get(split):
        raise UsageError(f"{args.data} has splits {', '.join(k for k, v in splits.items() if v)}, "
                         f"not {args.split!r}")  # fmt: skip
    pieces = splits[split]
    nll = model.nll(pieces)
    steps = sum(len(p) for p in pieces)
    print(f"{args.data} {split} ({len(pieces)} pieces, {steps:,} steps): NLL per time step "
          f"{nll:.4f}")  # fmt: skip
    return 0


TASK = register(TaskCLI(
    "music", "a music model", "rnnlab sample", cmd_evaluate,
    "--data jsb_chorales (or a JSON file of its layout, or a MIDI folder) and --split "
    "train|valid|test; the negative log-likelihood per time step (summed over the 88 keys)",
))  # fmt: skip
