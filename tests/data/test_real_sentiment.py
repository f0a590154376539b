"""The real datasets of $RNNLAB_DATA, held against the counts in their SOURCE.md files."""

from collections import Counter

import pytest

from rnnlab import data
from rnnlab.data import sentiment
from rnnlab.data.sentiment import BINARY_LABELS, SST5_LABELS, parse_sst

pytestmark = pytest.mark.data


@pytest.fixture
def mirror(data_root, monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))  # must stay unused
    yield data_root
    assert not (tmp_path / "cache").exists()


# examples per class, from shared/data/sentiment/sst/SOURCE.md and sst_trees/SOURCE.md; the
# SST-2 dev class counts are not in them: counted with `cut -c1 stsa.binary.dev | sort | uniq -c`
SST = {
    "sst2": {"train": [3310, 3610], "dev": [428, 444], "test": [912, 909]},
    "sst5": {
        "train": [1092, 2218, 1624, 2322, 1288],
        "dev": [139, 289, 229, 279, 165],
        "test": [279, 633, 389, 510, 399],
    },
}


FIRST = {  # the first tree of train.txt: its root is labelled 3
    "sst2": (1, "The Rock is destined to be the 21st Century 's new `` Conan '' and that he 's"),
    "sst5": (3, "The Rock is destined to be the 21st Century 's new `` Conan '' and that he 's"),
}


@pytest.mark.parametrize("name", ["sst2", "sst5"])
def test_sst_counts(mirror, name):
    splits = data.load_splits(name, progress=False)
    assert {s: ex.class_counts() for s, ex in splits.items()} == SST[name]
    assert {s: len(ex) for s, ex in splits.items()} == (
        {"train": 6920, "dev": 872, "test": 1821}
        if name == "sst2"
        else {"train": 8544, "dev": 1101, "test": 2210}
    )
    first = splits["train"]
    assert first.texts[0].startswith(FIRST[name][1]) and first.labels[0] == FIRST[name][0]
    for examples in splits.values():
        assert all(text and text == " ".join(text.split(" ")) for text in examples.texts)
        assert not any(e in t for t in examples.texts for e in ("-LRB-", "-RRB-", "\\/", "\\*"))


def _kim_form(text):
    """A tree sentence as Kim (2014)'s files write it: lower-cased, PTB escapes kept."""
    for char, escape in (("(", "-lrb-"), (")", "-rrb-"), ("/", "\\/"), ("*", "\\*")):
        text = text.replace(char, escape)
    return text.lower()


@pytest.mark.parametrize("name, prefix", [("sst2", "binary"), ("sst5", "fine")])
def test_sst_sentences_are_kim_s_sentences(mirror, name, prefix):
    """The trees' sentences and labels are those of Kim's stsa.* files (in another order)."""
    label_names = BINARY_LABELS if name == "sst2" else SST5_LABELS
    for split, examples in data.load_splits(name, progress=False).items():
        kim = parse_sst(mirror / "sentiment" / "sst" / f"stsa.{prefix}.{split}", label_names)
        ours = Counter(zip(map(_kim_form, examples.texts), examples.labels, strict=True))
        assert ours == Counter(zip(kim.texts, kim.labels, strict=True)), split


def test_sst_phrases(mirror):
    """shared/data/sentiment/sst_trees/SOURCE.md: 159,274 distinct phrases, 77,616 not neutral."""
    fine, binary = data.load("sst5", "phrases"), data.load("sst2", "phrases")
    assert len(fine) == 159_274 and len(binary) == 77_616
    c = fine.class_counts()
    assert binary.class_counts() == [c[0] + c[1], c[3] + c[4]]  # the same phrases, mapped
    assert len(set(fine.texts)) == len(fine)
    sentences = data.load("sst5", "train")
    assert fine.texts[0] == sentences.texts[0] and fine.labels[0] == sentences.labels[0]
    assert set(sentences.texts) <= set(fine.texts)  # every training sentence is a phrase too


def test_review_polarity_counts(mirror):
    splits = data.load_splits("review_polarity", progress=False)
    assert {s: ex.class_counts() for s, ex in splits.items()} == {
        "train": [800, 800],
        "dev": [100, 100],
        "test": [100, 100],
    }
    # SOURCE.md: 1,492,663 whitespace tokens in all, as GNU `wc -w` counts them: it ignores 18
    # "words" made only of control characters (0x05, 0x12-0x16, in 4 reviews)
    words = [w for ex in splits.values() for t in ex.texts for w in t.split()]
    assert sum(any(c.isprintable() for c in w) for w in words) == 1_492_663
    assert len(words) == 1_492_663 + 18
    assert len(set(splits["train"].texts) & set(splits["test"].texts)) == 0


def test_imdb_from_the_mirror_s_repack(mirror):
    """shared/data/sentiment/imdb/SOURCE.md: 25,000 train and 25,000 test reviews, each
    balanced, 50,000 unlabelled; the mirror holds the repack aclImdb.tar.gz only."""
    assert not (mirror / "sentiment" / "imdb" / "aclImdb_v1.tar.gz").exists()
    splits = data.load_splits("imdb", progress=False)
    assert {s: len(ex) for s, ex in splits.items()} == {"train": 22500, "dev": 2500, "test": 25000}
    assert splits["test"].class_counts() == [12500, 12500]
    train, dev = splits["train"].class_counts(), splits["dev"].class_counts()
    assert [a + b for a, b in zip(train, dev, strict=True)] == [12500, 12500]
    assert min(train) > 11000 and min(dev) > 1200  # the seeded 10% is not stratified
    read = sentiment._read_aclimdb_archive.cache_info().misses
    unsup = data.load("imdb", "unsup", progress=False)
    assert sentiment._read_aclimdb_archive.cache_info().misses == read  # the archive read once
    assert isinstance(unsup, list) and len(unsup) == 50_000
    assert all(isinstance(t, str) and t and t == " ".join(t.split()) for t in unsup)
    assert not any("<br" in t for t in unsup + splits["test"].texts)
