"""The real datasets of $RNNLAB_DATA, held against the counts in their SOURCE.md files."""

import pytest

from rnnlab import data

pytestmark = pytest.mark.data


@pytest.fixture
def mirror(data_root, monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_DATA", str(data_root))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))  # must stay unused
    yield data_root
    assert not (tmp_path / "cache").exists()


# examples per class, from shared/data/sentiment/sst/SOURCE.md; the dev class counts are not in
# SOURCE.md: they were counted with `cut -c1 stsa.*.dev | sort | uniq -c`
SST = {
    "sst2": {"train": [3310, 3610], "dev": [428, 444], "test": [912, 909]},
    "sst5": {
        "train": [1092, 2218, 1624, 2322, 1288],
        "dev": [139, 289, 229, 279, 165],
        "test": [279, 633, 389, 510, 399],
    },
}


FIRST = {  # the first line of stsa.binary.train / stsa.fine.train
    "sst2": (1, "a stirring , funny and finally transporting"),
    "sst5": (4, "a stirring , funny and finally transporting"),
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
    assert all(text and text == text.strip() for text in first.texts)


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


def test_imdb_counts_if_mirrored(mirror):
    if not (mirror / "sentiment" / "imdb" / "aclImdb_v1.tar.gz").is_file():
        pytest.skip("aclImdb_v1.tar.gz is not in the mirror (download only)")
    splits = data.load_splits("imdb", progress=False)
    assert {s: len(ex) for s, ex in splits.items()} == {"train": 22500, "dev": 2500, "test": 25000}
    assert splits["test"].class_counts() == [12500, 12500]
