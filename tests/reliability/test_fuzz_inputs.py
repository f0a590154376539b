"""Hypothesis fuzzing of what reads user input: tokenize, Vocab, pad_sequences and every file
reader of rnnlab.data (with rnnlab.audio's WAV reader and rnnlab.embeddings' vector files). Each
gets arbitrary input and mutations of a valid file (bytes flipped, cut, inserted, spliced); only
its documented errors may come out (rnnlab.errors / rnnlab.data.errors classes, or a plain
ValueError where its docstring says so), never an IndexError, KeyError, UnicodeError (a
ValueError too, so refused by name) or anything else. About 3,300 cases in all."""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.audio import read_wav
from rnnlab.data import DataError, read_midi, read_npz, read_trees, read_ts, write_midi
from rnnlab.data.conll import parse_conll2003, parse_conllu, parse_token_tag, read_tagged_path
from rnnlab.data.corpus import read_corpus_file
from rnnlab.data.files import load_tsv
from rnnlab.data.music import parse_music_json
from rnnlab.data.text_files import read_path
from rnnlab.data.timeseries import read_series_csv
from rnnlab.data.translation import read_parallel
from rnnlab.embeddings import KeyedVectors, read_vectors, write_vectors
from rnnlab.errors import UserError
from rnnlab.text import Vocab, pad_sequences, tokenize

DOCUMENTED = (DataError, UserError)  # what every reader may raise
# 150 cases per entry point, the same every run; RNNLAB_FUZZ_EXAMPLES=N: N fresh ones per entry
EXAMPLES = int(os.environ.get("RNNLAB_FUZZ_EXAMPLES", 0))
FUZZ = settings(
    max_examples=EXAMPLES or 150,
    deadline=None,
    derandomize=not EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def call(fn: Callable, *args, value_error: bool = False, **kwargs):
    """``fn(*args)``; an exception passes only if it is documented (``value_error``: a plain
    ValueError is too), never a UnicodeError."""
    allowed = (*DOCUMENTED, ValueError) if value_error else DOCUMENTED
    try:
        return fn(*args, **kwargs)
    except allowed as e:
        if isinstance(e, UnicodeError):
            raise AssertionError(f"{fn.__name__} leaked {type(e).__name__}: {e}") from e
        assert str(e), f"{fn.__name__} raised {type(e).__name__} without a message"
        return None


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """``seed`` with up to 4 edits (a byte flipped or set, a cut, an insertion, a splice of
    itself), or arbitrary bytes (1 draw in 8)."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.binary(max_size=300))
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert", "splice", "truncate"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[i] = draw(st.sampled_from([0, 0xFF, 0x80, 0xC3, ord("\n"), ord(","), ord(":")]))
        elif kind == "cut":
            del data[i : i + draw(st.integers(1, 16))]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "splice":
            j = draw(st.integers(0, len(data)))
            data[i:i] = data[j : j + draw(st.integers(1, 32))]
        elif kind == "truncate":
            del data[i:]
    return bytes(data)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory(prefix="rnnlab-fuzz-") as d:
        yield Path(d)


def _file(scratch: Path, name: str, data: bytes) -> Path:
    path = scratch / name
    path.write_bytes(data)
    return path


# ---- seeds: one valid file per format -------------------------------------------------------

CSV = b"month,sales,other\n" + b"".join(
    f"{2000 + i // 12}-{i % 12 + 1:02d},{20 + 5 * math.sin(i):.2f},{i}\n".encode()
    for i in range(30)
)
TS = b"""@problemName W
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b
@data
1.0,2.0,?,4.5:0.5,0.25,1e3,2:a
3,4:5,6:b
-1.5,2.5,3.5:0.1,0.2,0.3:a
"""
CONLL2003 = b"""-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""
CONLLU = b"""# sent_id = 1
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_
2-3\tdog's\t_\t_\t_\t_\t_\t_\t_\t_
3\truns\trun\tVERB\tVBZ\t_\t0\troot\t_\t_

1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_
"""
TOKEN_TAG = b"we\tO\nmet\tO\nAnna\tB-PER\nSmith\tI-PER\n\nin\tO\nParis\tB-LOC\n"
TREES = b"(3 (2 It) (4 (4 (2 's) (4 great)) (2 .)))\n(1 (2 a) (0 (0 dull) (2 film)))\n"
TSV = "a good film\tpos\nso bad\tneg\nbad then good\tpos\nnaïve — plot\tneg\n".encode()
TEXT = "The cat sat.\nOn the mat, naïvely — 42 times!\n\nEnd.\n".encode()
MUSIC = json.dumps({"train": [[[60, 64, 67], [62], []], [[72, 48]]], "valid": [[[60]]],
                    "test": [[[61, 65]]]}).encode()  # fmt: skip


def _wav_seed() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.arange(-400, 400, 8, dtype="<i2").tobytes())  # 50 stereo frames
    return buffer.getvalue()


def _npz_seed() -> bytes:
    buffer = io.BytesIO()
    x = np.random.default_rng(0).normal(size=(3, 5, 2))
    np.savez(buffer, X=x, y=np.array(["a", "b", "a"]))
    return buffer.getvalue()


def _midi_seed(scratch: Path) -> bytes:
    import torch

    roll = torch.zeros(6, 88)
    roll[0, [39, 43, 46]] = roll[1, 41] = roll[3, [20, 60]] = roll[5, 87] = 1
    write_midi(roll, scratch / "seed.mid")
    return (scratch / "seed.mid").read_bytes()


def _vectors_seed(scratch: Path, fmt: str) -> bytes:
    kv = KeyedVectors(
        ["king", "queen", "naïve", "a"], np.arange(12, dtype=np.float32).reshape(4, 3)
    )
    write_vectors(kv, scratch / f"seed.{fmt}", format=fmt)
    return (scratch / f"seed.{fmt}").read_bytes()


# ---- text functions -------------------------------------------------------------------------


@FUZZ
@given(text=st.text(max_size=200), level=st.sampled_from(["word", "char"]))
def test_tokenize(text, level):
    tokens = call(tokenize, text, level, value_error=True)
    if tokens is not None:
        assert tokens and all(isinstance(t, str) and t for t in tokens)


@FUZZ
@given(texts=st.lists(st.text(max_size=40), max_size=8), min_freq=st.integers(1, 3),
       max_size=st.none() | st.integers(4, 12), probe=st.lists(st.text(max_size=6), max_size=6),
       ids=st.lists(st.integers(-3, 20), max_size=6))  # fmt: skip
def test_vocab_build_encode_decode(texts, min_freq, max_size, probe, ids):
    tokens = [t.split() for t in texts]
    vocab = call(Vocab.build, tokens, min_freq=min_freq, max_size=max_size, value_error=True)
    if vocab is None:
        return
    encoded = vocab.encode(probe)
    assert all(0 <= i < len(vocab) for i in encoded)
    for toks in tokens:
        back = vocab.decode(vocab.encode(toks))
        assert back == [t if t in vocab else "<unk>" for t in toks]
    try:  # decode documents IndexError for an id outside the vocabulary: exactly then
        vocab.decode(ids)
        assert all(0 <= i < len(vocab) for i in ids)
    except IndexError:
        assert any(not 0 <= i < len(vocab) for i in ids)


@FUZZ
@given(data=mutated(json.dumps({"format": "rnnlab.vocab", "version": 1,
                                "itos": ["<pad>", "<unk>", "<bos>", "<eos>", "a", "naïve"]}
                               ).encode()))  # fmt: skip
def test_vocab_load(scratch, data):
    call(Vocab.load, _file(scratch, "vocab.json", data), value_error=True)


@FUZZ
@given(seqs=st.lists(st.lists(st.integers(-5, 100), max_size=8) | st.integers()
                     | st.text(max_size=3), max_size=6),
       maxlen=st.none() | st.integers(-2, 10), padding=st.sampled_from(["pre", "post", "mid"]),
       truncating=st.sampled_from(["pre", "post", "x"]))  # fmt: skip
def test_pad_sequences(seqs, maxlen, padding, truncating):
    out = call(pad_sequences, seqs, maxlen=maxlen, padding=padding, truncating=truncating,
               value_error=True)  # fmt: skip
    if out is not None:
        assert out.shape[0] == len(seqs)


# ---- file readers ---------------------------------------------------------------------------


TEXT_READERS = {
    "series_csv": (CSV, "s.csv", read_series_csv),
    "ts": (TS, "s.ts", read_ts),
    "conll_path": (TOKEN_TAG, "t.tsv", read_tagged_path),
    "conllu_path": (CONLLU, "t.conllu", read_tagged_path),
    "trees": (TREES, "trees.txt", read_trees),
    "tsv": (TSV, "c.tsv", load_tsv),
    "text": (TEXT, "t.txt", read_path),
    "corpus": (TEXT, "c.txt", lambda p: read_corpus_file(p, "word")),
    "music_json": (MUSIC, "m.json", parse_music_json),
}


@pytest.mark.parametrize("name", sorted(TEXT_READERS))
def test_text_file_readers(scratch, name):
    seed, filename, reader = TEXT_READERS[name]

    @FUZZ
    @given(data=mutated(seed))
    def fuzz(data):
        call(reader, _file(scratch, filename, data))

    reader(_file(scratch, filename, seed))  # the seed itself is valid
    fuzz()


@pytest.mark.parametrize("parse", [parse_conll2003, parse_conllu, parse_token_tag])
def test_conll_parsers_on_text(parse):
    seed = {parse_conll2003: CONLL2003, parse_conllu: CONLLU, parse_token_tag: TOKEN_TAG}[parse]

    @FUZZ
    @given(data=mutated(seed))
    def fuzz(data):
        call(parse, data.decode("utf-8", errors="replace"))

    parse(seed.decode())
    fuzz()


def test_parallel_files(scratch):
    src, tgt = b"ein hund\ndas gras\n", b"a dog\nthe grass\n"

    @FUZZ
    @given(a=mutated(src), b=mutated(tgt))
    def fuzz(a, b):
        call(read_parallel, _file(scratch, "p.src", a), _file(scratch, "p.tgt", b))

    fuzz()


@pytest.mark.parametrize("kind", ["wav", "npz", "midi", "word2vec", "glove", "bin"])
def test_binary_file_readers(scratch, kind):
    seed, filename, reader = {
        "wav": (_wav_seed(), "a.wav", read_wav),
        "npz": (_npz_seed(), "s.npz", read_npz),
        "midi": (_midi_seed(scratch), "m.mid", read_midi),
        "word2vec": (_vectors_seed(scratch, "word2vec"), "v.txt", read_vectors),
        "glove": (_vectors_seed(scratch, "glove"), "g.txt", read_vectors),
        "bin": (_vectors_seed(scratch, "word2vec-binary"), "v.bin", read_vectors),
    }[kind]

    @FUZZ
    @given(data=mutated(seed))
    def fuzz(data):
        call(reader, _file(scratch, filename, data))

    reader(_file(scratch, filename, seed))
    fuzz()
