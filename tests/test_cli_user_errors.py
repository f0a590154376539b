"""What a user gets wrong in their data or options, found only once the job runs (after the CLI
built it), is one line on stderr and exit code 2, not a traceback: dev fractions the data cannot
hold, a --target a file cannot give, languages a corpus does not have, texts too short for the
batch, vocabulary sizes below the reserved ids. The library raises these as user errors
(:class:`rnnlab.errors.InputError`, a ValueError) also where the CLI checks them first.

Every training command here fails before its first step, so the file runs in a few seconds and
needs no dataset: the registered corpora are asked for names, splits, targets and languages only,
which are checked before any file is read (a fetch would fail the test).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import rnnlab
from rnnlab import data, saved
from rnnlab.cli import main
from rnnlab.data import LabelledTexts, TaggedSentences
from rnnlab.data.corpus import corpus_from_text
from rnnlab.errors import InputError
from rnnlab.models.classifier import ClassifierConfig, TextClassifier
from rnnlab.models.language_model import LanguageModel, LMConfig
from rnnlab.models.tagger import SequenceTagger, TaggerConfig
from rnnlab.tasks.classify import loader
from rnnlab.tasks.language_model import encode_corpus
from rnnlab.tasks.tag import evaluate_tagger
from rnnlab.text import Vocab
from rnnlab.train import save_weights

TINY = ["--epochs", "1", "--no-progress", "--embed", "4", "--hidden", "4"]


def user_error(capsys, argv: list, *fragments: str) -> str:
    """Run ``rnnlab argv``; assert exit code 2 and one stderr line naming ``fragments``."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("rnnlab: error: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """Small generated inputs of every task."""
    tagged = "".join("Mohan\tB-PER\ndrives\tO\n\n" for _ in range(10))
    words = [(1, "Mohan", "PROPN", "NNP"), (2, "runs", "VERB", "VBZ")]  # CoNLL-U: 10 columns
    conllu = "".join(f"{i}\t{w}\t{w}\t{u}\t{x}\t_\t0\troot\t_\t_\n" for i, w, u, x in words)
    reviews = "".join(f"{w} film\t{w}\n" for w in ["good", "bad"] * 10)
    return {
        "tsv": write(tmp_path / "c.tsv", reviews),
        "tsv2": write(tmp_path / "c2.tsv", "good film\tgood\nbad film\tbad\n"),
        "tagged": write(tmp_path / "t.tsv", tagged),
        "tagged2": write(tmp_path / "t2.tsv", "Mohan\tB-PER\ndrives\tO\n\nParis\tB-LOC\n"),
        "conllu": write(tmp_path / "x.conllu", "\n".join([conllu] * 5)),
        "text": write(tmp_path / "lm.txt", "the cat sat on the mat\n" * 20),
        "line": write(tmp_path / "line.txt", "the cat\n"),
        "src": write(tmp_path / "s.txt", "ein hund\neine katze\n"),
        "tgt": write(tmp_path / "t.txt", "a dog\na cat\n"),
        "long_src": write(tmp_path / "ls.txt", ("a " * 100 + "\n") * 3),
        "long_tgt": write(tmp_path / "lt.txt", ("b " * 100 + "\n") * 3),
    }


@pytest.fixture
def no_fetch(monkeypatch):
    """Registered corpora may be named but not read: reading one fails the test."""

    def fetch(*args, **kwargs):
        raise AssertionError("a dataset file was fetched before the options were checked")

    monkeypatch.setattr("rnnlab.data.registry.fetch", fetch)
    monkeypatch.setattr("rnnlab.data.language_modeling.read_text", fetch)
    monkeypatch.setattr("rnnlab.data.tagging._file_text", fetch)
    monkeypatch.setattr("rnnlab.data.translation.fetch", fetch)


# ---- options the job takes, checked when the CLI builds it ------------------------------------


@pytest.mark.parametrize(
    "task, option, value, message",
    [
        ("classify", "--max-vocab", 2, "max_vocab counts the 4 reserved tokens"),
        ("classify", "--min-freq", 0, "min_freq must be a positive int, got 0"),
        ("classify", "--max-len", 0, "max_len must be >= 1 or None, got 0"),
        ("classify", "--batch-size", 0, "batch_size must be a positive int, got 0"),
        ("tag", "--max-vocab", 3, "max_vocab counts the 4 reserved tokens"),
        ("lm", "--max-vocab", 1, "max_vocab counts the 4 reserved tokens"),
        ("lm", "--dev-fraction", 1.5, "dev_fraction must be in (0, 1), got 1.5"),
        ("translate", "--max-vocab", 2, "max_vocab counts the 4 reserved tokens"),
        ("translate", "--dev-fraction", 0, "dev_fraction must be in (0, 1), got 0.0"),
    ],
)  # fmt: skip
def test_an_option_the_job_cannot_take(files, tmp_path, capsys, task, option, value, message):
    source = {"classify": ["--data", files["tsv"]], "tag": ["--data", files["tagged"]],
              "lm": ["--data", files["text"]],
              "translate": ["--src-file", files["src"], "--tgt-file", files["tgt"]]}  # fmt: skip
    source = source[task]
    user_error(capsys, ["train", task, *source, option, value, "--out", tmp_path / "run", *TINY],
               message)  # fmt: skip
    assert not (tmp_path / "run").exists()  # refused before anything was written


# ---- too little data for a held-out dev set ----------------------------------------------------


def test_classify_data_too_small_for_a_dev_set(files, tmp_path, capsys):
    user_error(capsys, ["train", "classify", "--data", files["tsv2"], "--out", tmp_path, *TINY],
               "cannot hold out 10% of 2 examples as a dev set", "explicit dev set")  # fmt: skip


def test_tag_data_too_small_for_a_dev_set(files, tmp_path, capsys):
    user_error(capsys, ["train", "tag", "--data", files["tagged2"], "--out", tmp_path, *TINY],
               "cannot hold out 10% of 2 sentences as dev", "give a dev file")  # fmt: skip


def test_lm_text_too_short_for_a_dev_tail(files, tmp_path, capsys):
    user_error(capsys, ["train", "lm", "--data", files["line"], "--out", tmp_path, *TINY],
               "cannot hold out the last 10%", "give more text")  # fmt: skip


def test_translate_dev_fraction_leaving_no_training_pair(files, tmp_path, capsys):
    user_error(capsys, ["train", "translate", "--src-file", files["src"], "--tgt-file",
                        files["tgt"], "--dev-fraction", "0.9", "--out", tmp_path, *TINY],
               "holding out 90% of 2 sentence pairs as dev leaves none to train on")  # fmt: skip


# ---- tagging: --target ------------------------------------------------------------------------


def test_target_on_a_file_with_one_tag_column(files, tmp_path, capsys):
    user_error(capsys, ["train", "tag", "--data", files["tagged"], "--target", "ner", "--out",
                        tmp_path, *TINY],
               "--target applies to registered datasets and .conllu files",
               "leave it out")  # fmt: skip


def test_target_a_conllu_file_does_not_have(files, tmp_path, capsys):
    user_error(capsys, ["train", "tag", "--data", files["conllu"], "--target", "ner", "--out",
                        tmp_path, *TINY],
               "target must be one of ('upos', 'xpos'), got 'ner'")  # fmt: skip


def test_target_a_registered_dataset_does_not_have(tmp_path, capsys, no_fetch):
    user_error(capsys, ["train", "tag", "--data", "conll2003", "--target", "upos", "--out",
                        tmp_path, *TINY],
               "conll2003 has targets ['ner', 'pos', 'chunk'], not 'upos'")  # fmt: skip


def test_a_dev_file_of_another_kind_of_tags(files, tmp_path, capsys):
    pos = write(tmp_path / "pos.tsv", "Mohan\tNNP\ndrives\tVBZ\n\n")
    user_error(capsys, ["train", "tag", "--data", files["tagged"], "--dev", pos, "--out",
                        tmp_path / "run", *TINY],
               "the dev data has tags without spans",
               "but the training data has span tags (IOB2)")  # fmt: skip
    assert not (tmp_path / "run").exists()  # refused before training


# ---- language model: the stream's rows --------------------------------------------------------


@pytest.mark.parametrize(
    "option, message",
    [
        ("--batch-size", "the training text, in batch_size=500 rows: a stream of"),
        ("--eval-batch-size", "the dev text, in eval_batch_size=500 rows: a stream of"),
    ],
)
def test_lm_text_too_short_for_the_rows(files, tmp_path, capsys, option, message):
    user_error(capsys, ["train", "lm", "--data", files["text"], option, "500", "--out", tmp_path,
                        *TINY],
               message, "use a smaller batch size or more text")  # fmt: skip


# ---- translation: corpus, languages, lengths --------------------------------------------------


@pytest.mark.parametrize(
    "languages, message",
    [
        (["--src", "xx"], "multi30k has languages ['en', 'de'], not 'xx': choose"),
        (["--src", "en", "--tgt", "en"], "source and target language are both 'en'"),
    ],
)
def test_languages_a_corpus_does_not_have(tmp_path, capsys, no_fetch, languages, message):
    user_error(capsys, ["train", "translate", "--data", "multi30k", *languages, "--out", tmp_path,
                        *TINY], message)  # fmt: skip


def test_a_corpus_and_files_together(files, tmp_path, capsys, no_fetch):
    user_error(capsys, ["train", "translate", "--data", "multi30k", "--src-file", files["src"],
                        "--tgt-file", files["tgt"], "--out", tmp_path, *TINY],
               "give either a registered corpus", "not both or neither")  # fmt: skip


def test_no_training_pair_short_enough(files, tmp_path, capsys):
    user_error(capsys, ["train", "translate", "--src-file", files["long_src"], "--tgt-file",
                        files["long_tgt"], "--dev-src", files["src"], "--dev-tgt", files["tgt"],
                        "--out", tmp_path / "run", *TINY],
               "none of the 3 training pairs has both sides within",
               "max_train_len=80 tokens")  # fmt: skip
    assert not (tmp_path / "run").exists()


# ---- rnnlab inspect ----------------------------------------------------------------------------


# ---- rnnlab evaluate on data that does not fit the model ---------------------------------------
# Already one line before the library raised InputError here (rnnlab evaluate checks labels and
# schemes itself); kept so that moving those checks cannot bring a traceback back.


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    words = Vocab.build([["a", "b", "c"]])
    torch.manual_seed(0)
    made = {
        "classify": TextClassifier(ClassifierConfig(len(words), 2, embed_dim=4, hidden_size=4),
                                   words, ["neg", "pos"]),
        "tag": SequenceTagger(TaggerConfig(len(words), 3, embed_dim=4, hidden_size=4), words,
                              ["O", "B-X", "I-X"], scheme="IOB2"),
    }  # fmt: skip
    for task, model in made.items():
        saved.save_config(model, root / task)
        save_weights(model, root / task / saved.WEIGHTS)
    return {task: root / task for task in made}


def test_evaluate_a_classifier_on_other_labels(models, tmp_path, capsys):
    other = write(tmp_path / "other.tsv", "a b\tyes\nb c\tno\n")
    user_error(capsys, ["evaluate", models["classify"], "--data", other],
               "label 'yes' is not one of the known labels ['neg', 'pos']")  # fmt: skip


def test_evaluate_a_tagger_on_tags_of_another_kind(models, tmp_path, capsys):
    pos = write(tmp_path / "pos.tsv", "a\tNN\nb\tVB\n\n")
    user_error(capsys, ["evaluate", models["tag"], "--data", pos],
               "has tags in scheme None, the model's are in IOB2")  # fmt: skip


# ---- the library: user errors where the CLI checks first ---------------------------------------


def test_the_library_raises_user_errors_for_the_users_mistakes(models, no_fetch):
    classifier, tagger = rnnlab.load(models["classify"]), rnnlab.load(models["tag"])
    other = LabelledTexts(["a b", "b c"], [0, 1], ["no", "yes"])
    pos = TaggedSentences([["a", "b"]], [["NN", "VB"]], None)
    unknown = TaggedSentences([["a", "b"]], [["B-Y", "O"]], "IOB2")
    words = Vocab.build([["a"]])
    word_lm = LanguageModel(LMConfig(len(words), embed_dim=4, hidden_size=4, num_layers=1), words)
    for call, message in [
        (lambda: loader(classifier, other, 2), "the data's labels ['no', 'yes'] differ"),
        (lambda: evaluate_tagger(tagger, pos), "the data's tags are in scheme None"),
        (lambda: evaluate_tagger(tagger, unknown), "tags the model does not know: ['B-Y']"),
        (lambda: encode_corpus(word_lm, corpus_from_text("ab\n", "char")), "a char-level corpus"),
        (lambda: data.load("sst2", "xx"), "sst2 has splits"),
        (lambda: data.load_corpus("ptb", "xx"), "ptb has splits"),
        (lambda: data.load_tagged("conll2003", "xx"), "conll2003 has splits"),
        (lambda: data.load_parallel("multi30k", "xx", "de", "en"), "multi30k has splits"),
    ]:
        with pytest.raises(InputError, match=re.escape(message)):
            call()


@pytest.mark.parametrize(
    "argv",
    [
        ["inspect", "sensitivity", "--length", "0"],
        ["inspect", "gradient-flow", "--hidden", "-3"],
        ["inspect", "gates", "0101", "--units", "0"],
        ["inspect", "summary", "--vocab", "zero"],
        ["bench", "dependencies", "--steps", "0"],
        ["demo", "--steps", "0"],
    ],
)
def test_sizes_and_counts_must_be_positive_integers(argv, capsys):
    """argparse refuses a size, length or count of the insight commands below 1 before anything
    is built (a message named an internal parameter, min_length, or torch failed)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[-2]}: expected a positive integer, got '{argv[-1]}'" in err


# ---- transfer from a language model (--pretrained) ---------------------------------------------


def test_pretrained_with_encoder_sizes_is_refused(files, tmp_path, capsys):
    user_error(capsys, ["train", "classify", "--data", files["tsv"], "--pretrained", tmp_path,
                        "--out", tmp_path / "run", *TINY],
               "--hidden, --embed: the encoder's sizes come from --pretrained")  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_pretrained_that_is_not_a_language_model(files, tmp_path, capsys):
    v = Vocab.build([["good", "film"]])
    clf = TextClassifier(ClassifierConfig(len(v), 2, embed_dim=4, hidden_size=4), v, ["a", "b"])
    saved.save_config(clf, tmp_path / "clf")
    save_weights(clf, tmp_path / "clf" / saved.WEIGHTS)
    user_error(capsys, ["train", "classify", "--data", files["tsv"], "--pretrained",
                        tmp_path / "clf", "--out", tmp_path / "run", "--epochs", "1",
                        "--no-progress"],
               "is a classify model, not a language model")  # fmt: skip


def test_pretrained_lm_with_a_vocabulary_option(files, tmp_path, capsys):
    v = Vocab.build([["good", "film"]])
    lm = LanguageModel(LMConfig(len(v), embed_dim=4, hidden_size=4, num_layers=1), v)
    saved.save_config(lm, tmp_path / "lm")
    save_weights(lm, tmp_path / "lm" / saved.WEIGHTS)
    user_error(capsys, ["train", "classify", "--data", files["tsv"], "--pretrained",
                        tmp_path / "lm", "--max-vocab", "100", "--out", tmp_path / "run",
                        "--epochs", "1", "--no-progress"],
               "uses its vocabulary: drop --max-vocab")  # fmt: skip
