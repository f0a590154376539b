"""The ``rnnlab`` command: one short function per subcommand.

    rnnlab train classify --data sst2 --cell lstm --bidirectional --epochs 10 --out runs/sst2
    rnnlab predict runs/sst2 "an enjoyable one-time-watch for the funny punchlines"
    rnnlab evaluate runs/sst2 --data sst2 --split test
    rnnlab train lm --data tinyshakespeare --level char --layers 2 --hidden 256 --out runs/shake
    rnnlab sample runs/shake --prompt "ROMEO:" --max-tokens 300 --temperature 0.8 --seed 1
    rnnlab score runs/ptb "the company said it expects" "company the said expects it"
    rnnlab evaluate runs/ptb --data ptb --split test
    rnnlab train translate --data multi30k --src de --tgt en --attention bahdanau --out runs/mt
    rnnlab translate runs/mt "Ein Hund rennt durch das Gras." --beam 5 --show-attention att.png
    rnnlab bleu hyp.txt ref.txt [ref2.txt]
    rnnlab train tag --data conll2003 --crf --char --out runs/ner
    rnnlab tag runs/ner "Mohan was driving a Maruti"
    rnnlab evaluate runs/ner --data conll2003 --split test
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

from rnnlab.cli import classify, insight, lm
from rnnlab.cli import tag as tag_cli
from rnnlab.cli import translate as translate_cli
from rnnlab.cli.common import EXIT_USAGE, UsageError, load_model

__all__ = ["EXIT_USAGE", "UsageError", "build_parser", "main"]

# ``rnnlab evaluate MODEL`` hands the loaded model to its task's evaluator (config.json's "task").
EVALUATORS = {"classify": classify.cmd_evaluate, "lm": lm.cmd_evaluate}
EVALUATORS["tag"] = tag_cli.cmd_evaluate
EVALUATORS["translate"] = translate_cli.cmd_evaluate


def cmd_evaluate(args) -> int:
    from rnnlab.saved import config_of

    model = load_model(args.model_dir)
    return EVALUATORS[config_of(model)["task"]](model, args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rnnlab`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model for a task")
    tasks = train.add_subparsers(dest="task", required=True)
    classify.add_train(tasks)
    lm.add_train(tasks)
    tag_cli.add_train(tasks)
    translate_cli.add_train(tasks)

    classify.add_predict(sub)
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
    lm.add_sample_and_score(sub)
    tag_cli.add_tag(sub)
    translate_cli.add_translate_and_bleu(sub)

    insight.add_demo(sub)
    insight.add_inspect(sub)
    insight.add_bench(sub)
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
