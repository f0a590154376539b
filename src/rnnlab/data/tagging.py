"""Tagging datasets by name: the registered CoNLL-2003, CoNLL-2000 and UD English-LinES, and
:func:`load_tagging_splits`, which takes a registered name or a user's file (read as
:mod:`rnnlab.data.conll` says).

>>> from rnnlab import data
>>> data.tagging_names()
['conll2000', 'conll2003', 'ud_english_lines']

Registered datasets (``$RNNLAB_DATA`` mirror, cache, download; sha256 always checked; a mirror may
hold a file gzipped as ``NAME.gz`` whose decompressed bytes have the registered sha256):

- ``conll2003``: English NER, 4 types (PER, LOC, ORG, MISC); ``eng.train``/``eng.testa``/
  ``eng.testb`` are train/dev/test (14,041 / 3,250 / 3,453 sentences). Targets ``ner``
  (default), ``pos``, ``chunk``.
- ``conll2000``: WSJ chunking, train 8,936 / test 2,012 sentences; dev is a seeded 10% of train
  (seed 0). Targets ``chunk`` (default), ``pos``.
- ``ud_english_lines``: UD English-LinES (CC BY-NC-SA 4.0), train/dev/test 3,457 / 1,118 /
  1,121 sentences. Targets ``upos`` (default, 17 tags), ``xpos``.

:class:`TaggedSentences` and the file readers live in :mod:`rnnlab.data.conll`; they are
importable from here too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.conll import (
    CONLL2000_TARGETS,
    CONLL2003_TARGETS,
    CONLLU_TARGETS,
    TaggedSentences,
    detect_scheme,
    parse_conll2000,
    parse_conll2003,
    parse_conllu,
    parse_token_tag,
    read_tagged_path,
    split_dev_sentences,
)
from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import MissingDataError
from rnnlab.data.registry import Registry
from rnnlab.data.text_files import read_path, read_text
from rnnlab.errors import InputError
from rnnlab.metrics.entities import SCHEMES

__all__ = [
    "TaggedSentences",
    "TaggingSpec",
    "detect_scheme",
    "get_tagging",
    "load_tagged",
    "load_tagging_splits",
    "parse_conll2000",
    "parse_conll2003",
    "parse_conllu",
    "parse_token_tag",
    "read_tagged_path",
    "register_tagging",
    "split_dev_sentences",
    "tagging_names",
]

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- registry

Reader = Callable[[dict[str, str], str, str], dict[str, TaggedSentences]]


@dataclass(frozen=True)
class TaggingSpec:
    """A registered tagging dataset.

    ``read(texts, target, scheme)`` receives ``{file name: text}`` for every file in ``files``
    and returns ``{split: TaggedSentences}`` with exactly the splits in ``splits``.
    """

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "tagging/conll2003"
    files: tuple[RemoteFile, ...]
    read: Reader
    targets: tuple[str, ...]  # which tags it can give; the first is the default
    splits: tuple[str, ...] = ("train", "dev", "test")
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.files or not self.splits or not self.targets:
            raise ValueError(f"tagging dataset {self.name!r} needs a name, files, splits, targets")


_TAGGING: Registry[TaggingSpec] = Registry("tagging dataset", "tagging datasets")
register_tagging = _TAGGING.register  # (spec, replace=False) -> spec
tagging_names = _TAGGING.names  # () -> the registered tagging dataset names, sorted
get_tagging = _TAGGING.get  # (name) -> spec; MissingDataError listing the known names


def _file_text(file: RemoteFile, subdir: str, progress: bool) -> str:
    if file.name.endswith(".gz"):  # distributed gzipped: the sha256 is the archive's
        return read_path(fetch(file, subdir, progress=progress))
    return read_text(file, subdir, progress)


def _read_registered(name: str, target: str | None, scheme: str | None,
                     progress: bool) -> dict[str, TaggedSentences]:  # fmt: skip
    spec = _TAGGING.get(name)
    target = target or spec.targets[0]
    if target not in spec.targets:
        raise InputError(f"{name} has targets {list(spec.targets)}, not {target!r}")
    if scheme is not None and scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    texts = {f.name: _file_text(f, spec.subdir, progress) for f in spec.files}
    splits = spec.read(texts, target, scheme)
    if set(splits) != set(spec.splits):
        raise RuntimeError(f"reader of {name} returned splits {sorted(splits)}")
    for split, data in splits.items():
        logger.info("%s/%s (%s): %d sentences, %d tokens, %d tags", name, split, target,
                    len(data), data.num_tokens(), len(data.tag_names()))  # fmt: skip
    return splits


def load_tagged(name: str, split: str = "train", target: str | None = None,
                scheme: str | None = "IOB2", progress: bool = True) -> TaggedSentences:  # fmt: skip
    """One split of a registered tagging dataset.

    Args:
        name: ``conll2003``, ``conll2000``, ``ud_english_lines`` (:func:`tagging_names`).
        split: ``train``, ``dev`` or ``test``.
        target: which tags (the dataset's ``targets``; default its first).
        scheme: span tags are converted to it (``IOB1``, ``IOB2``, ``BIOES``); ``None`` keeps
            the file's.

    Raises:
        MissingDataError: unknown name or a missing file. ChecksumError: a wrong sha256.
        InputError (a ValueError): a split or target the dataset does not have.
        ValueError: an unknown scheme.
    """
    spec = _TAGGING.get(name)
    if split not in spec.splits:
        raise InputError(f"{name} has splits {list(spec.splits)}, not {split!r}")
    return _read_registered(name, target, scheme, progress)[split]


def load_tagging_splits(source: str | os.PathLike, target: str | None = None,
                        scheme: str | None = "IOB2", dev: str | os.PathLike | None = None,
                        dev_fraction: float = 0.1, seed: int = 0,
                        progress: bool = True) -> dict[str, TaggedSentences]:  # fmt: skip
    """Every split for training a tagger on ``source``: a registered name or a file.

    A registered name gives its splits; a file gives ``train`` and ``dev`` (the ``dev`` file, or
    a seeded ``dev_fraction`` of the file's sentences). A ``dev`` file replaces a dataset's dev.

    Raises:
        MissingDataError: ``source`` is neither a registered name nor an existing file.
        DataFormatError: a line that does not fit its format.
        InputError (a ValueError): a ``target`` the data cannot give, or too few sentences to
            hold ``dev_fraction`` of them out.
    """
    key = os.fspath(source)
    if key in _TAGGING:
        splits = _read_registered(key, target, scheme, progress)
    elif Path(key).is_file():
        train = read_tagged_path(key, target, scheme)
        if dev is None:
            splits = dict(zip(("train", "dev"), split_dev_sentences(train, dev_fraction, seed),
                              strict=True))  # fmt: skip
        else:
            splits = {"train": train}
    else:
        raise MissingDataError(
            f"{key!r} is neither a known tagging dataset ({', '.join(tagging_names())}) nor an "
            "existing file"
        )
    if dev is not None:
        splits["dev"] = read_tagged_path(dev, target, scheme)
    return splits


# ----------------------------------------------------------------------------- datasets

_HSCRF = "https://raw.githubusercontent.com/ZhixiuYe/HSCRF-pytorch/86bb64890317b74517c5ad44b47c66635df327d8/data/{}"  # noqa: E501
_SGDSVM = "https://raw.githubusercontent.com/yuxiang-wu/sgdsvm/e1735c8a36e0f6eaf0c1218679c6a66310ae6a0f/data/conll2000/{}"  # noqa: E501
_LINES = "https://raw.githubusercontent.com/UniversalDependencies/UD_English-LinES/30927439b9d383d21d0c86e647ba493cd89adf8c/{}"  # noqa: E501

# sha256 from shared/data/tagging/*/SOURCE.md (of the uncompressed file where the mirror gzips it)
_CONLL2003 = {
    "train": RemoteFile("eng.train", (_HSCRF.format("eng.train"),),
                        "bed631399cb0e859c4b446438ce57dfe0208792ca6106ef11620877355494c3a"),
    "dev": RemoteFile("eng.testa", (_HSCRF.format("eng.testa"),),
                      "aa83a45b88e4952998156583e2ff5a8be7c1f04fb9efa3a29cd87fac2c883807"),
    "test": RemoteFile("eng.testb", (_HSCRF.format("eng.testb"),),
                       "443914daf51328868558859b28252a28caee2fd02b65e77987977d6489246c5f"),
}  # fmt: skip
_CONLL2000 = {
    "train": RemoteFile("train.txt.gz", (_SGDSVM.format("train.txt.gz"),),
                        "160109d8a1c31381976affcb534abbfa11e0bb5acabc60d4feb5c6b0874a8858"),
    "test": RemoteFile("test.txt.gz", (_SGDSVM.format("test.txt.gz"),),
                       "6864d222606f9deff739206a49f01d43651041b8deb94f0ea4e98ba0b14217ab"),
}  # fmt: skip
_UD_LINES = {
    split: RemoteFile(name, (_LINES.format(name),), sha)
    for split, name, sha in (
        ("train", "en_lines-ud-train.conllu",
         "27609ded288bf3704def21f18d227e3f40957b4981174411f6bed34acf3025b6"),
        ("dev", "en_lines-ud-dev.conllu",
         "3aabd1f843517fb615c8760c316a76125af2fff01c59b9a4049fe7c393891d2b"),
        ("test", "en_lines-ud-test.conllu",
         "14c56b50da6d8876ce1fdaa9b19c2845dfff73ff57766ddc2f812d88612ce3a8"),
    )
}  # fmt: skip


def _read_conll2003(texts: dict[str, str], target: str, scheme: str | None):
    return {split: parse_conll2003(texts[f.name], target, scheme, f.name)
            for split, f in _CONLL2003.items()}  # fmt: skip


def _read_conll2000(texts: dict[str, str], target: str, scheme: str | None):
    train = parse_conll2000(texts["train.txt.gz"], target, scheme, "train.txt.gz")
    train, dev = split_dev_sentences(train, 0.1, seed=0)
    test = parse_conll2000(texts["test.txt.gz"], target, scheme, "test.txt.gz")
    return {"train": train, "dev": dev, "test": test}


def _read_ud_lines(texts: dict[str, str], target: str, scheme: str | None):
    return {split: parse_conllu(texts[f.name], target, f.name) for split, f in _UD_LINES.items()}


register_tagging(TaggingSpec("conll2003", "tagging/conll2003", tuple(_CONLL2003.values()),
                             _read_conll2003, tuple(CONLL2003_TARGETS),
                             description="CoNLL-2003 English NER, 4 types"))  # fmt: skip
register_tagging(TaggingSpec("conll2000", "tagging/conll2000", tuple(_CONLL2000.values()),
                             _read_conll2000, tuple(CONLL2000_TARGETS),
                             description="CoNLL-2000 WSJ chunking and POS"))  # fmt: skip
register_tagging(TaggingSpec("ud_english_lines", "tagging/ud_english_lines",
                             tuple(_UD_LINES.values()), _read_ud_lines, tuple(CONLLU_TARGETS),
                             description="UD English-LinES UPOS/XPOS, CC BY-NC-SA"))  # fmt: skip
