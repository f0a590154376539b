"""Sentiment datasets: SST-2 and SST-5 (the Sentiment Treebank), Pang & Lee review polarity, IMDB.

Every dataset has ``train``/``dev``/``test`` splits of :class:`LabelledTexts` (what
:func:`rnnlab.data.load_splits` returns; sizes train/dev/test below); some have more, which only
:func:`rnnlab.data.load` gives (``load(name, split)``):

- ``sst2``: SST sentences, negative/positive; official split 6,920/872/1,821. ``"phrases"``:
  77,616 non-neutral distinct phrases of the training trees (:class:`LabelledTexts`).
- ``sst5``: SST sentences, 5 classes; official split 8,544/1,101/2,210. ``"phrases"``: 159,274
  distinct phrases of the training trees (:class:`LabelledTexts`).
- ``review_polarity``: 2,000 full reviews (~750 tokens), negative/positive; 1,600/200/200.
- ``imdb``: 50,000 full reviews (~230 words), negative/positive; 22,500/2,500/25,000.
  ``"unsup"``: the 50,000 unlabelled reviews of ``train/unsup``, a plain ``list[str]``.

- **sst2 / sst5**: Socher et al. (2013)'s phrase-level trees (``trainDevTestTrees_PTB``), one
  tree per line with a label on every node (:mod:`rnnlab.data.sst_trees`). Upstream's zip
  cannot serve the files themselves, so ``dev.txt`` and ``test.txt`` download from
  munikarmanish/RNTN at commit 12bb731, byte-identical. ``train.txt.gz`` is a repack that only
  the project's data mirror holds: the first 8,544 lines of that repository's
  ``trees/train.txt`` (which goes on with the 1,101 dev trees), gzipped. A download cannot
  reproduce those bytes, so it has no URL: without ``$RNNLAB_DATA/sentiment/sst_trees/
  train.txt.gz`` loading fails with a :class:`MissingDataError` that says so.
  A sentence is its tree's words (PTB escapes undone, case kept) joined by single spaces, with
  the root's label. SST-5 label ``y``: 0 very negative, 1 negative, 2 neutral, 3 positive, 4 very
  positive (:data:`SST5_LABELS`); SST-2: 0-1 negative (0), 3-4 positive (1), 2 dropped. The
  sentences keep the files' order, in which the training sentences run from positive to
  negative (the first 3,000 of SST-2's are 94% positive): sample a subset, never slice one.
  ``"phrases"``: every node of the training trees (sentences, their sub-phrases, single words),
  each word sequence once, in order of first occurrence, with its label mapped as for sentences
  (SST labels a phrase once, so repeats agree). Kim (2014)'s sentence files (``stsa.*``) are no
  longer registered; :func:`parse_sst` still reads them.
- **review_polarity**: Pang & Lee's polarity v2.0 (1,000 pos + 1,000 neg), from the copy of
  the Cornell release archive ``review_polarity.tar.gz`` kept in jbrownlee/Datasets. It has no
  official split; ours is fixed by the conventional cross-validation index in the file name
  (``cvNNN_*.txt``), per class: ``cv000``-``cv799`` train, ``cv800``-``cv899`` dev,
  ``cv900``-``cv999`` test. The lines of a review are joined by spaces.
- **imdb**: Maas et al. (2011)'s ``aclImdb_v1.tar.gz``, downloaded only from the official
  Stanford URL (84 MB; the sha256 is the one published by TensorFlow Datasets and others for
  this file). A mirror may hold instead the repack ``aclImdb.tar.gz`` (same reviews, its own
  sha256), accepted only from the mirror (:attr:`RemoteFile.mirror_repacks`). Official
  train/test (25,000 each, balanced); dev is a seeded 10% of train (:func:`split_dev`, seed 0).
  ``<br />`` tags become spaces and runs of whitespace one space, in the unlabelled reviews
  too (id order). An archive is read once per process (per path, size and modification time).
"""

from __future__ import annotations

import functools
import re
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from rnnlab.data.download import RemoteFile, file_key
from rnnlab.data.errors import DataFormatError
from rnnlab.data.examples import LabelledTexts, split_dev
from rnnlab.data.registry import DatasetSpec, register
from rnnlab.data.sst_trees import Tree, read_trees

__all__ = [
    "BINARY_LABELS",
    "IMDB_FILE",
    "SST5_LABELS",
    "parse_aclimdb",
    "parse_review_polarity",
    "parse_sst",
    "read_sst_trees",
    "sst_phrases",
    "sst_sentences",
]

BINARY_LABELS = ["negative", "positive"]
SST5_LABELS = ["very negative", "negative", "neutral", "positive", "very positive"]

_SPLITS = ("train", "dev", "test")


# ----------------------------------------------------------------------------- SST

_SST_URL = (
    "https://raw.githubusercontent.com/munikarmanish/RNTN/"
    "12bb731ba9fbdcdf2368b8515a241773f2b97547/trees/{}"
)
_SST_FILES = {  # split -> file; sha256 and sizes from shared/data/sentiment/sst_trees/SOURCE.md
    # the mirror's repack (module docstring): no URL serves these bytes
    "train": RemoteFile(
        "train.txt.gz",
        (),
        "479b7122325a64e3783c9382eafebcac3308862dbc2b77cae4ff7acfd751defc",
        size=567_105,
    ),
    "dev": RemoteFile(
        "dev.txt",
        (_SST_URL.format("dev.txt"),),
        "0e9336aed6e4730e19f58d00a77b3f0297efdb755f7b5e598c98a05e3f97ea40",
        size=280_825,
    ),
    "test": RemoteFile(
        "test.txt",
        (_SST_URL.format("test.txt"),),
        "6e54806dee95cf80cd918e7dfb3f6770f6df24bf826f289a4d1f709e1c8f6761",
        size=559_614,
    ),
}


@functools.lru_cache(maxsize=4)
def _cached_trees(key: tuple[str, int, int]) -> tuple[Tree, ...]:
    return tuple(read_trees(key[0]))


def _sst_label(label: int, binary: bool, where: str) -> int | None:
    """SST-5: ``label`` itself; SST-2: 0-1 -> 0, 3-4 -> 1, 2 -> ``None`` (dropped)."""
    if label > 4:
        raise DataFormatError(f"{where}: label {label} is not an SST class (0-4)")
    if not binary:
        return label
    return None if label == 2 else int(label > 2)


def sst_sentences(
    trees: Sequence[Tree], binary: bool = False, where: str = "trees"
) -> LabelledTexts:
    """The sentences of ``trees`` (words joined by spaces) with their root labels.

    Args:
        trees: one tree per sentence (:func:`rnnlab.data.sst_trees.read_trees`).
        binary: SST-2 (:data:`BINARY_LABELS`; neutral sentences dropped) instead of SST-5
            (:data:`SST5_LABELS`).
        where: the file, for error messages (tree ``n`` is its line ``n``).

    Raises:
        DataFormatError: a root label outside 0-4.
    """
    texts, labels = [], []
    for n, tree in enumerate(trees, start=1):
        y = _sst_label(tree.label, binary, f"{where}:{n}")
        if y is not None:
            texts.append(" ".join(tree.words))
            labels.append(y)
    return LabelledTexts(texts, labels, BINARY_LABELS if binary else SST5_LABELS)


def sst_phrases(trees: Sequence[Tree], binary: bool = False, where: str = "trees") -> LabelledTexts:
    """Every distinct phrase of ``trees`` (every node's words, joined by spaces) with its label.

    A phrase is kept at its first occurrence (pre-order, tree by tree) with that node's label;
    with ``binary`` neutral phrases are dropped (as :func:`sst_sentences`).

    Raises:
        DataFormatError: a node label outside 0-4.
    """
    seen: set[tuple[str, ...]] = set()
    texts, labels = [], []
    for n, tree in enumerate(trees, start=1):
        for words, label in tree.phrases():
            y = _sst_label(label, binary, f"{where}:{n}")
            if words in seen:
                continue
            seen.add(words)
            if y is not None:
                texts.append(" ".join(words))
                labels.append(y)
    return LabelledTexts(texts, labels, BINARY_LABELS if binary else SST5_LABELS)


def read_sst_trees(
    train: str | Path, dev: str | Path, test: str | Path, binary: bool = False
) -> dict[str, LabelledTexts]:
    """The SST splits from its tree files (``train.txt``, ``dev.txt``, ``test.txt``; ``.gz`` too).

    Returns:
        ``{"train", "dev", "test"}``: sentences (:func:`sst_sentences`); ``"phrases"``: the
        distinct phrases of the training trees (:func:`sst_phrases`). A file is parsed once per
        process (per path, size and modification time).

    Raises:
        MissingDataError: a file that does not exist.
        DataFormatError: a malformed tree (``file:line``) or a label outside 0-4.
    """
    paths = {"train": Path(train), "dev": Path(dev), "test": Path(test)}
    trees = {split: _cached_trees(file_key(path)) for split, path in paths.items()}
    splits = {s: sst_sentences(trees[s], binary, str(paths[s])) for s in _SPLITS}
    splits["phrases"] = sst_phrases(trees["train"], binary, str(paths["train"]))
    return splits


def parse_sst(path: Path, label_names: list[str]) -> LabelledTexts:
    """Read one of Kim (2014)'s ``stsa.*`` files: ``<label digit><space><sentence>`` per line.

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


def _sst_spec(name: str, binary: bool, description: str) -> DatasetSpec:
    def parse(paths: dict[str, Path]) -> dict[str, LabelledTexts]:
        files = {split: paths[file.name] for split, file in _SST_FILES.items()}
        return read_sst_trees(**files, binary=binary)

    files = tuple(_SST_FILES.values())  # train first: without the mirror, fail before any download
    return DatasetSpec(
        name,
        "sentiment/sst_trees",
        files,
        parse,
        description=description,
        extra_splits=("phrases",),
    )


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

_IMDB_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
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


def _read_aclimdb(path: Path) -> dict[str, tuple]:
    """``train``/``test``: sorted ``(label, id, text)``; ``unsup``: sorted ``(id, text)``."""
    rows: dict[str, list] = {"train": [], "test": [], "unsup": []}
    try:
        for name, raw in _aclimdb_members(path):
            match = _IMDB_MEMBER.search(name)
            if match is None or match.group(1, 2) == ("test", "unsup"):
                continue
            split, kind, review_id = match.group(1), match.group(2), int(match.group(3))
            text = " ".join(_BR.sub(" ", raw.decode("utf-8")).split())
            if kind == "unsup":
                rows["unsup"].append((review_id, text))
            else:
                rows[split].append((_LABEL_OF[kind], review_id, text))
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as e:
        raise DataFormatError(f"cannot read aclImdb from {path}: {e}") from e
    return {split: tuple(sorted(items)) for split, items in rows.items()}


@functools.lru_cache(maxsize=2)
def _read_aclimdb_archive(key: tuple[str, int, int]) -> dict[str, tuple]:
    return _read_aclimdb(Path(key[0]))


def parse_aclimdb(
    path: Path, dev_fraction: float = 0.1, seed: int = 0
) -> dict[str, LabelledTexts | list[str]]:
    """Read aclImdb (a ``.tar.gz``, the extracted ``aclImdb`` folder, or its parent).

    An archive is read once per process (per path, size and modification time); a folder every
    time.

    Returns:
        ``"train"``, ``"dev"``, ``"test"``: :class:`LabelledTexts`, ordered by label (neg, pos)
        then numeric id; dev is ``split_dev(train, dev_fraction, seed)``. ``"unsup"``: the
        reviews of ``train/unsup`` as a ``list[str]`` in id order (empty if there are none).

    Raises:
        DataFormatError: unreadable archive/files, or a split without both classes.
    """
    path = Path(path)
    rows = _read_aclimdb_archive(file_key(path)) if path.is_file() else _read_aclimdb(path)
    splits: dict[str, LabelledTexts | list[str]] = {}
    for split in ("train", "test"):
        items = rows[split]
        examples = LabelledTexts([t for _, _, t in items], [y for y, _, _ in items], BINARY_LABELS)
        if 0 in examples.class_counts():
            raise DataFormatError(
                f"{path}: no aclImdb/{split}/pos or aclImdb/{split}/neg reviews found"
            )
        splits[split] = examples
    splits["train"], splits["dev"] = split_dev(splits["train"], dev_fraction, seed)
    splits["unsup"] = [text for _, text in rows["unsup"]]
    return splits


# ----------------------------------------------------------------------------- registry

register(_sst_spec("sst2", True, "SST-2: binary sentence sentiment (SST trees)"))
register(_sst_spec("sst5", False, "SST-5: 5-class sentence sentiment (SST trees)"))

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

IMDB_FILE = RemoteFile(  # also the source of the ``imdb`` language-modelling corpus
    "aclImdb_v1.tar.gz",
    ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
    "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    size=84_125_825,
    # shared/data/sentiment/imdb/SOURCE.md: the same reviews repacked (56,245,404 bytes)
    mirror_repacks=(
        ("aclImdb.tar.gz", "d51abf11d4d1795aef99c9d8892aab65b449cc470913c4935dad5236252c4ea7"),
    ),
)
register(
    DatasetSpec(
        "imdb",
        "sentiment/imdb",
        (IMDB_FILE,),
        lambda paths: parse_aclimdb(paths[IMDB_FILE.name]),
        extra_splits=("unsup",),
        description="Maas et al. 2011: 50,000 IMDB reviews, positive/negative",
    )
)
