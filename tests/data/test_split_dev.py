import pytest

from rnnlab.data import LabelledTexts, split_dev


def examples(n):
    return LabelledTexts([f"t{i}" for i in range(n)], [i % 3 for i in range(n)], ["a", "b", "c"])


def test_sizes_disjoint_and_complete():
    train, dev = split_dev(examples(95), fraction=0.1, seed=0)
    assert (len(train), len(dev)) == (85, 10)  # round(9.5) == 10
    assert sorted(train.texts + dev.texts, key=lambda t: int(t[1:])) == examples(95).texts
    assert not set(train.texts) & set(dev.texts)
    assert train.label_names == dev.label_names == ["a", "b", "c"]
    for part in (train, dev):  # texts keep their labels and original order
        assert all(y == int(t[1:]) % 3 for t, y in zip(part.texts, part.labels, strict=True))
        assert [int(t[1:]) for t in part.texts] == sorted(int(t[1:]) for t in part.texts)


def test_seeded():
    assert split_dev(examples(50), seed=3) == split_dev(examples(50), seed=3)
    assert split_dev(examples(50), seed=3)[1].texts != split_dev(examples(50), seed=4)[1].texts


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction"):
        split_dev(examples(20), fraction=fraction)


@pytest.mark.parametrize("n", [1, 4])
def test_too_few_examples(n):
    with pytest.raises(ValueError, match=f"of {n} examples"):
        split_dev(examples(n), fraction=0.1)
