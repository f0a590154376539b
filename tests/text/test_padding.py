"""pad_sequences against cases worked out from Keras' documentation of
``keras.utils.pad_sequences`` (the first four are the doc's own examples)."""

import numpy as np
import pytest

from rnnlab.text import pad_sequences

SEQ = [[1], [2, 3], [4, 5, 6]]


@pytest.mark.parametrize(
    "sequences, kwargs, expected",
    [
        # Keras doc: default zero pre-padding to the longest sequence
        (SEQ, {}, [[0, 0, 1], [0, 2, 3], [4, 5, 6]]),
        # Keras doc: value=-1
        (SEQ, {"value": -1}, [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]),
        # Keras doc: padding="post"
        (SEQ, {"padding": "post"}, [[1, 0, 0], [2, 3, 0], [4, 5, 6]]),
        # Keras doc: maxlen=2 truncates "pre", i.e. drops from the start: [4,5,6] -> [5,6]
        (SEQ, {"maxlen": 2}, [[0, 1], [2, 3], [5, 6]]),
        # truncating="post" drops from the end: [4,5,6] -> [4,5]
        (SEQ, {"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]]),
        # padding and truncating are independent
        (SEQ, {"maxlen": 2, "padding": "post", "truncating": "post"}, [[1, 0], [2, 3], [4, 5]]),
        (SEQ, {"maxlen": 2, "padding": "post"}, [[1, 0], [2, 3], [5, 6]]),
        # maxlen longer than every sequence pads them all
        (SEQ, {"maxlen": 4}, [[0, 0, 0, 1], [0, 0, 2, 3], [0, 4, 5, 6]]),
        (SEQ, {"maxlen": 4, "padding": "post"}, [[1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]]),
        # maxlen=1 keeps the last id ("pre") or the first ("post")
        (SEQ, {"maxlen": 1}, [[1], [3], [6]]),
        (SEQ, {"maxlen": 1, "truncating": "post"}, [[1], [2], [4]]),
        # an empty sequence becomes a row of padding (Keras skips it)
        ([[], [7, 8]], {}, [[0, 0], [7, 8]]),
        ([[7, 8], []], {"padding": "post", "value": 9}, [[7, 8], [9, 9]]),
        # only empty sequences: width 0, as Keras (np.max of zero lengths)
        ([[], []], {}, np.zeros((2, 0))),
        # no sequences with a maxlen: shape (0, maxlen), as Keras
        ([], {"maxlen": 3}, np.zeros((0, 3))),
        # deviation: Keras raises on np.max([]); we return shape (0, 0)
        ([], {}, np.zeros((0, 0))),
        # deviation: Keras' s[-0:] keeps everything and then fails to broadcast; we give (N, 0)
        (SEQ, {"maxlen": 0}, np.zeros((3, 0))),
        # tuples and numpy arrays are sequences too
        ([(1, 2), np.array([3])], {}, [[1, 2], [0, 3]]),
    ],
)
def test_keras_table(sequences, kwargs, expected):
    out = pad_sequences(sequences, **kwargs)
    expected = np.asarray(expected)
    assert out.shape == expected.shape
    assert out.dtype == np.int32  # Keras' default dtype
    np.testing.assert_array_equal(out, expected)


def test_dtype_and_value_cast():
    out = pad_sequences([[1.5], [2.5, 3.5]], dtype="float32", value=0.25)
    np.testing.assert_array_equal(out, np.array([[0.25, 1.5], [2.5, 3.5]], dtype=np.float32))
    # Keras casts to int32 by default, truncating floats
    np.testing.assert_array_equal(pad_sequences([[1.7, 2.2]]), [[1, 2]])
    assert pad_sequences(SEQ, dtype="int64").dtype == np.int64


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"padding": "middle"}, "padding"),
        ({"truncating": "both"}, "truncating"),
        ({"padding": "Pre"}, "padding"),
        ({"maxlen": -1}, "maxlen"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(SEQ, **kwargs)
    with pytest.raises(ValueError, match=match):  # checked even with nothing to pad (Keras isn't)
        pad_sequences([[]], **kwargs)


def test_non_sequence_element():
    with pytest.raises(ValueError, match=r"sequences\[1\]"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="1-D"):
        pad_sequences([[[1, 2]]])


def _reference(seqs, maxlen, padding, truncating, value):
    """Plain-list padding, written from the documentation's words."""
    T = max(map(len, seqs)) if maxlen is None else maxlen
    rows = []
    for s in seqs:
        s = list(s)
        if len(s) > T:
            s = s[len(s) - T :] if truncating == "pre" else s[:T]
        fill = [value] * (T - len(s))
        rows.append(fill + s if padding == "pre" else s + fill)
    return rows


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 1, 3, 8])
def test_random_against_reference(padding, truncating, maxlen):
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 50, size=rng.integers(0, 7)).tolist() for _ in range(20)]
    seqs.append([1, 2, 3, 4, 5, 6])  # the longest is never empty
    out = pad_sequences(seqs, maxlen, padding=padding, truncating=truncating, value=-3)
    np.testing.assert_array_equal(out, _reference(seqs, maxlen, padding, truncating, -3))
