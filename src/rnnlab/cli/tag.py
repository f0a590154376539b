"""rnnlab train tag, rnnlab tag, and rnnlab evaluate for a sequence tagger."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.cli.common import (
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
    """``rnnlab train tag``."""
    p = sub.add_parser(
        "tag",
        help="sequence tagging, one tag per token (NER, chunking, POS)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True,
                   help="conll2003, conll2000, ud_english_lines, or a file: CoNLL columns (token "
                        "first, tag last), a .conllu file, or token<TAB>tag lines")  # fmt: skip
    g.add_argument("--dev", help="a dev file; without it: the dataset's dev split or a seeded 10%% "
                                 "of the training sentences")  # fmt: skip
    g.add_argument("--target", help="which tags of a dataset: conll2003 ner|pos|chunk, conll2000 "
                                    "chunk|pos, CoNLL-U upos|xpos; default: the first")  # fmt: skip
    g.add_argument("--scheme", choices=("IOB1", "IOB2", "BIOES"), default="IOB2",
                   help="span tags are trained and scored in this scheme")  # fmt: skip
    g.add_argument("--max-vocab", type=int, help="word vocabulary size including 4 reserved ids")
    g.add_argument("--min-freq", type=int, default=1, help="drop rarer words (they become <unk>)")
    g.add_argument("--max-sentences", type=int, help="train on the first N sentences only")
    g = p.add_argument_group("model")
    g.add_argument("--crf", action="store_true", help="a CRF over the tags (else softmax)")
    g.add_argument("--char", action="store_true", help="a character BiLSTM per word")
    g.add_argument("--cell", choices=("lstm", "gru"), default="lstm", help="word-level cell")
    g.add_argument("--layers", type=int, default=1, help="stacked bidirectional layers")
    g.add_argument("--hidden", type=int, default=100, help="hidden units per direction")
    g.add_argument("--embed", type=int, default=100, help="word embedding size")
    g.add_argument("--char-embed", type=int, default=25, help="character embedding size")
    g.add_argument("--char-hidden", type=int, default=25, help="character units per direction")
    g.add_argument("--case-embed", type=int, default=8, help="casing feature size (0: none)")
    g.add_argument("--dropout", type=float, default=0.5, help="dropout probability")
    g.add_argument("--singleton-unk", type=float, default=0.5,
                   help="probability of training a word seen once as <unk>")  # fmt: skip
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=int, default=32, help="sentences per batch")
    add_training_args(g, lr=2e-3, out="runs/tag", epochs=20, patience=5)
    p.set_defaults(func=cmd_train_tag)


def cmd_train_tag(args) -> int:
    from rnnlab.models.tagger import TaggerConfig
    from rnnlab.tasks.tag import TagJob, train_tagger

    with as_usage_error():
        job = TagJob(
            data=args.data, out=args.out, dev=args.dev, target=args.target, scheme=args.scheme,
            chars=args.char, max_vocab=args.max_vocab, min_freq=args.min_freq,
            max_sentences=args.max_sentences, batch_size=args.batch_size,
            model=TaggerConfig(
                vocab_size=1, num_tags=1, cell=args.cell, embed_dim=args.embed,
                char_dim=args.char_embed, char_hidden=args.char_hidden, case_dim=args.case_embed,
                hidden_size=args.hidden, num_layers=args.layers, dropout=args.dropout,
                crf=args.crf, singleton_unk=args.singleton_unk,
            ),
            train=train_config(args, monitor="f1", mode="max"),
            resume=args.resume,
        )  # fmt: skip
    result = run_training(train_tagger, job, args.out)
    if result is None:
        return 130
    for split, s in result.scores.items():
        f1 = f"  entity F1 {s['entities']['overall']['f1']:.4f}" if s["entities"] else ""
        print(f"{split}: token accuracy {s['accuracy']:.4f}{f1}")
    print_saved(args.out, "config.json, vocab.json, tags.json")
    return 0


def add_tag(sub) -> None:
    """``rnnlab tag MODEL TEXT ...``."""
    p = sub.add_parser("tag", help="tag the tokens of texts with a trained tagger",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train tag")
    p.add_argument("texts", nargs="*", help="texts to tag (split into words, case kept)")
    p.add_argument("--file", help="a file with one text per line")
    p.set_defaults(func=cmd_tag)


def load_tagger(path: str):
    return load_model(path, "tag")


def cmd_tag(args) -> int:
    model = load_tagger(args.model_dir)
    texts = list(args.texts) + (read_lines(args.file) if args.file else [])
    if not texts:
        raise UsageError("nothing to tag: give texts as arguments or --file FILE")
    for i, tagged in enumerate(model.tag(texts)):
        if i:
            print()
        print(" ".join(f"{w}/{t}" for w, t in zip(tagged.tokens, tagged.tags, strict=True)))
        for kind, start, end, text in tagged.entities:
            print(f"  {kind}\t{text}\t(tokens {start}-{end - 1})")
    return 0


def _registered_split(model, name: str, split: str):
    """The split of a registered dataset whose tags the model knows (its first such target)."""
    from rnnlab.data.tagging import get_tagging, load_tagged

    spec = get_tagging(name)
    if split not in spec.splits:
        raise UsageError(f"{name} has splits {', '.join(spec.splits)}, not {split!r}")
    known = set(model.tag_names)
    for target in spec.targets:
        with as_usage_error():  # a scheme the dataset's tags cannot take
            data = load_tagged(name, split, target, model.scheme)
        if data.scheme == model.scheme and {t for s in data.tags for t in s} <= known:
            return data
    raise UsageError(f"the tags of {name} ({', '.join(spec.targets)}) are not the model's "
                     f"({', '.join(model.tag_names[:6])}...)")  # fmt: skip


def cmd_evaluate(model, args) -> int:
    """``rnnlab evaluate`` for a tagger: token accuracy and entity scores per type."""
    from rnnlab.data.tagging import read_tagged_path, tagging_names
    from rnnlab.metrics import format_entity_table
    from rnnlab.tasks.tag import evaluate_tagger

    if args.data in tagging_names():
        data, where = _registered_split(model, args.data, args.split), f"{args.data} {args.split}"
    elif Path(args.data).is_file():
        data, where = read_tagged_path(args.data, scheme=model.scheme), args.data
    else:
        raise UsageError(f"{args.data!r} is neither a known tagging dataset "
                         f"({', '.join(tagging_names())}) nor an existing file")  # fmt: skip
    if data.scheme != model.scheme:
        raise UsageError(f"{where} has tags in scheme {data.scheme}, the model's are in "
                         f"{model.scheme}: evaluate it on data with the tags it knows")  # fmt: skip
    unknown = sorted({t for tags in data.tags for t in tags} - set(model.tag_names))
    if unknown:
        raise UsageError(f"{where} has tags the model does not know: {unknown[:5]} (it knows "
                         f"{', '.join(model.tag_names[:8])}...)")  # fmt: skip
    s = evaluate_tagger(model, data)
    print(f"{where} ({s['sentences']:,} sentences, {s['tokens']:,} tokens): "
          f"token accuracy {s['accuracy']:.4f}")  # fmt: skip
    if s["entities"] is not None:
        print(format_entity_table(s["entities"]))
    return 0


TASK = register(TaskCLI(
    "tag", "a sequence tagger", "rnnlab tag", cmd_evaluate,
    "--data a registered dataset (conll2003, conll2000, ud_english_lines) and --split one of its "
    "splits, or a tagged file (CoNLL columns, .conllu, token<TAB>tag lines); token accuracy and "
    "entity precision/recall/F1 per type",
))  # fmt: skip
