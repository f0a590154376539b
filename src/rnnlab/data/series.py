"""Labelled numeric series: the UEA/UCR ``.ts`` format, ``.npz`` arrays, and the registered UEA
sets ``basic_motions`` and ``japanese_vowels``.

Symbols: N series, T time steps (the longest), C channels.

A :class:`SeriesSet` holds N series of C channels as one array ``X`` (N, T, C), each series'
real length in ``lengths`` (N,), and class ids ``y`` (N,) into ``labels``. Steps after a
series' length are 0 (padding); a missing value inside it is NaN.

The ``.ts`` format (the UEA & UCR archive's, as aeon and sktime write it)::

    # comment lines anywhere before @data
    @problemName JapaneseVowels
    @timeStamps false             (true: each value written as (timestamp,value))
    @missing false                (true: '?' marks a missing value)
    @univariate false
    @dimensions 12                (optional: the number of channels)
    @equalLength false
    @seriesLength 25              (optional, with @equalLength true)
    @classLabel true 1 2 3 4 5 6 7 8 9     (or "false": no labels)
    @data
    1.86,1.89,...,1.26:-0.21,-0.19,...:...:3     one series per line: channels separated by
                                                 ':', values by ',', the label last

:func:`read_ts` is strict: every header key is known (case does not matter, as in aeon), a
series disagrees with no header line, and each error is a :class:`DataFormatError` naming the
file and line. Timestamps, where a file has them, are read past: the values are kept in the
order written (the models see steps, not times).

``.npz`` (:func:`read_npz`): ``X`` (N, T, C) or (N, T) numbers, ``y`` (N,) integers or strings;
optional ``lengths`` (N,) and ``labels`` (the class names, in order).

A file named ``<name>_TRAIN.ts`` (or ``.npz``) has its test set in ``<name>_TEST.ts`` beside it,
as the archive names them (:func:`paired_test_file`).
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import DataFormatError, MissingDataError
from rnnlab.data.registry import Registry

__all__ = [
    "SeriesSet",
    "SeriesSpec",
    "load_series",
    "read_npz",
    "read_series_file",
    "read_ts",
    "register_series",
    "series_names",
    "paired_test_file",
]

logger = logging.getLogger(__name__)

_BOOLEAN_KEYS = ("timestamps", "missing", "univariate", "equallength")
_KEYS = ("problemname", *_BOOLEAN_KEYS, "dimensions", "serieslength", "classlabel",
         "targetlabel", "data")  # fmt: skip
_TIMESTAMPED = re.compile(r"\(([^(),]*),([^(),]*)\)")  # (timestamp,value)
SUFFIXES = (".ts", ".ts.gz", ".npz")


@dataclass
class SeriesSet:
    """N labelled (or unlabelled) series of C channels, padded to the longest, T steps.

    Attributes:
        X: (N, T, C) float32; NaN where a value is missing, 0 after each series' length.
        lengths: (N,) int64, each series' real steps (1 <= length <= T).
        y: (N,) int64 class ids into ``labels``, or None (unlabelled).
        labels: the class names, in the order of their ids.
        name: where the series come from (a problem name or a file).
    """

    X: np.ndarray
    lengths: np.ndarray
    y: np.ndarray | None
    labels: list[str]
    name: str = ""

    def __post_init__(self) -> None:
        if self.X.ndim != 3:
            raise ValueError(f"X must be (N, T, C), got shape {self.X.shape}")
        N, T, _ = self.X.shape
        n = self.lengths
        if n.shape != (N,) or ((n < 1) | (n > T)).any():
            raise ValueError(f"lengths must be (N,) = ({N},) in [1, {T}], got {n}")
        K, y = len(self.labels), self.y
        if y is not None and (y.shape != (N,) or ((y < 0) | (y >= K)).any()):
            raise ValueError(f"y must be (N,) = ({N},) ids in [0, {K})")

    def __len__(self) -> int:
        return len(self.X)

    @property
    def channels(self) -> int:
        """C, the number of channels."""
        return self.X.shape[2]

    def series(self, i: int) -> np.ndarray:
        """Series ``i`` without its padding: (length_i, C)."""
        return self.X[i, : self.lengths[i]]

    def subset(self, index) -> SeriesSet:
        """The series at ``index`` (ids or a boolean mask), padding cut to their longest."""
        lengths = self.lengths[index]
        T = int(lengths.max()) if len(lengths) else 1
        y = None if self.y is None else self.y[index]
        return SeriesSet(self.X[index][:, :T], lengths, y, list(self.labels), self.name)

    def class_counts(self) -> dict[str, int]:
        """How many series of each class (every class named, zeros included)."""
        if self.y is None:
            return {}
        counts = np.bincount(self.y, minlength=len(self.labels))
        return {label: int(n) for label, n in zip(self.labels, counts, strict=True)}

    def relabel(self, labels: list[str]) -> SeriesSet:
        """The same series with ``y`` as ids into ``labels`` (e.g. a model's class order).

        Raises:
            DataFormatError: a class of these series that ``labels`` lacks.
        """
        if self.y is None:
            return SeriesSet(self.X, self.lengths, None, list(labels), self.name)
        index = {label: k for k, label in enumerate(labels)}
        present = sorted({self.labels[i] for i in np.unique(self.y)})
        unknown = [label for label in present if label not in index]
        if unknown:
            raise DataFormatError(
                f"{self.name}: classes {unknown[:5]} are not among {', '.join(labels)} (the "
                "model's classes); give series of the classes it was trained on"
            )
        mapping = np.array([index.get(label, -1) for label in self.labels], dtype=np.int64)
        return SeriesSet(self.X, self.lengths, mapping[self.y], list(labels), self.name)


def _pad(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``[(T_i, C)]`` -> X (N, T, C) zero-padded on the right, lengths (N,)."""
    lengths = np.array([len(s) for s in series], dtype=np.int64)
    X = np.zeros((len(series), int(lengths.max()), series[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(series):
        X[i, : len(s)] = s
    return X, lengths


# ----------------------------------------------------------------------------- .ts


def _open_text(path: Path) -> list[str]:
    """The lines of a (possibly gzipped) UTF-8 text file."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        return raw.decode("utf-8").splitlines()
    except OSError as e:
        raise MissingDataError(f"cannot read {path}: {e.strerror or e}") from e
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile) as e:
        raise DataFormatError(f"{path} is not a UTF-8 text file ({e})") from e


def _header(path: Path, lines: list[str]) -> tuple[dict, int]:
    """The header's values (keys in lower case) and the index of the line after ``@data``."""
    meta: dict = {}
    for i, line in enumerate(lines):
        where = f"{path}:{i + 1}"
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not text.startswith("@"):
            raise DataFormatError(f"{where}: expected a header line (@key value) or @data before "
                                  f"the series, got {text[:40]!r}")  # fmt: skip
        tokens = text.split()
        key, values = tokens[0][1:].lower(), tokens[1:]
        if key not in _KEYS:
            raise DataFormatError(f"{where}: unknown header {tokens[0]!r} (a .ts header has "
                                  "@problemName, @timeStamps, @missing, @univariate, "
                                  "@dimensions, @equalLength, @seriesLength, @classLabel, "
                                  "@data)")  # fmt: skip
        if key in meta:
            raise DataFormatError(f"{where}: {tokens[0]} is given twice")
        if key == "data":
            if values:
                raise DataFormatError(f"{where}: @data takes no value; the series start on the "
                                      "next line")  # fmt: skip
            if "classlabel" not in meta and "targetlabel" not in meta:
                raise DataFormatError(f"{where}: no @classLabel line before @data (write "
                                      "'@classLabel true <class> ...' or "
                                      "'@classLabel false')")  # fmt: skip
            return meta, i + 1
        if key == "problemname":
            if not values:
                raise DataFormatError(f"{where}: @problemName needs a name")
            meta[key] = " ".join(values)
        elif key in _BOOLEAN_KEYS or key == "targetlabel":
            if len(values) != 1 or values[0].lower() not in ("true", "false"):
                raise DataFormatError(f"{where}: {tokens[0]} takes true or false, got "
                                      f"{' '.join(values)!r}")  # fmt: skip
            meta[key] = values[0].lower() == "true"
            if key == "targetlabel" and meta[key]:
                raise DataFormatError(f"{where}: @targetLabel true marks a regression problem "
                                      "(a number per series); series classification needs "
                                      "@classLabel true <class> ...")  # fmt: skip
        elif key in ("dimensions", "serieslength"):
            if len(values) != 1 or not values[0].isdigit() or int(values[0]) < 1:
                raise DataFormatError(f"{where}: {tokens[0]} takes a positive integer, got "
                                      f"{' '.join(values)!r}")  # fmt: skip
            meta[key] = int(values[0])
        else:  # classlabel
            flag = values[0].lower() if values else ""
            if flag not in ("true", "false"):
                raise DataFormatError(f"{where}: @classLabel takes true (then the class names) "
                                      f"or false, got {' '.join(values)!r}")  # fmt: skip
            names = values[1:]
            if flag == "true" and not names:
                raise DataFormatError(f"{where}: @classLabel true must list the class names")
            if flag == "false" and names:
                raise DataFormatError(f"{where}: @classLabel false lists class names "
                                      f"{names[:3]}; write @classLabel true "
                                      f"{' '.join(names)}")  # fmt: skip
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise DataFormatError(f"{where}: @classLabel lists {repeated} more than once")
            meta[key] = names if flag == "true" else None
    raise DataFormatError(f"{path}: no @data line: a .ts file has a header, then @data, then "
                          "one series per line")  # fmt: skip


def _values(text: str, where: str, channel: int, missing: bool, timestamps: bool) -> np.ndarray:
    """One channel's values (L,) float64, NaN where missing."""
    if timestamps:
        pairs = _TIMESTAMPED.findall(text)
        if not pairs or _TIMESTAMPED.sub("", text).replace(",", "").strip():
            raise DataFormatError(f"{where}: channel {channel}: with @timeStamps true each value "
                                  f"is written (timestamp,value), got {text[:40]!r}")  # fmt: skip
        tokens = [v for _, v in pairs]
    else:
        tokens = text.split(",")
    out = np.empty(len(tokens))
    for k, token in enumerate(tokens):
        token = token.strip()
        if token == "?" or token.lower() == "nan":
            if not missing:
                raise DataFormatError(f"{where}: channel {channel}, value {k + 1} is missing "
                                      f"({token!r}) but the header says "
                                      "@missing false")  # fmt: skip
            out[k] = np.nan
            continue
        try:
            out[k] = float(token)
        except ValueError:
            what = "an empty value (two commas in a row, or one at the end)" if not token else (
                f"{token[:20]!r}, not a number")  # fmt: skip
            raise DataFormatError(f"{where}: channel {channel}, value {k + 1} is {what}") from None
        if not np.isfinite(out[k]):
            raise DataFormatError(f"{where}: channel {channel}, value {k + 1} is {token!r}; "
                                  "write '?' for a missing value")  # fmt: skip
    return out


def read_ts(path: str | os.PathLike) -> SeriesSet:
    """The series of a UEA/UCR ``.ts`` file (or a gzipped ``.ts.gz``); see the module's doc.

    Returns:
        A :class:`SeriesSet`: X (N, T, C), lengths (N,), y ids into the @classLabel names in
        the order the header lists them (None with ``@classLabel false``).

    Raises:
        MissingDataError: no such file.
        DataFormatError: anything the format does not allow or the header contradicts,
            naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such .ts file: {path}")
    lines = _open_text(path)
    meta, start = _header(path, lines)
    labels = meta.get("classlabel")
    missing, timestamps = meta.get("missing", False), meta.get("timestamps", False)
    channels = meta.get("dimensions")
    if meta.get("univariate") is True:
        if channels not in (None, 1):
            raise DataFormatError(f"{path}: @univariate true but @dimensions {channels}")
        channels = 1
    series, ids = [], []
    for i in range(start, len(lines)):
        text = lines[i].strip()
        if not text:
            continue
        where = f"{path}:{i + 1}"
        parts = text.split(":")
        if labels is not None:
            label = parts.pop().strip()
            if "," in label or not parts:
                raise DataFormatError(f"{where}: the class label is missing (the last field, "
                                      f"after the last ':', holds values: "
                                      f"{label[:30]!r})")  # fmt: skip
            if label not in labels:
                raise DataFormatError(f"{where}: class {label!r} is not among the @classLabel "
                                      f"names ({' '.join(labels)})")  # fmt: skip
            ids.append(labels.index(label))
        if channels is None:
            channels = len(parts)
        if len(parts) != channels:
            said = "the first series" if "dimensions" not in meta else "@dimensions"
            raise DataFormatError(f"{where}: {len(parts)} channels (separated by ':'), but "
                                  f"{said} has {channels}")  # fmt: skip
        values = [_values(p, where, c + 1, missing, timestamps) for c, p in enumerate(parts)]
        sizes = [len(v) for v in values]
        if len(set(sizes)) > 1:
            raise DataFormatError(f"{where}: the channels of a series must have one length, got "
                                  f"{sizes}")  # fmt: skip
        T = sizes[0]
        if meta.get("serieslength") not in (None, T):
            raise DataFormatError(f"{where}: {T} steps, but the header says @seriesLength "
                                  f"{meta['serieslength']}")  # fmt: skip
        if meta.get("equallength") is True and series and T != len(series[0]):
            raise DataFormatError(f"{where}: {T} steps, but the first series has {len(series[0])} "
                                  "and the header says @equalLength true")  # fmt: skip
        series.append(np.stack(values, axis=1))  # (T, C)
    if not series:
        raise DataFormatError(f"{path}: no series after @data")
    X, lengths = _pad(series)
    y = np.array(ids, dtype=np.int64) if labels is not None else None
    name = meta.get("problemname", path.name)
    return SeriesSet(X, lengths, y, list(labels or []), name)


# ----------------------------------------------------------------------------- .npz


def _label_key(label: str) -> tuple:
    """Numbers in numeric order, before other labels in text order."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def read_npz(path: str | os.PathLike) -> SeriesSet:
    """The series of a ``.npz`` file: ``X`` (N, T, C) or (N, T), ``y`` (N,) class ids or names,
    optional ``lengths`` (N,) (default: every series T steps) and ``labels`` (the class names;
    default: the distinct ``y``, numbers in numeric order). NaN in ``X`` marks a missing value.

    Raises:
        MissingDataError: no such file.
        DataFormatError: a missing or malformed array (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such .npz file: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:  # a torn zip
        raise DataFormatError(f"{path} is not a readable .npz of plain arrays ({e}); store "
                              "strings as a unicode array, not objects") from e  # fmt: skip
    unknown = sorted(set(arrays) - {"X", "y", "lengths", "labels"})
    if "X" not in arrays or unknown:
        raise DataFormatError(f"{path}: a series .npz holds X (N, T, C), y (N,) and optionally "
                              f"lengths and labels; it has {sorted(arrays)}")  # fmt: skip
    X = arrays["X"]
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3 or X.dtype.kind not in "fiu" or 0 in X.shape:
        raise DataFormatError(f"{path}: X must be numbers shaped (N, T, C) or (N, T), got "
                              f"{X.dtype} {X.shape}")  # fmt: skip
    N, T, _ = X.shape
    X = X.astype(np.float32)
    if np.isinf(X).any():
        raise DataFormatError(f"{path}: X holds infinite values; use NaN for a missing value")
    lengths = arrays.get("lengths", np.full(N, T))
    if lengths.shape != (N,) or lengths.dtype.kind not in "iu" or lengths.min() < 1 \
            or lengths.max() > T:  # fmt: skip
        raise DataFormatError(f"{path}: lengths must be (N,) = ({N},) integers in [1, {T}]")
    lengths = lengths.astype(np.int64)
    X[np.arange(T)[None, :] >= lengths[:, None]] = 0.0  # padding
    labels, y = None, None
    if "labels" in arrays:
        labels = [str(v) for v in arrays["labels"].reshape(-1)]
        if len(set(labels)) != len(labels):
            raise DataFormatError(f"{path}: labels repeats a class name")
    if "y" in arrays:
        raw = arrays["y"]
        if raw.shape != (N,) or raw.dtype.kind not in "iuU":
            raise DataFormatError(f"{path}: y must be (N,) = ({N},) integers or strings, got "
                                  f"{raw.dtype} {raw.shape}")  # fmt: skip
        if labels is not None and raw.dtype.kind in "iu":
            if raw.min() < 0 or raw.max() >= len(labels):
                raise DataFormatError(f"{path}: y holds ids outside [0, {len(labels)}) of labels")
            y = raw.astype(np.int64)
        else:
            names = [str(v) for v in raw]
            labels = labels or sorted(set(names), key=_label_key)
            unknown = sorted(set(names) - set(labels))
            if unknown:
                raise DataFormatError(f"{path}: y holds classes {unknown[:5]} that labels lacks")
            index = {label: k for k, label in enumerate(labels)}
            y = np.array([index[n] for n in names], dtype=np.int64)
    return SeriesSet(X, lengths, y, labels or [], path.name)


def read_series_file(path: str | os.PathLike) -> SeriesSet:
    """:func:`read_ts` or :func:`read_npz`, by the file's suffix.

    Raises:
        DataFormatError: a suffix other than .ts, .ts.gz and .npz.
    """
    name = str(path).lower()
    if name.endswith(".npz"):
        return read_npz(path)
    if name.endswith((".ts", ".ts.gz")):
        return read_ts(path)
    raise DataFormatError(f"{path}: series are read from .ts (UEA/UCR format) or .npz files")


def paired_test_file(path: str | os.PathLike) -> Path | None:
    """``<name>_TEST<suffix>`` beside a ``<name>_TRAIN<suffix>``, if it exists; else None."""
    path = Path(path)
    match = re.match(r"^(.*)_TRAIN(\.ts|\.ts\.gz|\.npz)$", path.name, re.IGNORECASE)
    if match is None:
        return None
    for suffix in dict.fromkeys((match[2], ".ts", ".ts.gz", ".npz")):
        for test in ("TEST", "test", "Test"):
            candidate = path.with_name(f"{match[1]}_{test}{suffix}")
            if candidate.is_file():
                return candidate
    return None


# ----------------------------------------------------------------------------- registered sets


@dataclass(frozen=True)
class SeriesSpec:
    """A registered pair of ``.ts`` files: the archive's TRAIN and TEST split."""

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache
    train: RemoteFile
    test: RemoteFile
    description: str = ""


_SERIES: Registry[SeriesSpec] = Registry("series dataset", "series datasets")
register_series = _SERIES.register  # (spec, replace=False) -> spec
series_names = _SERIES.names  # () -> the registered series datasets, sorted


def load_series(data: str, split: str = "train", progress: bool = True) -> SeriesSet:
    """One split of a registered series dataset (``"train"`` or ``"test"``, fetched from the
    mirror, the cache or a download, sha256 checked), or the series of a file (any split name:
    a ``_TRAIN`` file's ``"test"`` is its ``_TEST`` file).

    Raises:
        MissingDataError: an unknown name or file, or no test file beside a ``_TRAIN`` file.
        DataFormatError: as :func:`read_ts` and :func:`read_npz`.
    """
    if split not in ("train", "test"):
        raise MissingDataError(f"series datasets have splits train and test, not {split!r}")
    if data in _SERIES:
        spec = _SERIES.get(data)
        path = fetch(spec.train if split == "train" else spec.test, spec.subdir, progress)
        return read_ts(path)
    path = Path(data)
    if not path.is_file():
        raise MissingDataError(f"{data} is neither a registered series dataset "
                               f"({', '.join(series_names())}) nor a file")  # fmt: skip
    if split == "test":
        test = paired_test_file(path)
        if test is None:
            raise MissingDataError(f"no test file beside {path} (expected <name>_TEST.ts next "
                                   "to <name>_TRAIN.ts)")  # fmt: skip
        path = test
    return read_series_file(path)


# The aeon repository serves the files its wheel ships (SOURCE.md of the data mirror: copied from
# the aeon 1.6.0 wheel) at its release tag; the sha256 pins those bytes.
_AEON = "https://raw.githubusercontent.com/aeon-toolkit/aeon/v1.6.0/aeon/datasets/data"


def _aeon_file(folder: str, name: str, sha256: str, size: int, repack=()) -> RemoteFile:
    return RemoteFile(name, (f"{_AEON}/{folder}/{name}",), sha256, size=size,
                      mirror_repacks=repack)  # fmt: skip


register_series(SeriesSpec(
    "basic_motions", "series_classification/BasicMotions",
    _aeon_file("BasicMotions", "BasicMotions_TRAIN.ts",
               "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6", 227_790),
    _aeon_file("BasicMotions", "BasicMotions_TEST.ts",
               "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc", 227_713),
    "UEA BasicMotions: a smart watch's 3-axis accelerometer and gyroscope (6 channels, 100 "
    "steps at 10 Hz) while standing, walking, running or playing badminton; 40 train, 40 test",
))  # fmt: skip
register_series(SeriesSpec(
    "japanese_vowels", "series_classification/JapaneseVowels",
    _aeon_file("JapaneseVowels", "JapaneseVowels_TRAIN.ts",
               "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd", 487_971),
    _aeon_file("JapaneseVowels", "JapaneseVowels_TEST.ts",
               "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462", 649_132),
    "UEA JapaneseVowels: 9 speakers saying /ae/, 12 LPC cepstral channels, 7-29 steps; "
    "270 train, 370 test",
))  # fmt: skip
register_series(SeriesSpec(
    "japanese_vowels_eq", "series_classification/JapaneseVowels",
    _aeon_file("JapaneseVowels", "JapaneseVowels_eq_TRAIN.ts",
               "8958279c6296b97c8e34038346407935222db171492b84dffa3b930d087bc2d6", 768_798),
    # the mirror holds this one gzipped (gzip -n -9); the sha256 is of the unpacked file
    _aeon_file("JapaneseVowels", "JapaneseVowels_eq_TEST.ts",
               "bb83bb1aa6bfb17faae269f6829b7cac71de36fdd3264ee34137fe90270d5895", 1_053_833,
               repack=(("JapaneseVowels_eq_TEST.ts.gz",
                        "98e465efbb546ef3acc17756edaa618b5327ee433ffe23eab1d1e93ac5e7bac2"),)),
    "aeon's equal-length JapaneseVowels (every series resampled to 25 steps); not the UEA "
    "original, which japanese_vowels is",
))  # fmt: skip
