import json

import pytest

from rnnlab.text import SPECIALS, Vocab

CORPUS = [["b", "a", "c", "a"], ["c", "d", "a"], ["e"]]
# counts: a=3, c=2, b=1, d=1, e=1; first occurrences: b, a, c, d, e


def test_build_orders_by_frequency_then_first_occurrence():
    vocab = Vocab.build(CORPUS)
    assert vocab.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "c", "b", "d", "e"]
    assert [vocab[t] for t in ["a", "c", "b", "d", "e"]] == [4, 5, 6, 7, 8]
    assert len(vocab) == 9
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)


@pytest.mark.parametrize(
    "max_size, expected_real",
    [
        (None, ["a", "c", "b", "d", "e"]),
        (6, ["a", "c"]),  # max_size counts the 4 reserved ids (Keras' num_words)
        (4, []),  # only the reserved tokens
        (100, ["a", "c", "b", "d", "e"]),
    ],
)
def test_max_size_counts_reserved_ids(max_size, expected_real):
    vocab = Vocab.build(CORPUS, max_size=max_size)
    assert vocab.itos[4:] == expected_real
    if max_size is not None:
        assert len(vocab) <= max_size


def test_min_freq():
    assert Vocab.build(CORPUS, min_freq=2).itos[4:] == ["a", "c"]
    assert Vocab.build(CORPUS, min_freq=4).itos[4:] == []


def test_reserved_names_in_corpus_keep_their_ids():
    vocab = Vocab.build([["<unk>", "x", "<unk>", "<pad>"]])
    assert vocab.itos == [*SPECIALS, "x"]
    assert vocab.encode(["<unk>", "x"]) == [1, 4]


def test_encode_decode_and_lookup():
    vocab = Vocab.build(CORPUS)
    assert vocab.encode(["a", "zzz", "e"]) == [4, 1, 8]
    assert vocab.encode(["a"], add_bos=True, add_eos=True) == [2, 4, 3]
    assert vocab.encode([]) == []
    assert vocab["zzz"] == vocab.unk_id
    assert "a" in vocab and "zzz" not in vocab
    assert vocab.decode([2, 4, 1, 8, 3, 0]) == ["<bos>", "a", "<unk>", "e", "<eos>", "<pad>"]
    assert vocab.decode([2, 4, 1, 3, 0], skip_special=True) == ["a", "<unk>"]
    with pytest.raises(IndexError, match="outside"):
        vocab.decode([9])
    with pytest.raises(IndexError):
        vocab.decode([-1])
    with pytest.raises(TypeError):
        vocab.encode("a c")


@pytest.mark.parametrize(
    "kwargs, match",
    [({"max_size": 3}, "max_size"), ({"min_freq": 0}, "min_freq")],
)
def test_build_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Vocab.build(CORPUS, **kwargs)


def test_build_rejects_untokenised_strings():
    with pytest.raises(TypeError):
        Vocab.build(["an untokenised sentence"])


@pytest.mark.parametrize(
    "itos, match",
    [
        (["a", "<unk>", "<bos>", "<eos>"], "must start"),
        ([*SPECIALS, "a", "a"], "duplicate"),
        ([*SPECIALS, ""], "non-empty"),
    ],
)
def test_constructor_validates(itos, match):
    with pytest.raises(ValueError, match=match):
        Vocab(itos)


def test_save_load_roundtrip(tmp_path):
    vocab = Vocab.build(CORPUS + [["é", "日本"]])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert Vocab.load(path) == vocab
    assert Vocab.load(path).encode(["日本"]) == vocab.encode(["日本"])
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temp file left
    vocab2 = Vocab.build([["z"]])
    vocab2.save(path)  # overwrite in place
    assert Vocab.load(path).itos[4:] == ["z"]


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no vocabulary"):
        Vocab.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "rnnlab.vocab", "itos": [', encoding="utf-8")
    with pytest.raises(ValueError, match="corrupt"):
        Vocab.load(bad)
    bad.write_text(json.dumps({"itos": list(SPECIALS)}), encoding="utf-8")
    with pytest.raises(ValueError, match="not an rnnlab vocabulary"):
        Vocab.load(bad)
    payload = {"format": "rnnlab.vocab", "version": 1, "itos": ["<pad>", "x"]}
    bad.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ValueError, match="bad.json.*must start"):
        Vocab.load(bad)
