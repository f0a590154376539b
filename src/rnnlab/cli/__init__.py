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
    rnnlab train speech --data fsdd --spec-augment --out runs/digits
    rnnlab transcribe runs/digits recording.wav
    rnnlab train speech --data fsdd --ctc --out runs/strings
    rnnlab inspect speech runs/strings several_digits.wav --out fig.png
    rnnlab train music --data jsb_chorales --cell gru --out runs/bach
    rnnlab sample runs/bach --steps 64 --temperature 0.8 --seed 1 --out chorale.mid
    rnnlab train forecast --data airline-passengers.csv --horizon 12 --log --seasonal-diff
    rnnlab forecast runs/forecast --steps 12 --out forecast.csv
    rnnlab train series --data japanese_vowels --cell gru --out runs/vowels
    rnnlab predict runs/vowels JapaneseVowels_TEST.ts
    rnnlab train embeddings --data imdb --epochs 3 --out runs/imdb_w2v
    rnnlab analogy runs/imdb_w2v man woman king          # queen (also a word2vec/GloVe file)
    rnnlab similar runs/imdb_w2v king --metric manhattan
    rnnlab evaluate runs/imdb_w2v --data questions-words  # or wordsim353, or a pairs file
    rnnlab inspect embeddings runs/imdb_w2v --words man:woman king:queen --out fig.png
    rnnlab serve runs/sst2 runs/shake runs/ner --port 8000  # JSON API and a page at /
    rnnlab export runs/sst2 --format onnx --out sst2.onnx   # also a tagger, a language model
    rnnlab train caption --data flickr8k --max-minutes 60 --anneal-to 0.05 --out runs/flickr
    rnnlab caption runs/flickr dog.jpg --beam 3 --show-attention fig.png
    rnnlab evaluate runs/flickr --data flickr8k --split test   # BLEU-1..4, 5 references
    rnnlab demo                      # RNN vs LSTM vs GRU on parity, pictures in runs/demo
    rnnlab inspect gradient-flow | sensitivity | gates TEXT | summary
    rnnlab bench dependencies --cells rnn,lstm,gru --lengths 10,20,50,100,200

Errors a user can cause (unknown dataset, unreadable file, empty text, labels that differ from the
model's, characters a character-level model has never seen, a resumed run with other settings)
end with one line on stderr and exit code 2 (``-v``: after their traceback). Any other exception
is a bug of rnnlab and shows its traceback (exit code 1).
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
import traceback
from pathlib import Path

from rnnlab.cli import classify, insight, lm
from rnnlab.cli import tag as tag_cli
from rnnlab.cli import translate as translate_cli

from rnnlab.cli import speech as speech_cli  # isort: skip (registers after the text tasks)
from rnnlab.cli import music as music_cli  # isort: skip
from rnnlab.cli import forecast as forecast_cli  # isort: skip
from rnnlab.cli import series as series_cli  # isort: skip
from rnnlab.cli import embeddings as embeddings_cli  # isort: skip
from rnnlab.cli import caption as caption_cli  # isort: skip
from rnnlab.cli import serve as serve_cli  # isort: skip
from rnnlab.cli import export as export_cli  # isort: skip
from rnnlab.cli.common import EXIT_USAGE, TASKS, UsageError, kind_of, load_model
from rnnlab.errors import UserError

__all__ = ["EXIT_USAGE", "UsageError", "build_parser", "main"]

# ``rnnlab evaluate MODEL`` hands the loaded model to its task's evaluator (config.json's "task");
# each task's CLI module registers its own (rnnlab.cli.common.register)
EVALUATORS = {name: task.evaluate for name, task in TASKS.items()}


def cmd_evaluate(args) -> int:
    if embeddings_cli.is_vector_query(args.model_dir, args.data):  # a vector file, or any
        # model's embedding on a word-vector test set
        model = None if Path(args.model_dir).is_file() else load_model(args.model_dir)
        return embeddings_cli.cmd_evaluate(model, args)
    model = load_model(args.model_dir)
    if model.task not in TASKS:
        raise UsageError(f"rnnlab evaluate does not know {kind_of(model.task)} ({args.model_dir})")
    if args.data is None and not TASKS[model.task].data_optional:
        raise UsageError(f"rnnlab evaluate needs --data for {kind_of(model.task)}: "
                         f"{TASKS[model.task].evaluate_data}")  # fmt: skip
    return TASKS[model.task].evaluate(model, args)


def _evaluate_help() -> str:
    """What ``rnnlab evaluate`` does for each kind of model it accepts."""
    lines = ["Score a trained model on held-out data; what --data and --split mean depends on "
             "the model:", ""]  # fmt: skip
    for task in TASKS.values():
        entry = f"{task.kind} (rnnlab train {task.name}): {task.evaluate_data}"
        lines.append(textwrap.fill(entry, 88, initial_indent="  ", subsequent_indent="      ",
                                   break_on_hyphens=False))  # fmt: skip
    return "\n".join(lines)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after every option's help, and a description printed as it is written."""


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
    speech_cli.add_train(tasks)
    music_cli.add_train(tasks)
    forecast_cli.add_train(tasks)
    series_cli.add_train(tasks)
    embeddings_cli.add_train(tasks)
    caption_cli.add_train(tasks)

    classify.add_predict(sub)
    kinds = ", ".join(task.kind.split(" ", 1)[1] for task in TASKS.values())  # no article
    p = sub.add_parser("evaluate", description=_evaluate_help(), formatter_class=_HelpFormatter,
                       help=f"score a trained model on held-out data ({kinds})")  # fmt: skip
    p.add_argument("model_dir", help="a directory written by rnnlab train")
    p.add_argument("--data",
                   help="what to score on, as the model's kind takes it (see above; required "
                        "unless the kind says otherwise)")  # fmt: skip
    p.add_argument("--split", default="test",
                   help="the split of a registered dataset or corpus")  # fmt: skip
    p.set_defaults(func=cmd_evaluate)
    lm.add_sample_and_score(sub)
    tag_cli.add_tag(sub)
    translate_cli.add_translate_and_bleu(sub)
    speech_cli.add_transcribe(sub)
    embeddings_cli.add_similar_and_analogy(sub)
    forecast_cli.add_forecast(sub)
    caption_cli.add_caption(sub)

    serve_cli.add_serve(sub)
    export_cli.add_export(sub)
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
    except (UserError, DataError, CheckpointError) as e:  # the user's to fix, not a bug
        if args.verbose:
            traceback.print_exc()
        print(f"rnnlab: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
