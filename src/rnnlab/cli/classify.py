"""rnnlab train classify, rnnlab predict, and rnnlab evaluate for a classifier."""

from __future__ import annotations

import argparse

from rnnlab.cli.common import (
    TASKS,
    TaskCLI,
    UsageError,
    add_training_args,
    as_usage_error,
    load_model,
    print_saved,
    read_lines,
    register,
    run_training,
    train_config,
)


def add_train(sub) -> None:
    """``rnnlab train classify``."""
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
    g.add_argument("--max-len", type=int, help="train on the last N tokens of longer texts")
    g.add_argument("--eval-max-len", type=int,
                   help="evaluate and predict on the last N tokens; default: whole "
                        "texts")  # fmt: skip
    g.add_argument("--phrases", action=argparse.BooleanOptionalAction, default=True,
                   help="sst2/sst5: train on every labelled phrase of the training trees, not "
                        "only whole sentences")  # fmt: skip
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=("rnn", "bow"), default="rnn",
                   help="recurrent model or the bag-of-words baseline")  # fmt: skip
    # the encoder's sizes: given, or the defaults, or (with --pretrained) the language model's
    unset = argparse.SUPPRESS
    g.add_argument("--cell", choices=("rnn", "lstm", "gru"), default=unset,
                   help="recurrent cell (default: lstm)")  # fmt: skip
    g.add_argument("--layers", type=int, default=unset,
                   help="stacked recurrent layers (default: 1)")  # fmt: skip
    g.add_argument("--hidden", type=int, default=unset,
                   help="hidden units per direction (default: 128)")  # fmt: skip
    g.add_argument("--embed", type=int, default=unset, help="embedding size (default: 128)")
    g.add_argument("--bidirectional", action="store_true", help="read the text both ways")
    g.add_argument("--dropout", type=float, default=0.5, help="dropout probability")
    g.add_argument("--padding", choices=("pre", "post"), default="pre", help="padding side")
    g.add_argument("--pooling", choices=("last", "max", "mean", "concat"), default="last",
                   help="text vector: last real state, max/mean over time, or all three "
                        "(concat)")  # fmt: skip
    g.add_argument("--init", choices=("torch", "keras"), default="torch",
                   help="initial weights: PyTorch's defaults or Keras' (Glorot, orthogonal "
                        "recurrent, forget-gate bias 1)")  # fmt: skip
    g = p.add_argument_group("transfer from a language model (ULMFiT)")
    g.add_argument("--pretrained", metavar="LM_RUN",
                   help="start from a saved language model (rnnlab train lm): its vocabulary, "
                        "embedding and recurrent layers")  # fmt: skip
    g.add_argument("--discriminative", type=float, default=2.6,
                   help="each layer group below trains at 1/this of the rate above it "
                        "(1: one rate)")  # fmt: skip
    g.add_argument("--gradual-unfreezing", action=argparse.BooleanOptionalAction, default=True,
                   help="epoch 1 trains the output layer only, each later epoch one more "
                        "group from the top")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=int, default=32, help="texts per batch")
    add_training_args(g, lr=1e-3, out="runs/classify")
    p.set_defaults(func=cmd_train_classify)


ENCODER_DEFAULTS = {"cell": "lstm", "layers": 1, "hidden": 128, "embed": 128}


def cmd_train_classify(args) -> int:
    from rnnlab.models.classifier import ClassifierConfig, FineTuning
    from rnnlab.tasks.classify import ClassifyJob, train_classifier

    given = [f"--{k}" for k in ENCODER_DEFAULTS if hasattr(args, k)]
    if args.pretrained and given:
        raise UsageError(f"{', '.join(given)}: the encoder's sizes come from --pretrained")
    enc = {k: getattr(args, k, d) for k, d in ENCODER_DEFAULTS.items()}
    with as_usage_error():
        job = ClassifyJob(
            data=args.data, out=args.out, dev=args.dev, level=args.level,
            max_vocab=args.max_vocab, min_freq=args.min_freq, max_len=args.max_len,
            eval_max_len=args.eval_max_len, phrases=args.phrases, pretrained=args.pretrained,
            fine_tuning=FineTuning(args.discriminative, args.gradual_unfreezing)
            if args.pretrained else None,
            batch_size=args.batch_size,
            model=ClassifierConfig(
                vocab_size=1, num_classes=2, model=args.model, cell=enc["cell"],
                embed_dim=enc["embed"], hidden_size=enc["hidden"], num_layers=enc["layers"],
                bidirectional=args.bidirectional, dropout=args.dropout, padding=args.padding,
                pooling=args.pooling, init=args.init,
            ),
            train=train_config(args, monitor="accuracy", mode="max"),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_classifier, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        print(f"{split}: accuracy {s['accuracy']:.4f}  loss {s['loss']:.4f}")
    print_saved(args.out)
    return 0


def add_predict(sub) -> None:
    """``rnnlab predict MODEL TEXT ...``."""
    p = sub.add_parser("predict", help="classify texts (or series) with a trained model",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train classify (or a model "
                   "of another kind that predicts: rnnlab train series)")  # fmt: skip
    p.add_argument("texts", nargs="*",
                   help="texts to classify (a series classifier: files of series)")  # fmt: skip
    p.add_argument("--file", help="a file with one text per line (a series classifier: a file "
                   "of series)")  # fmt: skip
    p.set_defaults(func=cmd_predict)


def cmd_predict(args) -> int:
    """``rnnlab predict``: a text classifier's here; another kind's predict where it has one."""
    model = load_model(args.model_dir)
    task = TASKS.get(model.task)
    if model.task != "classify" and task is not None and task.predict is not None:
        return task.predict(model, args)
    model = load_model(args.model_dir, "classify")  # the error naming what it is instead
    texts = list(args.texts) + (read_lines(args.file) if args.file else [])
    if not texts:
        raise UsageError("nothing to classify: give texts as arguments or --file FILE")
    for text, p in zip(texts, model.predict(texts), strict=True):
        print(f"{p.label}\t{p.probability:.4f}\t{text}")
    return 0


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a classifier: accuracy, per-class P/R/F1, confusion matrix."""
    from rnnlab import data
    from rnnlab.metrics import format_confusion_matrix, format_report
    from rnnlab.tasks.classify import evaluate_classifier

    if args.data in data.names():
        with as_usage_error():  # a split the dataset does not have
            split = data.load(args.data, args.split)
        if not isinstance(split, data.LabelledTexts):
            raise UsageError(f"{args.data}/{args.split} has no labels to evaluate against")
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


TASK = register(TaskCLI(
    "classify", "a text classifier", "rnnlab predict", cmd_evaluate,
    "--data a registered dataset (sst2, sst5, review_polarity, imdb) and --split one of its "
    "splits, or a TSV file (text<TAB>label) or a folder with one sub-folder per class; accuracy, "
    "per-class precision/recall/F1 and the confusion matrix",
))  # fmt: skip
