"""rnnlab train lm, rnnlab sample, rnnlab score, and rnnlab evaluate for a language model."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.cli.common import (
    TaskCLI,
    UsageError,
    add_training_args,
    as_usage_error,
    int_list,
    load_model,
    positive_int,
    print_saved,
    read_lines,
    register,
    run_training,
    train_config,
)


def add_train(sub) -> None:
    """``rnnlab train lm``."""
    p = sub.add_parser(
        "lm",
        help="language model, word or character level (tinyshakespeare, ptb, imdb, any text file)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True,
                   help="tinyshakespeare, ptb, imdb, a text file (.tokens: WikiText-style) or a "
                        "folder of *train*/*valid*/*test* files")  # fmt: skip
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
    g.add_argument("--variational-dropout", action="store_true",
                   help="one dropout mask per sequence, the same at every step (Gal & "
                        "Ghahramani 2016)")  # fmt: skip
    g.add_argument("--adaptive-softmax", type=int_list, metavar="CUTOFFS",
                   help="adaptive softmax with these cluster boundaries, e.g. 2000,6000 (ids are "
                        "frequency-sorted): most tokens cost a small softmax")  # fmt: skip
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
    g.add_argument("--lr-decay", type=float, default=1.0,
                   help="multiply the lr by this every epoch after --decay-after")  # fmt: skip
    g.add_argument("--decay-after", type=int, default=1, help="epochs at the full learning rate")
    add_training_args(g, lr=2e-3, out="runs/lm")
    p.set_defaults(func=cmd_train_lm)


def per_token(metrics: dict, level: str) -> str:
    """``loss 4.6 nats/word (6.6 bits/word), perplexity 99.2`` for a metrics dict."""
    unit = "char" if level == "char" else "word"
    return (f"{metrics['loss']:.4f} nats/{unit} ({metrics['bits']:.4f} bits/{unit}), "
            f"perplexity {metrics['perplexity']:.2f}")  # fmt: skip


def cmd_train_lm(args) -> int:
    from rnnlab.models.language_model import LMConfig
    from rnnlab.tasks.language_model import LMJob, train_lm

    with as_usage_error():
        job = LMJob(
            data=args.data, out=args.out, dev=args.dev, level=args.level, mode=args.mode,
            max_vocab=args.max_vocab, min_freq=args.min_freq, dev_fraction=args.dev_fraction,
            batch_size=args.batch_size, bptt=args.bptt, eval_batch_size=args.eval_batch_size,
            lr_decay=args.lr_decay, decay_after=args.decay_after,
            model=LMConfig(
                vocab_size=1, cell=args.cell, embed_dim=args.embed or args.hidden,
                hidden_size=args.hidden, num_layers=args.layers, dropout=args.dropout,
                tie_weights=args.tie, variational_dropout=args.variational_dropout,
                adaptive_cutoffs=args.adaptive_softmax,
            ),
            train=train_config(args),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_lm, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        print(f"{split}: {per_token(s, result.model.level)}")
    print_saved(args.out)
    return 0


def load_lm(path: str):
    return load_model(path, "lm")


def cmd_sample(args) -> int:
    model = load_model(args.model_dir)
    if model.task == "music":  # the same command for every generative kind
        from rnnlab.cli import music

        return music.cmd_sample(model, args)
    model = load_lm(args.model_dir)
    for i in range(args.num):
        seed = None if args.seed is None else args.seed + i
        text = model.sample(args.prompt, args.max_tokens, args.temperature, args.top_k, seed)
        joiner = "" if model.level == "char" or not args.prompt or not text else " "
        print(f"{args.prompt}{joiner}{text}")
    return 0


def cmd_score(args) -> int:
    model = load_lm(args.model_dir)
    texts = list(args.texts) + (read_lines(args.file) if args.file else [])
    if not texts:
        raise UsageError("nothing to score: give texts as arguments or --file FILE")
    unit = "char" if model.level == "char" else "token"
    print(f"{'log-prob':>10}  {'probability':>11}  {'ppl/' + unit:>10}  {unit + 's':>7}  text")
    for s in model.score(texts):
        print(f"{s.log_prob:10.3f}  {s.prob:11.4g}  {s.perplexity:10.2f}  {s.tokens:7d}  {s.text}")
    return 0


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a language model: perplexity, nats and bits per token."""
    from rnnlab import data
    from rnnlab.data.language_modeling import find_split_files, read_corpus_file
    from rnnlab.tasks.language_model import evaluate_lm

    if args.data in data.corpus_names():
        with as_usage_error():  # a split the corpus does not have
            corpus = data.load_corpus(args.data, args.split, level=model.level)
        where = f"{args.data} {args.split}"
    elif not Path(args.data).exists():
        raise UsageError(
            f"{args.data!r} is neither a known corpus ({', '.join(data.corpus_names())}) nor an "
            "existing file or folder"
        )
    elif Path(args.data).is_dir():
        files = find_split_files(args.data)
        if args.split not in files:
            raise UsageError(f"{args.data} has no {args.split} file (it has {sorted(files)})")
        corpus, where = read_corpus_file(files[args.split], model.level), str(files[args.split])
    else:
        corpus, where = read_corpus_file(args.data, model.level), args.data
    metrics = evaluate_lm(model, corpus)
    unit = "characters" if model.level == "char" else "tokens"
    print(f"{where} ({int(metrics['tokens']):,} {unit}): {per_token(metrics, model.level)}")
    return 0


def add_sample_and_score(sub) -> None:
    """``rnnlab sample MODEL`` and ``rnnlab score MODEL TEXT ...``."""
    p = sub.add_parser("sample", help="generate text with a trained language model, or music "
                                      "(MIDI) with a music model",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train lm or train music")
    p.add_argument("--prompt", default="", help="the text to continue")
    p.add_argument("--max-tokens", type=int,
                   help="tokens to draw at most; default: 20 words or 200 characters")  # fmt: skip
    p.add_argument("--temperature", type=float, default=1.0, help="0: greedy")
    p.add_argument("--top-k", type=int, help="draw among the k most probable tokens only")
    p.add_argument("--seed", type=int, help="the same seed gives the same text")
    p.add_argument("--num", type=int, default=1, help="samples to draw (seeds seed, seed+1, ...)")
    g = p.add_argument_group("music models")
    g.add_argument("--steps", type=positive_int, default=64, help="steps to generate")
    g.add_argument("--out", help="the MIDI file to write (and its piano roll beside it, .png)")
    g.add_argument("--prime", help="a MIDI file whose first --bars bars start the piece")
    g.add_argument("--bars", type=positive_int, default=2, help="bars of --prime (4/4)")
    g.add_argument("--wav", action="store_true", help="also render it as a WAV file to listen to")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("score", help="probability of texts under a trained language model",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train lm")
    p.add_argument("texts", nargs="*", help="texts to score")
    p.add_argument("--file", help="a file with one text per line")
    p.set_defaults(func=cmd_score)


TASK = register(TaskCLI(
    "lm", "a language model", "rnnlab sample or rnnlab score", cmd_evaluate,
    "--data a registered corpus (tinyshakespeare, ptb, imdb) and --split one of its splits, a "
    "folder of *train*/*valid*/*test* files and --split (dev: the valid file), or a text file; "
    "nats and bits per token and perplexity",
))  # fmt: skip
