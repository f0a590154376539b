"""The ``rnnlab`` command: one short function per subcommand.

    rnnlab train classify --data sst2 --cell lstm --bidirectional --epochs 10 --out runs/sst2
    rnnlab predict runs/sst2 "an enjoyable one-time-watch for the funny punchlines"
    rnnlab evaluate runs/sst2 --data sst2 --split test
    rnnlab train lm --data tinyshakespeare --level char --layers 2 --hidden 256 --out runs/shake
    rnnlab sample runs/shake --prompt "ROMEO:" --max-tokens 300 --temperature 0.8 --seed 1
    rnnlab score runs/ptb "the company said it expects" "company the said expects it"
    rnnlab evaluate runs/ptb --data ptb --split test

Errors a user can cause (unknown dataset, unreadable file, empty text, labels that differ from the
model's, characters a character-level model has never seen) end with one line on stderr and exit
code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in what the user asked for, reported in one line (exit code 2)."""


def _add_classify(sub) -> None:
    p = sub.add_parser(
        "classify",
        help="many-to-one text classification (sentiment, star ratings)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True,
                   help="sst2, sst5, review_polarity, imdb, or a TSV (text<TAB>label) or a folder "
                        "with one sub-folder per class")  # fmt: skip
    g.add_argument("--dev", help="a dev TSV/folder; without it: the dataset's dev split or a "
                                 "seeded 10%% of the training data")  # fmt: skip
    g.add_argument("--level", choices=("word", "char"), default="word", help="token level")
    g.add_argument("--max-vocab", type=int, help="vocabulary size including 4 reserved ids")
    g.add_argument("--min-freq", type=int, default=1, help="drop rarer words (they become <unk>)")
    g.add_argument("--max-len", type=int, help="keep the last N tokens of longer texts")
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=("rnn", "bow"), default="rnn",
                   help="recurrent model or the bag-of-words baseline")  # fmt: skip
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="recurrent cell")
    g.add_argument("--layers", type=int, default=1, help="stacked recurrent layers")
    g.add_argument("--hidden", type=int, default=128, help="hidden units per direction")
    g.add_argument("--embed", type=int, default=128, help="embedding size")
    g.add_argument("--bidirectional", action="store_true", help="read the text both ways")
    g.add_argument("--dropout", type=float, default=0.5, help="dropout probability")
    g.add_argument("--padding", choices=("pre", "post"), default="pre", help="padding side")
    g.add_argument("--pooling", choices=("last", "max", "mean"), default="last",
                   help="sentence vector: last real state, or max/mean over time")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=10, help="maximum epochs")
    g.add_argument("--batch-size", type=int, default=32, help="texts per batch")
    g.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    g.add_argument("--optimizer", choices=("adam", "adamw", "sgd"), default="adam",
                   help="optimizer")  # fmt: skip
    g.add_argument("--weight-decay", type=float, default=0.0, help="L2 / decoupled decay")
    g.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: no clipping)")
    g.add_argument("--patience", type=int, default=3, help="early stopping (0: off)")
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    g.add_argument("--out", default="runs/classify", help="the model directory to write")
    g.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train_classify)


def cmd_train_classify(args) -> int:
    from rnnlab.models.classifier import ClassifierConfig
    from rnnlab.tasks.classify import ClassifyJob, train_classifier
    from rnnlab.train import TrainConfig

    job = ClassifyJob(
        data=args.data, out=args.out, dev=args.dev, level=args.level, max_vocab=args.max_vocab,
        min_freq=args.min_freq, max_len=args.max_len, batch_size=args.batch_size,
        model=ClassifierConfig(
            vocab_size=1, num_classes=2, model=args.model, cell=args.cell, embed_dim=args.embed,
            hidden_size=args.hidden, num_layers=args.layers, bidirectional=args.bidirectional,
            dropout=args.dropout, padding=args.padding, pooling=args.pooling,
        ),
        train=TrainConfig(
            epochs=args.epochs, lr=args.lr, optimizer=args.optimizer,
            weight_decay=args.weight_decay, clip_norm=args.clip or None,
            monitor="accuracy", mode="max", patience=args.patience or None, seed=args.seed,
            device=args.device, progress=not args.no_progress,
        ),
        resume=args.resume,
    )  # fmt: skip
    try:
        result = train_classifier(job)
    except KeyboardInterrupt:
        print(f"interrupted: a checkpoint is in {args.out}; continue with the same command "
              "and --resume", file=sys.stderr)  # fmt: skip
        return 130
    for split, s in result.scores.items():
        print(f"{split}: accuracy {s['accuracy']:.4f}  loss {s['loss']:.4f}")
    print(f"saved to {args.out} (model.safetensors, config.json, vocab.json, metrics.jsonl, "
          "learning_curve.png)")  # fmt: skip
    return 0


def _add_lm(sub) -> None:
    p = sub.add_parser(
        "lm",
        help="language model, word or character level (tinyshakespeare, ptb, any text file)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True,
                   help="tinyshakespeare, ptb, a text file (.tokens: WikiText-style) or a folder "
                        "of *train*/*valid*/*test* files")  # fmt: skip
    g.add_argument("--dev", help="a dev text file; without it: the corpus' dev split or the last "
                                 "--dev-fraction of the training text")  # fmt: skip
    g.add_argument("--dev-fraction", type=float, default=0.1, help="held-out tail of a text file")
    g.add_argument("--level", choices=("word", "char"),
                   help="token level; default: the corpus' own (char for tinyshakespeare, word "
                        "otherwise)")  # fmt: skip
    g.add_argument("--max-vocab", type=int, help="vocabulary size including 4 reserved ids")
    g.add_argument("--min-freq", type=int, default=1, help="drop rarer words (they become <unk>)")
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="recurrent cell")
    g.add_argument("--layers", type=int, default=2, help="stacked recurrent layers")
    g.add_argument("--hidden", type=int, default=256, help="hidden units")
    g.add_argument("--embed", type=int, help="embedding size; default: --hidden")
    g.add_argument("--dropout", type=float, default=0.0,
                   help="dropout on embeddings, between layers and before the output")  # fmt: skip
    g.add_argument("--tie", action="store_true",
                   help="output layer = the embedding (needs --embed = --hidden)")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--mode", choices=("stream", "sentence"), default="stream",
                   help="stream: truncated BPTT over the running text, state carried between "
                        "chunks; sentence: each line on its own, <bos> ... <eos>")  # fmt: skip
    g.add_argument("--bptt", type=int, help="stream: steps per chunk; default: 35 words or "
                                             "100 characters")  # fmt: skip
    g.add_argument("--batch-size", type=int, default=32,
                   help="stream: parallel rows; sentence: lines per batch")  # fmt: skip
    g.add_argument("--eval-batch-size", type=int, default=10, help="rows of the dev stream")
    g.add_argument("--epochs", type=int, default=10, help="maximum epochs")
    g.add_argument("--lr", type=float, default=2e-3, help="learning rate")
    g.add_argument("--optimizer", choices=("adam", "adamw", "sgd"), default="adam",
                   help="optimizer")  # fmt: skip
    g.add_argument("--weight-decay", type=float, default=0.0, help="L2 / decoupled decay")
    g.add_argument("--lr-decay", type=float, default=1.0,
                   help="multiply the lr by this every epoch after --decay-after")  # fmt: skip
    g.add_argument("--decay-after", type=int, default=1, help="epochs at the full learning rate")
    g.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: no clipping)")
    g.add_argument("--patience", type=int, default=3, help="early stopping (0: off)")
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    g.add_argument("--out", default="runs/lm", help="the model directory to write")
    g.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train_lm)


def _per_token(metrics: dict, level: str) -> str:
    """``loss 4.6 nats/word (6.6 bits/word), perplexity 99.2`` for a metrics dict."""
    unit = "char" if level == "char" else "word"
    return (f"{metrics['loss']:.4f} nats/{unit} ({metrics['bits']:.4f} bits/{unit}), "
            f"perplexity {metrics['perplexity']:.2f}")  # fmt: skip


def cmd_train_lm(args) -> int:
    from rnnlab.models.language_model import LMConfig
    from rnnlab.tasks.language_model import LMJob, train_lm
    from rnnlab.train import TrainConfig

    job = LMJob(
        data=args.data, out=args.out, dev=args.dev, level=args.level, mode=args.mode,
        max_vocab=args.max_vocab, min_freq=args.min_freq, dev_fraction=args.dev_fraction,
        batch_size=args.batch_size, bptt=args.bptt, eval_batch_size=args.eval_batch_size,
        lr_decay=args.lr_decay, decay_after=args.decay_after,
        model=LMConfig(
            vocab_size=1, cell=args.cell, embed_dim=args.embed or args.hidden,
            hidden_size=args.hidden, num_layers=args.layers, dropout=args.dropout,
            tie_weights=args.tie,
        ),
        train=TrainConfig(
            epochs=args.epochs, lr=args.lr, optimizer=args.optimizer,
            weight_decay=args.weight_decay, clip_norm=args.clip or None,
            patience=args.patience or None, seed=args.seed, device=args.device,
            progress=not args.no_progress,
        ),
        resume=args.resume,
    )  # fmt: skip
    try:
        result = train_lm(job)
    except KeyboardInterrupt:
        print(f"interrupted: a checkpoint is in {args.out}; continue with the same command "
              "and --resume", file=sys.stderr)  # fmt: skip
        return 130
    for split, s in result.scores.items():
        print(f"{split}: {_per_token(s, result.model.level)}")
    print(f"saved to {args.out} (model.safetensors, config.json, vocab.json, metrics.jsonl, "
          "learning_curve.png)")  # fmt: skip
    return 0


def _load_model(path: str):
    import rnnlab

    return rnnlab.load(path)


def _load_lm(path: str):
    from rnnlab.models.language_model import LanguageModel

    model = _load_model(path)
    if not isinstance(model, LanguageModel):
        raise UsageError(f"{path} holds a classifier, not a language model: use rnnlab predict")
    return model


def _read_lines(path: str) -> list[str]:
    """The non-blank lines of a UTF-8 file (UsageError naming it if it cannot be read)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from e
    return [line for line in lines if line.strip()]


def cmd_sample(args) -> int:
    model = _load_lm(args.model_dir)
    for i in range(args.num):
        seed = None if args.seed is None else args.seed + i
        text = model.sample(args.prompt, args.max_tokens, args.temperature, args.top_k, seed)
        joiner = "" if model.level == "char" or not args.prompt or not text else " "
        print(f"{args.prompt}{joiner}{text}")
    return 0


def cmd_score(args) -> int:
    model = _load_lm(args.model_dir)
    texts = list(args.texts) + (_read_lines(args.file) if args.file else [])
    if not texts:
        raise UsageError("nothing to score: give texts as arguments or --file FILE")
    unit = "char" if model.level == "char" else "token"
    print(f"{'log-prob':>10}  {'probability':>11}  {'ppl/' + unit:>10}  {unit + 's':>7}  text")
    for s in model.score(texts):
        print(f"{s.log_prob:10.3f}  {s.prob:11.4g}  {s.perplexity:10.2f}  {s.tokens:7d}  {s.text}")
    return 0


def cmd_predict(args) -> int:
    model = _load_model(args.model_dir)
    if not hasattr(model, "predict"):
        raise UsageError(
            f"{args.model_dir} holds a language model: use rnnlab sample or rnnlab score"
        )
    texts = list(args.texts)
    if args.file:
        try:
            lines = Path(args.file).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise UsageError(f"cannot read {args.file}: {e.strerror}") from e
        except UnicodeDecodeError as e:
            raise UsageError(f"{args.file} is not UTF-8 text ({e.reason} at byte {e.start})") from e
        texts += [line for line in lines if line.strip()]
    if not texts:
        raise UsageError("nothing to classify: give texts as arguments or --file FILE")
    for text, p in zip(texts, model.predict(texts), strict=True):
        print(f"{p.label}\t{p.probability:.4f}\t{text}")
    return 0


def cmd_evaluate(args) -> int:
    from rnnlab import data
    from rnnlab.metrics import format_confusion_matrix, format_report
    from rnnlab.tasks.classify import evaluate_classifier

    model = _load_model(args.model_dir)
    if not hasattr(model, "predict"):
        return cmd_evaluate_lm(model, args)
    if args.data in data.names():
        split = data.load(args.data, args.split)
    else:
        split = data.load_path(args.data, label_names=model.label_names)
    if split.label_names != model.label_names:
        raise UsageError(
            f"{args.data} has labels {split.label_names}, the model has {model.label_names}"
        )
    report, cm = evaluate_classifier(model, split)
    print(f"{args.data} ({len(split)} texts): accuracy {report.accuracy:.4f}")
    print(format_report(report, model.label_names))
    print(format_confusion_matrix(cm, model.label_names))
    return 0


def cmd_evaluate_lm(model, args) -> int:
    from rnnlab import data
    from rnnlab.data.language_modeling import find_split_files, read_corpus_file
    from rnnlab.tasks.language_model import evaluate_lm

    if args.data in data.corpus_names():
        corpus = data.load_corpus(args.data, args.split, level=model.level)
        where = f"{args.data} {args.split}"
    elif Path(args.data).is_dir():
        files = find_split_files(args.data)
        if args.split not in files:
            raise UsageError(f"{args.data} has no {args.split} file (it has {sorted(files)})")
        corpus, where = read_corpus_file(files[args.split], model.level), str(files[args.split])
    else:
        corpus, where = read_corpus_file(args.data, model.level), args.data
    metrics = evaluate_lm(model, corpus)
    unit = "characters" if model.level == "char" else "tokens"
    print(f"{where} ({int(metrics['tokens']):,} {unit}): {_per_token(metrics, model.level)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rnnlab`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model for a task")
    tasks = train.add_subparsers(dest="task", required=True)
    _add_classify(tasks)
    _add_lm(tasks)

    p = sub.add_parser("predict", help="classify texts with a trained model",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train")
    p.add_argument("texts", nargs="*", help="texts to classify")
    p.add_argument("--file", help="a file with one text per line")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate",
                       help="score a trained model on labelled data (classifier) or a corpus "
                            "(language model: perplexity, bits per token)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train")
    p.add_argument("--data", required=True,
                   help="a registered dataset or a TSV/folder; for a language model a registered "
                        "corpus, a folder of split files or a text file")  # fmt: skip
    p.add_argument("--split", default="test", help="split of a registered dataset")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("sample", help="generate text with a trained language model",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train lm")
    p.add_argument("--prompt", default="", help="the text to continue")
    p.add_argument("--max-tokens", type=int,
                   help="tokens to draw at most; default: 20 words or 200 characters")  # fmt: skip
    p.add_argument("--temperature", type=float, default=1.0, help="0: greedy")
    p.add_argument("--top-k", type=int, help="draw among the k most probable tokens only")
    p.add_argument("--seed", type=int, help="the same seed gives the same text")
    p.add_argument("--num", type=int, default=1, help="samples to draw (seeds seed, seed+1, ...)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("score", help="probability of texts under a trained language model",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train lm")
    p.add_argument("texts", nargs="*", help="texts to score")
    p.add_argument("--file", help="a file with one text per line")
    p.set_defaults(func=cmd_score)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rnnlab`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
    from rnnlab.data import DataError
    from rnnlab.train import CheckpointError

    try:
        return args.func(args)
    except (UsageError, DataError, CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"rnnlab: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
