"""rnnlab.data.series: the UEA/UCR .ts reader (variable length, missing values, class labels,
timestamps, every malformed file), .npz, the _TRAIN/_TEST pairing, and the real mirror files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from rnnlab.data import DataFormatError, MissingDataError
from rnnlab.data.series import (
    load_series,
    paired_test_file,
    read_npz,
    read_series_file,
    read_ts,
    series_names,
)

HEAD = """# a comment
@problemName Tiny
@timeStamps false
@missing {missing}
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down flat
@data
"""


def ts(tmp_path: Path, body: str, missing: str = "false", head: str = HEAD) -> Path:
    path = tmp_path / "tiny.ts"
    path.write_text(head.format(missing=missing) + body, encoding="utf-8")
    return path


def test_variable_length_series_are_padded_and_labelled_in_header_order(tmp_path):
    s = read_ts(ts(tmp_path, "1,2,3:4,5,6:down\n\n7,8:9,10:up\n0.5:-1e-3:flat\n"))
    assert s.name == "Tiny" and s.labels == ["up", "down", "flat"]
    assert s.X.shape == (3, 3, 2) and s.X.dtype == np.float32
    assert s.lengths.tolist() == [3, 2, 1] and s.y.tolist() == [1, 0, 2]
    np.testing.assert_array_equal(s.series(0), [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(s.X[1], [[7, 9], [8, 10], [0, 0]])  # zero padding
    np.testing.assert_allclose(s.series(2), [[0.5, -0.001]])
    assert s.class_counts() == {"up": 1, "down": 1, "flat": 1}


def test_question_marks_are_missing_values(tmp_path):
    s = read_ts(ts(tmp_path, "1,?,3:?,5,NaN:up\n", missing="true"))
    assert np.isnan(s.X[0, 1, 0]) and np.isnan(s.X[0, 0, 1]) and np.isnan(s.X[0, 2, 1])
    assert np.isfinite(s.X[0, [0, 2], 0]).all() and s.X[0, 1, 1] == 5


def test_unlabelled_univariate_equal_length_timestamped_and_gzipped_files(tmp_path):
    path = tmp_path / "u.ts"
    path.write_text("@problemName U\n@timeStamps false\n@univariate true\n@equalLength true\n"
                    "@seriesLength 3\n@classLabel false\n@data\n1,2,3\n4,5,6\n")  # fmt: skip
    s = read_ts(path)
    assert s.y is None and s.labels == [] and s.X.shape == (2, 3, 1)
    stamped = tmp_path / "t.ts"
    stamped.write_text("@problemName T\n@timeStamps true\n@classLabel true a b\n@data\n"
                       "(0,1.5),(1,2.5):(0,-1),(1,-2):b\n")  # fmt: skip
    t = read_ts(stamped)
    np.testing.assert_array_equal(t.series(0), [[1.5, -1], [2.5, -2]])
    gz = tmp_path / "u.ts.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    np.testing.assert_array_equal(read_series_file(gz).X, s.X)


# every malformed file: (header, body, the line the error names, what it says)
BAD = [
    (HEAD, "1,2:3,4:sideways\n", 10, "class 'sideways' is not among"),
    (HEAD, "1,2:3,4\n", 10, "the class label is missing"),
    (HEAD, "up\n", 10, "the class label is missing"),
    (HEAD, "1,2:3,4:5,6:up\n", 10, "3 channels"),
    (HEAD, "1,2:3:up\n", 10, r"one length, got \[2, 1\]"),
    (HEAD, "1,x:3,4:up\n", 10, "channel 1, value 2 is 'x', not a number"),
    (HEAD, "1,,2:3,4,5:up\n", 10, "empty value"),
    (HEAD, "1,inf:3,4:up\n", 10, "'inf'"),
    (HEAD, "1,?:3,4:up\n", 10, "missing .* @missing false"),
    (HEAD, "1,2:3,4:up\n1,2:3:up\n", 11, "one length"),
    ("@problemName A\n@classLabel true a\n@data\n", "", None, "no series after @data"),
    ("@problemName A\n@classLabel true a\n", "", None, "no @data line"),
    ("@problemName A\n@data\n", "1:a\n", 2, "no @classLabel"),
    ("@problemName A\n@colour blue\n@classLabel true a\n@data\n", "1:a\n", 2, "unknown header"),
    ("@problemName A\nhello\n@data\n", "", 2, "expected a header line"),
    ("@missing maybe\n@classLabel true a\n@data\n", "1:a\n", 1, "true or false"),
    ("@missing false\n@missing false\n@classLabel true a\n@data\n", "", 2, "given twice"),
    ("@dimensions two\n@classLabel true a\n@data\n", "", 1, "positive integer"),
    ("@classLabel true\n@data\n", "", 1, "must list the class names"),
    ("@classLabel false a b\n@data\n", "", 1, "lists class names"),
    ("@classLabel true a b a\n@data\n", "", 1, "more than once"),
    ("@classLabel maybe\n@data\n", "", 1, "takes true"),
    ("@targetLabel true\n@data\n", "", 1, "regression"),
    ("@classLabel true a\n@data x\n", "", 2, "takes no value"),
    ("@problemName\n@classLabel true a\n@data\n", "", 1, "needs a name"),
    ("@univariate true\n@classLabel true a\n@data\n", "1:2:a\n", 4, "2 channels"),
    ("@univariate true\n@dimensions 2\n@classLabel true a\n@data\n", "1:a\n", None,
     "@univariate true but @dimensions 2"),
    ("@equalLength true\n@classLabel true a\n@data\n", "1,2:a\n1:a\n", 5, "@equalLength true"),
    ("@seriesLength 3\n@classLabel true a\n@data\n", "1,2:a\n", 4, "@seriesLength 3"),
    ("@timeStamps true\n@classLabel true a\n@data\n", "1,2:a\n", 4, r"\(timestamp,value\)"),
]  # fmt: skip


@pytest.mark.parametrize(("head", "body", "line", "message"), BAD)
def test_every_malformed_file_is_an_error_naming_the_line(tmp_path, head, body, line, message):
    path = ts(tmp_path, body, head=head)
    with pytest.raises(DataFormatError, match=message) as info:
        read_ts(path)
    assert str(path) in str(info.value)
    if line is not None:
        assert f"{path}:{line}:" in str(info.value)


def test_unreadable_and_absent_files(tmp_path):
    with pytest.raises(MissingDataError, match="no such"):
        read_ts(tmp_path / "absent.ts")
    binary = tmp_path / "bin.ts"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataFormatError, match="UTF-8"):
        read_ts(binary)
    with pytest.raises(DataFormatError, match=r"\.ts .* or \.npz"):
        read_series_file(tmp_path / "x.csv")


def test_npz_with_ids_names_lengths_and_labels(tmp_path):
    X = np.arange(24, dtype=np.float64).reshape(3, 4, 2)
    np.savez(tmp_path / "a.npz", X=X, y=np.array(["10", "9", "10"]), lengths=np.array([4, 2, 1]))
    s = read_npz(tmp_path / "a.npz")
    assert s.labels == ["9", "10"] and s.y.tolist() == [1, 0, 1]  # numbers in numeric order
    assert s.lengths.tolist() == [4, 2, 1] and s.X.dtype == np.float32
    assert (s.X[1, 2:] == 0).all() and (s.X[2, 1:] == 0).all() and s.X[1, 1, 1] == 11
    np.savez(tmp_path / "b.npz", X=X[:, :, 0], y=np.array([2, 0, 1]),
             labels=np.array(["sit", "walk", "run"]))  # fmt: skip
    b = read_npz(tmp_path / "b.npz")
    assert b.X.shape == (3, 4, 1) and b.y.tolist() == [2, 0, 1] and b.labels[2] == "run"


@pytest.mark.parametrize(("arrays", "message"), [
    ({"y": np.zeros(3)}, "holds X"),
    ({"X": np.zeros((3, 4, 2)), "y": np.zeros(2, dtype=int)}, "y must be"),
    ({"X": np.zeros((3, 4, 2)), "y": np.zeros(3)}, "y must be"),
    ({"X": np.zeros((3, 4, 2)), "w": np.zeros(3)}, "holds X"),
    ({"X": np.array([["a"]])}, "X must be numbers"),
    ({"X": np.full((1, 2, 1), np.inf), "y": np.zeros(1, dtype=int)}, "infinite"),
    ({"X": np.zeros((2, 4, 1)), "lengths": np.array([5, 1])}, "lengths must be"),
    ({"X": np.zeros((2, 4, 1)), "y": np.array([0, 3]), "labels": np.array(["a", "b"])},
     "outside"),
    ({"X": np.zeros((2, 4, 1)), "y": np.array(["a", "c"]), "labels": np.array(["a", "b"])},
     "lacks"),
])  # fmt: skip
def test_malformed_npz_files(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataFormatError, match=message):
        read_npz(tmp_path / "bad.npz")


def test_a_train_file_finds_its_test_file_and_relabels_in_the_models_order(tmp_path):
    body = "1,2:3,4:up\n5:6:flat\n"
    train = ts(tmp_path, body).rename(tmp_path / "Tiny_TRAIN.ts")
    assert paired_test_file(train) is None
    head = HEAD.replace("up down flat", "flat up down").format(missing="false")
    (tmp_path / "Tiny_TEST.ts").write_text(head + "9:9:flat\n8:8:up\n")
    assert paired_test_file(train) == tmp_path / "Tiny_TEST.ts"
    test = load_series(str(train), "test")
    assert test.labels == ["flat", "up", "down"] and test.y.tolist() == [0, 1]
    again = test.relabel(["up", "down", "flat"])
    assert again.labels == ["up", "down", "flat"] and again.y.tolist() == [2, 0]
    with pytest.raises(DataFormatError, match="not among"):
        test.relabel(["up", "down"])
    with pytest.raises(MissingDataError, match="no test file"):
        load_series(str(ts(tmp_path, body)), "test")
    with pytest.raises(MissingDataError, match="basic_motions"):
        load_series("no_such_set")


@pytest.mark.data
@pytest.mark.parametrize(("name", "split", "shape", "lengths", "counts"), [
    ("basic_motions", "train", (40, 100, 6), (100, 100), [10, 10, 10, 10]),
    ("basic_motions", "test", (40, 100, 6), (100, 100), [10, 10, 10, 10]),
    ("japanese_vowels", "train", (270, 26, 12), (7, 26), [30] * 9),
    ("japanese_vowels", "test", (370, 29, 12), (7, 29), [31, 35, 88, 44, 29, 24, 40, 50, 29]),
    ("japanese_vowels_eq", "test", (370, 25, 12), (25, 25), [31, 35, 88, 44, 29, 24, 40, 50, 29]),
])  # fmt: skip
def test_the_mirrors_uea_files(data_root, name, split, shape, lengths, counts):
    assert name in series_names()
    s = load_series(name, split, progress=False)
    assert s.X.shape == shape and (s.lengths.min(), s.lengths.max()) == lengths
    assert list(s.class_counts().values()) == counts and not np.isnan(s.X).any()
    if name == "basic_motions":
        assert s.labels == ["Standing", "Running", "Walking", "Badminton"]
        if split == "train":
            assert s.X[0, 0, 0] == pytest.approx(0.079106)  # the file's first value
    else:
        assert s.labels == [str(k) for k in range(1, 10)]
