"""rnnlab train translate, rnnlab translate, rnnlab bleu, and rnnlab evaluate for a translator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnlab.cli.common import (
    TaskCLI,
    UsageError,
    add_training_args,
    as_usage_error,
    load_model,
    print_saved,
    register,
    run_training,
    train_config,
)

# --alpha's help; the value is rnnlab.models.seq2seq.DEFAULT_ALPHA, read when a command runs
# (importing the model would import torch for every `rnnlab --help`)
ALPHA_HELP = ("length normalisation: the beam's pick is best score / length**alpha (default: 1, "
              "the log-probability per token)")  # fmt: skip


def alpha_of(args) -> float:
    """--alpha, or the translator's default length normalisation."""
    from rnnlab.models.seq2seq import DEFAULT_ALPHA

    return getattr(args, "alpha", DEFAULT_ALPHA)


def add_train(sub) -> None:
    """``rnnlab train translate``."""
    p = sub.add_parser(
        "translate",
        help="encoder-decoder translation with attention (multi30k, any pair of aligned files)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", help="a registered parallel corpus (multi30k); default: multi30k "
                                  "unless --src-file/--tgt-file are given")  # fmt: skip
    g.add_argument("--src", default="de", help="source language")
    g.add_argument("--tgt", default="en", help="target language")
    g.add_argument("--src-file", help="line-aligned source sentences (.gz too)")
    g.add_argument("--tgt-file", help="their translations, line by line")
    g.add_argument("--dev-src", help="a dev pair's source file (with --dev-tgt)")
    g.add_argument("--dev-tgt", help="a dev pair's target file")
    g.add_argument("--dev-fraction", type=float, default=0.05,
                   help="share of the file pairs held out as dev without --dev-src")  # fmt: skip
    g.add_argument("--min-freq", type=int, default=2, help="rarer words become <unk>")
    g.add_argument("--max-vocab", type=int, help="vocabulary size per side, 4 reserved ids in")
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=("lstm", "gru"), default="gru", help="recurrent cell")
    g.add_argument("--attention", choices=("none", "bahdanau", "dot", "general"),
                   default="bahdanau", help="none: the plain context-vector model")  # fmt: skip
    g.add_argument("--embed", type=int, default=256, help="embedding size")
    g.add_argument("--hidden", type=int, default=256, help="encoder units per direction")
    g.add_argument("--dec-hidden", type=int, help="decoder units; default: the encoder output size")
    g.add_argument("--layers", type=int, default=1, help="encoder layers")
    g.add_argument("--unidirectional", action="store_true", help="a one-way encoder")
    g.add_argument("--dropout", type=float, default=0.3, help="dropout")
    g.add_argument("--no-tie", action="store_true",
                   help="a separate output layer instead of the target embedding")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--teacher-forcing", type=float, default=1.0,
                   help="probability of feeding the gold previous token (below 1: slower, "
                        "step by step)")  # fmt: skip
    g.add_argument("--label-smoothing", type=float, default=0.0, help="of the training loss")
    g.add_argument("--batch-size", type=int, default=128, help="sentence pairs per batch")
    g.add_argument("--beam", type=int, default=5, help="beam size of the final BLEU (1: greedy)")
    g.add_argument("--alpha", type=float, default=argparse.SUPPRESS, help=ALPHA_HELP)
    add_training_args(g, lr=1e-3, out="runs/mt", clip=1.0)
    p.set_defaults(func=cmd_train_translate)


def cmd_train_translate(args) -> int:
    from rnnlab.models.seq2seq import Seq2SeqConfig
    from rnnlab.tasks.translate import TranslateJob, train_translate

    data = args.data if args.data or args.src_file else "multi30k"
    if (args.src_file is None) != (args.tgt_file is None):
        raise UsageError("give both --src-file and --tgt-file (line-aligned files), or neither")
    if (args.dev_src is None) != (args.dev_tgt is None):
        raise UsageError("give both --dev-src and --dev-tgt (line-aligned files), or neither")
    with as_usage_error():
        job = TranslateJob(
            data=data, src_lang=args.src, tgt_lang=args.tgt, src_file=args.src_file,
            tgt_file=args.tgt_file, dev_src=args.dev_src, dev_tgt=args.dev_tgt,
            dev_fraction=args.dev_fraction, out=args.out, min_freq=args.min_freq,
            max_vocab=args.max_vocab, batch_size=args.batch_size, beam=args.beam,
            alpha=alpha_of(args),
            model=Seq2SeqConfig(
                1, 1, cell=args.cell, attention=args.attention, embed_dim=args.embed,
                hidden_size=args.hidden, dec_hidden_size=args.dec_hidden, num_layers=args.layers,
                bidirectional=not args.unidirectional, dropout=args.dropout,
                teacher_forcing=args.teacher_forcing, label_smoothing=args.label_smoothing,
                tie_embeddings=not args.no_tie,
            ),
            train=train_config(args),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_translate, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        print(f"{split}: BLEU {s['bleu']:.2f} ({s['decoding']}; {s['detail']})")
    print_saved(args.out, "config.json, src_vocab.json, tgt_vocab.json, scores.json")
    return 0


def load_translator(path: str):
    return load_model(path, "translate")


def cmd_translate(args) -> int:
    model = load_translator(args.model_dir)
    texts = list(args.texts)
    if args.file:
        texts += [line for line in _read(args.file) if line.strip()]
    if not texts:
        raise UsageError("nothing to translate: give texts as arguments or --file FILE")
    if args.beam < 1:
        raise UsageError(f"--beam must be >= 1, got {args.beam}")
    results = model.translate(texts, args.beam, args.max_len, alpha_of(args))
    for r in results:
        print(r.text if not args.scores else f"{r.score:9.3f}  {r.text}")
    if args.show_attention:
        r = results[0]
        if r.attention is None:
            raise UsageError("this model has no attention (trained with --attention none)")
        from rnnlab.inspect.attention_plot import plot_attention

        title = f"{texts[0]}\n-> {r.text}"
        path = plot_attention(r.attention, r.src_tokens, r.output_tokens, args.show_attention,
                              title)  # fmt: skip
        print(f"attention of the first translation drawn to {path}", file=sys.stderr)
    return 0


def _read(path: str) -> list[str]:
    """Every line of a UTF-8 file, blank ones included (a blank hypothesis is an empty one)."""
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from e


def cmd_bleu(args) -> int:
    from rnnlab.metrics.bleu import bleu_breakdown, bleu_signature, corpus_bleu

    hyps = _read(args.hypotheses)
    refs = [_read(path) for path in args.references]
    for path, lines in zip(args.references, refs, strict=True):
        if len(lines) != len(hyps):
            raise UsageError(
                f"{args.hypotheses} has {len(hyps)} lines but {path} has {len(lines)}; "
                "hypotheses and references must align line by line"
            )
    if not hyps:
        raise UsageError(f"{args.hypotheses} is empty")
    kw = dict(smooth=args.smooth, tokenize=args.tokenize, lowercase=args.lowercase)
    score = corpus_bleu(hyps, refs, smooth_value=args.smooth_value, **kw)
    print(score)
    print(bleu_signature(len(refs), smooth_value=args.smooth_value, **kw))
    if args.breakdown is not None:
        i = args.breakdown - 1
        if not 0 <= i < len(hyps):
            raise UsageError(f"--breakdown takes a line number 1..{len(hyps)}, got {i + 1}")
        print(f"\nline {i + 1}: {hyps[i]}")
        print(bleu_breakdown(hyps[i], [r[i] for r in refs], args.tokenize, args.lowercase))
    return 0


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a translator: BLEU (greedy, and beam 5 with the default length
    normalisation) on a registered corpus' split, or on ``--data SRC_FILE,TGT_FILE``."""
    from rnnlab import data
    from rnnlab.data.translation import load_parallel, read_parallel
    from rnnlab.tasks.translate import evaluate_bleu

    src_lang, tgt_lang = model.languages
    if args.data in data.translation_names():
        with as_usage_error():  # a split or languages the corpus does not have
            pairs = load_parallel(args.data, args.split, src_lang, tgt_lang)
        where = f"{args.data} {args.split} ({src_lang}->{tgt_lang})"
    elif args.data.count(",") == 1:
        src_file, tgt_file = args.data.split(",")
        pairs, where = read_parallel(src_file, tgt_file, src_lang, tgt_lang), args.data
    else:
        raise UsageError(
            f"{args.data!r} is neither a known parallel corpus "
            f"({', '.join(data.translation_names())}) nor SRC_FILE,TGT_FILE"
        )
    for beam in (1, 5):
        s = evaluate_bleu(model, pairs, beam=beam, alpha=alpha_of(args))
        print(f"{where}, {len(pairs)} sentences, {s['decoding']}: {s['detail']}")
    print(s["signature"])
    return 0


def add_translate_and_bleu(sub) -> None:
    """``rnnlab translate MODEL TEXT ...`` and ``rnnlab bleu HYP REF [REF ...]``."""
    p = sub.add_parser("translate", help="translate sentences with a trained translation model",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train translate")
    p.add_argument("texts", nargs="*", help="sentences to translate")
    p.add_argument("--file", help="a file with one sentence per line")
    p.add_argument("--beam", type=int, default=5, help="beam size (1: greedy)")
    p.add_argument("--alpha", type=float, default=argparse.SUPPRESS, help=ALPHA_HELP)
    p.add_argument("--max-len", type=int, help="most output tokens; default 2 x source + 10")
    p.add_argument("--scores", action="store_true", help="print each model score (log-prob)")
    p.add_argument("--show-attention", metavar="PNG",
                   help="draw the first translation's attention to this PNG file")  # fmt: skip
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("bleu", help="corpus BLEU of a hypothesis file against reference files "
                                    "(equal to sacreBLEU)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("hypotheses", help="one detokenised hypothesis per line")
    p.add_argument("references", nargs="+", help="one or more reference files, line-aligned")
    p.add_argument("--lowercase", "-lc", action="store_true", help="case-insensitive BLEU")
    p.add_argument("--tokenize", choices=("13a", "none", "char"), default="13a",
                   help="tokenisation before n-gram matching")  # fmt: skip
    p.add_argument("--smooth", choices=("exp", "floor", "add-k", "none"), default="exp",
                   help="smoothing of zero n-gram precisions")  # fmt: skip
    p.add_argument("--smooth-value", type=float, help="floor (0.1) or k (1) of those methods")
    p.add_argument("--breakdown", type=int, metavar="LINE",
                   help="also print the n-gram table of line LINE (1-based)")  # fmt: skip
    p.set_defaults(func=cmd_bleu)


TASK = register(TaskCLI(
    "translate", "a translator", "rnnlab translate", cmd_evaluate,
    "--data a registered parallel corpus (multi30k) and --split one of its splits, or "
    "SRC_FILE,TGT_FILE (line-aligned files); BLEU of greedy and of beam-5 decoding",
))  # fmt: skip
