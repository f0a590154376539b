"""The ``rnnlab`` command: one short function per subcommand.

    rnnlab train classify --data sst2 --cell lstm --bidirectional --epochs 10 --out runs/sst2
    rnnlab predict runs/sst2 "an enjoyable one-time-watch for the funny punchlines"
    rnnlab evaluate runs/sst2 --data sst2 --split test
    rnnlab train lm --data tinyshakespeare --level char --layers 2 --hidden 256 --out runs/shake
    rnnlab sample runs/shake --prompt "ROMEO:" --max-tokens 300 --temperature 0.8 --seed 1
    rnnlab score runs/ptb "the company said it expects" "company the said expects it"
    rnnlab evaluate runs/ptb --data ptb --split test
    rnnlab demo                      # RNN vs LSTM vs GRU on parity, pictures in runs/demo
    rnnlab inspect gradient-flow | sensitivity | gates TEXT | summary
    rnnlab bench dependencies --cells rnn,lstm,gru --lengths 10,20,50,100,200

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
    g.add_argument("--max-minutes", type=float,
                   help="stop after this much training time (evaluation not counted); "
                        "--resume goes on")  # fmt: skip
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
        lr_decay=args.lr_decay, decay_after=args.decay_after, max_minutes=args.max_minutes,
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
    if result.budget_spent:
        print(f"the {args.max_minutes:g}-minute budget is spent after {len(result.history)} "
              "finished epochs; continue with the same command and --resume")  # fmt: skip
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
    print(f"{where} ({int(metrics['tokens']):,} {unit}): {_per_token(metrics, model.level)}")
    return 0


# ---- rnnlab demo, rnnlab inspect ..., rnnlab bench dependencies ------------------------------
def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _cell_list(text: str) -> tuple[str, ...]:
    cells = tuple(c.strip() for c in text.split(",") if c.strip())
    bad = [c for c in cells if c not in ("rnn", "lstm", "gru")]
    if bad or not cells:
        raise argparse.ArgumentTypeError(f"cells are rnn, lstm, gru (comma-separated): {text!r}")
    return cells


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="RNN vs LSTM vs GRU on parity: who learns which length, "
                       "and why (about two minutes, no download)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("--steps", type=int, default=1000, help="training budget per cell and length")
    p.add_argument("--lengths", type=_int_list, default="5,10,20,50",
                   help="string lengths L (trained on 1..L bits)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/demo", help="folder for the pictures")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from rnnlab.inspect import format_at_steps
    from rnnlab.tasks.demo import DemoConfig, run_demo
    from rnnlab.tasks.dependencies import format_table

    config = DemoConfig(lengths=args.lengths, steps=args.steps, seed=args.seed, out=args.out,
                        progress=not args.no_progress)  # fmt: skip
    print("rnnlab demo: parity of bit strings, e.g. 1000010101 -> YES (even number of ones), "
          "100011 -> NO (odd)")  # fmt: skip
    print(f"a vanilla RNN, an LSTM and a GRU ({config.hidden_size} units) each train on strings "
          f"of 1..L bits, 64 a step, for at most {config.steps} steps per L (stopping once "
          "solved)\n")  # fmt: skip
    result = run_demo(config)
    print("\naccuracy on 1,000 new strings of exactly L bits (chance 0.5); @step: solved "
          "(>= 99% on a dev set) at that step, x: not within the budget")  # fmt: skip
    print(format_table(result.results, "accuracy"))
    print()
    for cell, longest in result.learned_up_to().items():
        said = f"learned parity up to L={longest}" if longest else "learned none of the lengths"
        if cell in result.transfer:
            _, acc = result.transfer[cell]
            said += f"; that model scores {acc:.3f} on strings of {config.flow_length} bits"
        print(f"{cell:>4}: {said}")
    flow = result.flow
    print(f"\n||dL/dh_t|| on strings of {flow.length} bits (loss at the last step; float64):")
    print(format_at_steps({k: f.curve() for k, f in flow.flows.items()}))
    e = flow.exploding
    print(f"vanilla RNN with weight_hh ~ N(0, {flow.gain:g}^2/H): ||dL/dh_1|| "
          f"{float(e.curve()[0]):.2e}, parameter gradient norm {e.grad_norm:.2e}; "
          f"clip_grad_norm_({flow.clip_norm:g}) scales every step by {e.clip_coef:.2e} (same "
          "shape, bounded update)")  # fmt: skip
    print(f"\ntook {result.seconds:.0f} s; pictures:")
    for path in result.pictures.values():
        print(f"  {path}")
    return 0


def _add_inspect(sub) -> None:
    p = sub.add_parser("inspect", help="look inside recurrent models (pictures + numbers)")
    kinds = p.add_subparsers(dest="what", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter

    p = kinds.add_parser("gradient-flow", formatter_class=fmt,
                         help="||dL/dh_t|| over time per cell; explosion and clipping")  # fmt: skip
    p.add_argument("--cells", type=_cell_list, default="rnn,lstm,gru", help="cells")
    p.add_argument("--length", type=int, default=100, help="bits in the parity strings")
    p.add_argument("--hidden", type=int, default=32, help="hidden units")
    p.add_argument("--batch-size", type=int, default=32, help="strings in the batch")
    p.add_argument("--gain", type=float, default=3.0, help="large recurrent init: weight_hh ~ "
                   "N(0, gain^2/H)")  # fmt: skip
    p.add_argument("--clip", type=float, default=1.0, help="clip_grad_norm_ max norm")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/inspect/gradient_flow.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect_gradient_flow)

    p = kinds.add_parser("sensitivity", formatter_class=fmt,
                         help="how much each output step depends on the first input")  # fmt: skip
    p.add_argument("--cells", type=_cell_list, default="rnn,lstm,gru", help="cells")
    p.add_argument("--length", type=int, default=50, help="time steps")
    p.add_argument("--hidden", type=int, default=32, help="hidden units")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/inspect/sensitivity.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect_sensitivity)

    p = kinds.add_parser("gates", formatter_class=fmt,
                         help="per-token LSTM/GRU gate activations as heatmaps")  # fmt: skip
    p.add_argument("text", help="a text for --model, or a bit string such as 1000010101")
    p.add_argument("--model", help="a model directory written by rnnlab train; without it, a "
                   "parity model of --cell is trained on the spot (seconds)")  # fmt: skip
    p.add_argument("--cell", choices=("lstm", "gru"), default="lstm", help="parity model's cell")
    p.add_argument("--layer", type=int, default=0, help="layer of the stack")
    p.add_argument("--direction", type=int, default=0, help="0 forward, 1 backward")
    p.add_argument("--units", type=int, default=32, help="units to draw")
    p.add_argument("--out", default="runs/inspect/gates.png", help="the PNG to write")
    p.set_defaults(func=cmd_inspect_gates)

    p = kinds.add_parser("summary", formatter_class=fmt,
                         help="Keras-style table: shapes, parameters, formulas")  # fmt: skip
    p.add_argument("--model", help="a model directory; without it, the lecture's example "
                   "Embedding(vocab, embed) -> cell(hidden) -> Dense(1)")  # fmt: skip
    p.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="cell")
    p.add_argument("--vocab", type=int, default=10000, help="vocabulary size")
    p.add_argument("--embed", type=int, default=32, help="embedding size")
    p.add_argument("--hidden", type=int, default=100, help="hidden units")
    p.add_argument("--layers", type=int, default=1, help="stacked layers")
    p.add_argument("--bidirectional", action="store_true", help="two directions")
    p.add_argument("--max-len", type=int, default=600, help="tokens in the example input")
    p.set_defaults(func=cmd_inspect_summary)


def cmd_inspect_gradient_flow(args) -> int:
    import torch

    from rnnlab.data.synthetic import TASKS
    from rnnlab.inspect import format_at_steps
    from rnnlab.inspect.plots import plot_gradient_flow
    from rnnlab.tasks.demo import flow_experiment
    from rnnlab.tasks.dependencies import build_model

    models = {}
    for cell in args.cells:
        torch.manual_seed(args.seed)
        models[f"{cell} at init"] = build_model(cell, TASKS["parity"], args.hidden)
    flow = flow_experiment(models, args.length, args.hidden, args.batch_size, args.gain,
                           args.clip, args.seed)  # fmt: skip
    print(f"||dL/dh_t|| on {args.batch_size} parity strings of {args.length} bits, loss at the "
          f"last step, {args.hidden} units, freshly initialised (LSTM forget bias 1):")  # fmt: skip
    curves = {k: f.curve() for k, f in flow.flows.items()}
    e = flow.exploding
    curves[f"rnn, gain {args.gain:g}"] = e.curve()
    curves[f"  after clipping (x{e.clip_coef:.1e})"] = e.clipped_curve()
    print(format_at_steps(curves))
    print(f"parameter gradient norm with the large init: {e.grad_norm:.3e}, after "
          f"clip_grad_norm_({args.clip:g}): {e.clipped_grad_norm:.3e}")  # fmt: skip
    print(f"wrote {plot_gradient_flow(flow.panels(), args.out)}")
    return 0


def cmd_inspect_sensitivity(args) -> int:
    import torch

    from rnnlab.data.synthetic import TASKS, parity
    from rnnlab.inspect import format_at_steps, sensitivity
    from rnnlab.inspect.plots import plot_sensitivity
    from rnnlab.tasks.dependencies import build_model

    x = parity(1, args.length, torch.Generator().manual_seed(args.seed), args.length).x[0]
    maps = {}
    for cell in args.cells:
        torch.manual_seed(args.seed)
        layer = build_model(cell, TASKS["parity"], args.hidden).rnn.double()
        maps[cell] = sensitivity(layer, x.double()).norms
    print(f"||dh_t/dx_1|| over {args.length} steps of random bits, {args.hidden} units, "
          "freshly initialised (LSTM forget bias 1), float64:")  # fmt: skip
    print(format_at_steps({cell: m.norm(dim=1) for cell, m in maps.items()}))
    print(f"wrote {plot_sensitivity(maps, args.out)}")
    return 0


def cmd_inspect_gates(args) -> int:
    from rnnlab.inspect import gate_activations
    from rnnlab.inspect.plots import plot_gates

    if args.model:
        model, inputs = _load_model(args.model), args.text
    else:
        inputs = _bits(args.text)  # checked before the model trains
        model = _parity_model(args.cell)
    acts = gate_activations(model, inputs, layer=args.layer, direction=args.direction,
                            tokens=None if args.model else list(args.text))  # fmt: skip
    means = acts.means()
    print("token".ljust(16) + "".join(f"{name:>9}" for name in means) + "   (mean over units)")
    for t, token in enumerate(acts.tokens):
        print(token[:15].ljust(16) + "".join(f"{float(m[t]):>9.3f}" for m in means.values()))
    print(f"wrote {plot_gates(acts, args.out, units=args.units)}")
    return 0


def _bits(text: str):
    import torch

    if not text or set(text) - {"0", "1"}:
        raise UsageError(f"without --model the text must be a bit string like 1000010101, "
                         f"got {text!r}")  # fmt: skip
    return torch.nn.functional.one_hot(torch.tensor([int(b) for b in text]), 2).float()


def _parity_model(cell: str):
    from rnnlab.tasks.dependencies import BenchConfig, train_run

    run = train_run(cell, 10, BenchConfig(cells=(cell,), lengths=(10,), steps=500, progress=False))
    print(f"trained a {cell} on parity of 1..10 bits: accuracy {run.scores['accuracy']:.3f} after "
          f"{run.steps} steps")  # fmt: skip
    return run.model


def cmd_inspect_summary(args) -> int:
    import torch

    from rnnlab.inspect import summary
    from rnnlab.models.classifier import ClassifierConfig, SequenceClassifier

    if args.model:
        model = _load_model(args.model)
    else:
        model = SequenceClassifier(ClassifierConfig(
            vocab_size=args.vocab, num_classes=2, cell=args.cell, embed_dim=args.embed,
            hidden_size=args.hidden, num_layers=args.layers, bidirectional=args.bidirectional,
            dropout=0.0,
        ))  # fmt: skip
    ids = torch.ones(1, args.max_len, dtype=torch.long)  # one example of max_len tokens
    if isinstance(model, SequenceClassifier):
        table = summary(model, ids, torch.tensor([args.max_len]))
    else:
        table = summary(model, ids)
    print(table)
    return 0


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks")
    kinds = p.add_subparsers(dest="what", required=True)
    p = kinds.add_parser("dependencies", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                         help="every cell at every length, one budget each")  # fmt: skip
    p.add_argument("--task", choices=("parity", "adding", "copy"), default="parity",
                   help="parity of 1..L bits, adding problem of length L, or recall after a "
                        "delay of L")  # fmt: skip
    p.add_argument("--cells", type=_cell_list, default="rnn,lstm,gru", help="cells")
    p.add_argument("--lengths", type=_int_list, default="10,20,50,100,200", help="lengths L")
    p.add_argument("--steps", type=int, default=1000, help="budget: training steps per run")
    p.add_argument("--hidden", type=int, default=32, help="hidden units")
    p.add_argument("--batch-size", type=int, default=64, help="sequences per step")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default="runs/bench/dependencies.png", help="the PNG to write")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_bench_dependencies)


def cmd_bench_dependencies(args) -> int:
    import time

    from rnnlab.data.synthetic import TASKS
    from rnnlab.inspect.plots import plot_metric_vs_length
    from rnnlab.tasks.dependencies import BenchConfig, format_table, result_table, run_bench

    config = BenchConfig(task=args.task, cells=args.cells, lengths=args.lengths,
                         steps=args.steps, hidden_size=args.hidden, batch_size=args.batch_size,
                         lr=args.lr, seed=args.seed, progress=not args.no_progress)  # fmt: skip
    task = TASKS[args.task]
    start = time.perf_counter()
    results = run_bench(config)
    seconds = time.perf_counter() - start
    print(f"{task.name}: {task.description}; {args.hidden} units, at most {args.steps} steps of "
          f"{args.batch_size}; test {task.metric} (chance {task.chance:.3g}); @step: solved "
          "then, x: not within the budget")  # fmt: skip
    print(format_table(results, task.metric))
    if task.metric != "accuracy":
        print("share within 0.04 of the target (Hochreiter & Schmidhuber's criterion):")
        print(format_table(results, "accuracy"))
    print(f"took {seconds:.0f} s")
    table = result_table(results, task.metric)
    title = f"{task.name}: {task.description}, at most {args.steps} steps each"
    print(f"wrote {plot_metric_vs_length(table, args.out, task.metric, task.chance, title)}")
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

    _add_demo(sub)
    _add_inspect(sub)
    _add_bench(sub)
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
