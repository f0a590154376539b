"""The dataset registry: a name -> files (URLs, sha256) and the parser that turns them into splits.

A dataset's ``splits`` (``train``, ``dev``, ``test``) are what training and evaluation iterate:
:func:`load_splits` returns exactly those. Its ``extra_splits`` (SST's ``phrases``, IMDB's
unlabelled ``unsup`` reviews) are only given by name, by :func:`load`.

>>> from rnnlab import data
>>> train = data.load("sst2", "train")  # doctest: +SKIP
>>> phrases = data.load("sst2", "phrases")  # doctest: +SKIP
>>> # a user file: train + a seeded 10% dev
>>> splits = data.load_splits("reviews.tsv")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import MissingDataError
from rnnlab.data.examples import LabelledTexts, split_dev
from rnnlab.data.files import load_path
from rnnlab.errors import InputError

__all__ = ["DatasetSpec", "get", "load", "load_splits", "names", "register"]

logger = logging.getLogger(__name__)

Split = LabelledTexts | list[str]  # a labelled split, or unlabelled texts (an extra split)
Parser = Callable[[dict[str, Path]], dict[str, Split]]


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    ``parse`` receives ``{file name: verified local path}`` for every file in ``files`` and
    returns ``{split name: LabelledTexts}`` with exactly the splits in ``splits`` and
    ``extra_splits`` (an extra split may be a ``list[str]`` of unlabelled texts).
    """

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "sentiment/sst"
    files: tuple[RemoteFile, ...]
    parse: Parser
    splits: tuple[str, ...] = ("train", "dev", "test")  # what load_splits returns
    description: str = ""
    extra_splits: tuple[str, ...] = ()  # given only by load(name, split): "phrases", "unsup"

    def __post_init__(self) -> None:
        if not self.name or not self.files or not self.splits:
            raise ValueError(f"dataset {self.name!r} needs a name, files and splits")
        if set(self.splits) & set(self.extra_splits):
            raise ValueError(f"dataset {self.name!r}: a split cannot be an extra split too")


Spec = TypeVar("Spec")


class Registry(Generic[Spec]):
    """Specs of one kind (labelled datasets, corpora, tagging and translation datasets) by name.

    Each kind's module publishes its registry's three methods under names of that kind, e.g.
    ``register_corpus = _CORPORA.register``, ``corpus_names``, ``get_corpus``.
    """

    def __init__(self, kind: str, plural: str) -> None:
        self.kind, self.plural = kind, plural
        self._specs: dict[str, Spec] = {}

    def __repr__(self) -> str:
        return f"<Registry of {self.plural}: {', '.join(self.names())}>"

    def register(self, spec: Spec, replace: bool = False) -> Spec:
        """Add ``spec`` (``replace`` an existing name only when asked); return it."""
        if spec.name in self._specs and not replace:
            raise ValueError(f"{self.kind} {spec.name!r} is already registered")
        self._specs[spec.name] = spec
        return spec

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._specs)

    def get(self, name: str) -> Spec:
        """The spec registered as ``name``.

        Raises:
            MissingDataError: no spec of that name (the message lists the known ones).
        """
        try:
            return self._specs[name]
        except KeyError:
            raise MissingDataError(
                f"unknown {self.kind} {name!r}; known {self.plural}: {', '.join(self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs


_REGISTRY: Registry[DatasetSpec] = Registry("dataset", "datasets")
register = _REGISTRY.register  # (spec, replace=False) -> spec
names = _REGISTRY.names  # () -> the registered dataset names, sorted
get = _REGISTRY.get  # (name) -> spec; MissingDataError listing the known names


def _parse_all(spec: DatasetSpec, progress: bool) -> dict[str, Split]:
    """Every split, ``extra_splits`` included."""
    paths = {f.name: fetch(f, spec.subdir, progress=progress) for f in spec.files}
    splits = spec.parse(paths)
    if set(splits) != set(spec.splits + spec.extra_splits):
        raise RuntimeError(f"parser of {spec.name} returned splits {sorted(splits)}")
    for split, examples in splits.items():
        if isinstance(examples, LabelledTexts):
            logger.info(
                "%s/%s: %d examples, per class %s",
                spec.name,
                split,
                len(examples),
                examples.class_counts(),
            )
        else:
            logger.info("%s/%s: %d unlabelled texts", spec.name, split, len(examples))
    return splits


def load(name: str, split: str = "train", progress: bool = True) -> Split:
    """One split of a registered dataset, fetched (mirror, cache or download) and verified.

    Args:
        name: a registered name (:func:`names`): ``sst2``, ``sst5``, ``review_polarity``,
            ``imdb``.
        split: one of the dataset's splits, ``"train"``, ``"dev"`` or ``"test"``, or one of its
            extra splits: ``"phrases"`` (sst2, sst5), ``"unsup"`` (imdb).
        progress: show a progress bar if a download is needed.

    Returns:
        :class:`LabelledTexts`; for imdb's ``"unsup"`` a ``list[str]`` of unlabelled reviews.

    Raises:
        MissingDataError: unknown name, or a file that cannot be found or downloaded.
        ChecksumError: a file with the wrong sha256.
        InputError (a ValueError): a split the dataset does not have.
    """
    spec = get(name)
    if split not in spec.splits + spec.extra_splits:
        known = list(spec.splits + spec.extra_splits)
        raise InputError(f"{name} has splits {known}, not {split!r}")
    return _parse_all(spec, progress)[split]


def load_splits(
    source: str | os.PathLike,
    dev: str | os.PathLike | None = None,
    dev_fraction: float = 0.1,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, LabelledTexts]:
    """Every split for training on ``source``: a registered name, or a user's file or folder.

    - A registered name gives its splits (``train``, ``dev``, ``test``), never its extra
      splits (SST's ``phrases``, IMDB's ``unsup``: :func:`load` gives those).
    - A path (see :func:`rnnlab.data.load_path`: a ``text<TAB>label`` TSV or a folder with
      one sub-folder per class) gives ``train`` and ``dev``: ``dev`` is read from the ``dev``
      path if given (its labels must be among the training labels), otherwise a seeded
      ``dev_fraction`` of the file is held out (:func:`split_dev`).

    A ``dev`` path given with a registered name replaces that dataset's dev split.

    Raises:
        MissingDataError: ``source`` is neither a registered name nor an existing path.
        DataFormatError, ChecksumError: as the loaders raise them.
        InputError (a ValueError): too few examples to hold ``dev_fraction`` of them out.
    """
    key = os.fspath(source)
    if key in _REGISTRY:
        spec = _REGISTRY.get(key)
        parsed = _parse_all(spec, progress)
        splits = {split: parsed[split] for split in spec.splits}
        if dev is not None:
            splits["dev"] = load_path(dev, label_names=splits["train"].label_names)
        return splits
    if not Path(key).exists():
        raise MissingDataError(
            f"{key!r} is neither a known dataset ({', '.join(names())}) nor an existing file "
            "or folder"
        )
    train = load_path(key)
    if dev is not None:
        return {"train": train, "dev": load_path(dev, label_names=train.label_names)}
    train, held_out = split_dev(train, dev_fraction, seed)
    logger.info(
        "held out %d of %d examples of %s as dev (seed %d)",
        len(held_out),
        len(train) + len(held_out),
        key,
        seed,
    )
    return {"train": train, "dev": held_out}
