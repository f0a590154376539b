"""Tagging datasets by name: the registry, load_tagging_splits on a registered name or a user's
file (seeded dev, or a dev file), and the real datasets against their published counts."""

from __future__ import annotations

import doctest

import pytest

import rnnlab.data.tagging
from rnnlab.data import MissingDataError, load_tagging_splits, tagging_names
from rnnlab.data.conll import parse_token_tag, split_dev_sentences
from rnnlab.data.tagging import get_tagging, load_tagged, register_tagging
from rnnlab.metrics import spans


def test_module_doctest():
    result = doctest.testmod(rnnlab.data.tagging)
    assert result.attempted > 0 and result.failed == 0


def test_the_old_import_path_still_gives_the_readers():
    from rnnlab.data import conll
    from rnnlab.data.tagging import TaggedSentences, parse_conllu, read_tagged_path

    assert TaggedSentences is conll.TaggedSentences and parse_conllu is conll.parse_conllu
    assert read_tagged_path is conll.read_tagged_path


def test_the_registry():
    assert tagging_names() == ["conll2000", "conll2003", "ud_english_lines"]
    assert get_tagging("conll2003").targets == ("ner", "pos", "chunk")
    with pytest.raises(MissingDataError, match="unknown tagging dataset 'ontonotes'"):
        get_tagging("ontonotes")
    with pytest.raises(ValueError, match="already registered"):
        register_tagging(get_tagging("conll2000"))


def test_a_file_gives_train_and_a_seeded_or_given_dev(tmp_path):
    text = "".join(f"w{i}\tO\n\n" for i in range(50))
    path = tmp_path / "train.tsv"
    path.write_text(text)
    splits = load_tagging_splits(path, dev_fraction=0.2, seed=3)
    _, dev = split_dev_sentences(parse_token_tag(text, scheme=None), 0.2, seed=3)
    assert splits["dev"].tokens == dev.tokens
    given = tmp_path / "dev.tsv"
    given.write_text("Paris\tI-LOC\n")
    splits = load_tagging_splits(path, dev=given)
    assert len(splits["train"]) == 50 and splits["dev"].tags == [["B-LOC"]]
    with pytest.raises(MissingDataError, match="neither a known tagging dataset"):
        load_tagging_splits(tmp_path / "nope.tsv")


@pytest.mark.data
@pytest.mark.parametrize(
    "name, counts",
    [
        # sentences / tokens per split, from shared/data/tagging/*/SOURCE.md
        ("conll2003", {"train": (14041, 203621), "dev": (3250, 51362), "test": (3453, 46435)}),
        ("conll2000", {"train": (8042, 191307), "dev": (894, 20420), "test": (2012, 47377)}),
        ("ud_english_lines", {"train": (3457, 64684), "dev": (1118, 21637),
                              "test": (1121, 19984)}),
    ],
)  # fmt: skip
def test_registered_datasets_have_the_published_counts(data_root, monkeypatch, name, counts):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    assert name in tagging_names()
    splits = load_tagging_splits(name, progress=False)
    got = {s: (len(d), d.num_tokens()) for s, d in splits.items()}
    assert got == counts
    if name == "conll2000":  # the published train count is train + our dev
        assert counts["train"][0] + counts["dev"][0] == 8936


@pytest.mark.data
def test_conll2003_entities_survive_every_scheme(data_root, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    iob1 = load_tagged("conll2003", "test", scheme="IOB1", progress=False)
    bioes = load_tagged("conll2003", "test", scheme="BIOES", progress=False)
    a = [spans(t, "IOB1") for t in iob1.tags]
    assert a == [spans(t, "BIOES") for t in bioes.tags]
    assert sum(len(s) for s in a) == 5648  # entities in eng.testb (conlleval's count)
    assert iob1.tag_names() == ["O", "B-LOC", "B-MISC", "B-ORG", "I-LOC", "I-MISC", "I-ORG",
                                "I-PER"]  # fmt: skip
    upos = load_tagged("ud_english_lines", "dev", progress=False)
    assert len(upos.tag_names()) == 17 and upos.scheme is None
