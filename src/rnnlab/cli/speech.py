"""rnnlab train speech, rnnlab transcribe, rnnlab inspect speech, and rnnlab evaluate for a
speech model."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.cli.common import (
    TaskCLI,
    UsageError,
    add_training_args,
    as_usage_error,
    load_model,
    positive_int,
    print_saved,
    register,
    run_training,
    train_config,
)


def _speakers(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated speaker names, got {text!r}")
    return names


def _index_range(text: str) -> tuple[int, int]:
    try:
        a, _, b = text.partition("-")
        lo, hi = int(a), int(b or a)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an index range such as 0-4, got {text!r}"
        ) from None
    if lo < 0 or hi < lo:
        raise argparse.ArgumentTypeError(f"expected an index range such as 0-4, got {text!r}")
    return lo, hi


def _speeds(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected speed factors such as 0.9,1,1.1, got {text!r}"
        ) from None


def add_train(sub) -> None:
    """``rnnlab train speech``."""
    p = sub.add_parser(
        "speech",
        help="spoken digits: one label per recording, or digit strings with CTC",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", default="fsdd",
                   help="fsdd (the Free Spoken Digit Dataset), or a folder of WAVs named "
                        "<label>_<speaker>_<index>.wav")  # fmt: skip
    g.add_argument("--test-speakers", type=_speakers, default=(),
                   help="hold these speakers out as the test set (comma-separated); default: "
                        "split by --test-index")  # fmt: skip
    g.add_argument("--test-index", type=_index_range, default=(0, 4),
                   help="recordings with an index in this range are the test set (FSDD's "
                        "official split: 0-4)")  # fmt: skip
    g.add_argument("--ctc", action="store_true",
                   help="train on digit strings (1-7 recordings joined with short silences) "
                        "with CTC instead of one label per recording")  # fmt: skip
    g.add_argument(
        "--alphabet",
        choices=("digits", "chars"),
        default="digits",
        help="--ctc output symbols: the ten digits, or the letters of zero..nine",
    )
    g.add_argument("--min-digits", type=positive_int, default=1, help="--ctc: shortest string")
    g.add_argument("--max-digits", type=positive_int, default=7, help="--ctc: longest string")
    g.add_argument("--train-strings", type=positive_int, default=4000,
                   help="--ctc: training strings per epoch (new ones each epoch)")  # fmt: skip
    g.add_argument(
        "--eval-strings",
        type=positive_int,
        default=500,
        help="--ctc: dev and test strings (test ones from test recordings only)",
    )
    g.add_argument("--speed-perturb", type=_speeds,
                   default=(0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2),
                   help="training speed factors (comma-separated; 1 for none)")  # fmt: skip
    g.add_argument("--noise-db", type=float, default=30.0,
                   help="training noise this many dB below the signal (0: none)")  # fmt: skip
    g = p.add_argument_group("model")
    g.add_argument("--features", choices=("mfcc", "logmel"), default="mfcc",
                   help="frame features")  # fmt: skip
    g.add_argument("--mels", type=positive_int, default=40, help="mel bands")
    g.add_argument("--mfcc", type=positive_int, default=20, help="MFCCs with --features mfcc")
    g.add_argument(
        "--stack",
        type=positive_int,
        default=None,
        help="frames stacked per recurrent step (default: 1; 2 with --ctc)",
    )
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="cell")
    g.add_argument("--layers", type=positive_int, default=2, help="stacked layers")
    g.add_argument("--hidden", type=positive_int, default=128, help="hidden units per direction")
    g.add_argument("--unidirectional", action="store_true", help="one direction only")
    g.add_argument("--dropout", type=float, default=0.3, help="dropout probability")
    g.add_argument("--pooling", choices=("last", "max", "mean", "concat"), default="concat",
                   help="how the frames become one vector (not with --ctc)")  # fmt: skip
    g.add_argument("--spec-augment", action="store_true",
                   help="SpecAugment masks in training: 2 frequency masks of up to 8 bands, "
                        "2 time masks of up to 10 frames (100 ms) and 20%% of the "
                        "recording")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=positive_int, default=32, help="recordings per batch")
    add_training_args(g, lr=2e-3, out="runs/speech", epochs=30, patience=6)
    p.set_defaults(func=cmd_train_speech)


def cmd_train_speech(args) -> int:
    from rnnlab.models.speech import SpeechConfig
    from rnnlab.tasks.speech import SpeechJob, train_speech

    ctc = args.ctc
    monitor = {"monitor": "error_rate", "mode": "min"} if ctc else {"monitor": "accuracy",
                                                                    "mode": "max"}  # fmt: skip
    # factors of 1 alone mean no speed perturbation
    speeds = args.speed_perturb if any(s != 1.0 for s in args.speed_perturb) else ()
    augment = {"freq_masks": 2, "freq_width": 8, "time_masks": 2, "time_width": 10,
               "time_ratio": 0.2}  # fmt: skip
    with as_usage_error():
        job = SpeechJob(
            data=args.data, out=args.out, objective="ctc" if ctc else "classify",
            test_speakers=args.test_speakers, test_index=args.test_index,
            alphabet=args.alphabet, min_digits=args.min_digits, max_digits=args.max_digits,
            train_strings=args.train_strings, eval_strings=args.eval_strings,
            speed_perturb=speeds,
            noise_db=args.noise_db, batch_size=args.batch_size,
            model=SpeechConfig(
                num_outputs=2, features=args.features, n_mels=args.mels, n_mfcc=args.mfcc,
                stack=args.stack or (2 if ctc else 1), cell=args.cell, hidden_size=args.hidden,
                num_layers=args.layers, bidirectional=not args.unidirectional,
                dropout=args.dropout, pooling=args.pooling,
                spec_augment=augment if args.spec_augment else {},
            ),
            train=train_config(args, **monitor),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_speech, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        if ctc:
            print(f"{split}: symbol error rate {s['error_rate']:.4f}  string accuracy "
                  f"{s['accuracy']:.4f} (greedy decoding)")  # fmt: skip
        else:
            print(f"{split}: accuracy {s['accuracy']:.4f}  loss {s['loss']:.4f}")
    print_saved(args.out, "config.json, run.json")
    return 0


def add_transcribe(sub) -> None:
    """``rnnlab transcribe MODEL FILE.wav ...``."""
    p = sub.add_parser("transcribe", help="what a speech model hears in WAV files",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train speech")
    p.add_argument("wavs", nargs="+", help="WAV files (any rate, mono or stereo)")
    p.add_argument("--beam", type=positive_int, default=8,
                   help="CTC models: prefix beam width (1: greedy)")  # fmt: skip
    p.set_defaults(func=cmd_transcribe)


def cmd_transcribe(args) -> int:
    model = load_model(args.model_dir, "speech")
    for t in model.transcribe(args.wavs, beam=args.beam):
        print(f"{t.text}\t{t.probability:.4f}\t{t.path}")
    return 0


def add_inspect(kinds) -> None:
    """``rnnlab inspect speech MODEL FILE.wav``."""
    p = kinds.add_parser("speech", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                         help="waveform, log-mel spectrogram and the model's posteriors over "
                              "time for one recording")  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train speech")
    p.add_argument("wav", help="a WAV file")
    p.add_argument("--out", default="runs/inspect/speech.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect_speech)


def cmd_inspect_speech(args) -> int:
    from rnnlab import audio
    from rnnlab.inspect.speech_plot import plot_speech
    from rnnlab.models.speech import BLANK

    model = load_model(args.model_dir, "speech")
    c = model.config
    wave = model.read(args.wav)
    mel = audio.log_mel(wave, c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length,
                        win_length=c.win_length, n_mels=c.n_mels)  # fmt: skip
    post = model.posteriors(wave)
    (t,) = model.transcribe([args.wav])
    symbols = [BLANK, *model.labels] if c.objective == "ctc" else model.labels
    title = f"{Path(args.wav).name}: heard {t.text!r} (p = {t.probability:.3f})"
    path = plot_speech(wave, c.sample_rate, mel, c.hop_ms / 1000, post, symbols, args.out,
                       title=title, frame_seconds=c.hop_ms * c.stack / 1000)  # fmt: skip
    print(f"{t.text}\t{t.probability:.4f}\t{args.wav}")
    print(f"wrote {path}")
    return 0


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a speech model: accuracy and a confusion matrix (PNG beside the
    model), or for a CTC model the digit error rate and string accuracy on digit strings built
    from the test recordings (greedy and beam decoding)."""
    from rnnlab.inspect.confusion_plot import plot_confusion_matrix
    from rnnlab.metrics import format_confusion_matrix
    from rnnlab.tasks.speech import (
        evaluate_recordings,
        evaluate_strings,
        job_of_run,
        speech_splits,
        string_seed,
    )

    job = job_of_run(args.model_dir, args.data)
    with as_usage_error():
        splits = speech_splits(job)
    if args.split not in splits:
        raise UsageError(f"speech data has splits train, dev, test, not {args.split!r}")
    utts = splits[args.split]
    where = f"{args.data} {args.split}"
    if model.config.objective == "classify":
        acc, cm = evaluate_recordings(model, utts)
        print(f"{where} ({len(utts):,} recordings): accuracy {acc:.4f}")
        print(format_confusion_matrix(cm, model.labels))
        name = f"confusion_{Path(args.data).name}_{args.split}.png"
        path = plot_confusion_matrix(cm, model.labels, Path(args.model_dir, name), title=where)
        print(f"wrote {path}")
        return 0
    seed = string_seed(job.train.seed, args.split)  # the strings the run was scored on
    for beam in (1, 8):
        s = evaluate_strings(model, utts, job, job.eval_strings, seed=seed, beam=beam)
        how = "greedy" if beam == 1 else f"prefix beam {beam}"
        print(f"{where} ({s['strings']:,} digit strings, {how}): digit error rate "
              f"{s['digit_error_rate']:.4f}  string accuracy {s['accuracy']:.4f}")  # fmt: skip
    return 0


TASK = register(TaskCLI(
    "speech", "a speech model", "rnnlab transcribe", cmd_evaluate,
    "--data fsdd or a folder of <label>_<speaker>_<index>.wav and --split train|dev|test (the "
    "run's own split: its test speakers or test index); accuracy and a confusion matrix PNG, or "
    "for a CTC model digit error rate and string accuracy on digit strings of the test recordings",
))  # fmt: skip
