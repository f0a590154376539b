"""The dataset registry: a name -> files (URLs, sha256) and the parser that turns them into splits.

>>> from rnnlab import data
>>> train = data.load("sst2", "train")  # doctest: +SKIP
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

Parser = Callable[[dict[str, Path]], dict[str, LabelledTexts]]


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    ``parse`` receives ``{file name: verified local path}`` for every file in ``files`` and
    returns ``{split name: LabelledTexts}`` with exactly the splits in ``splits``.
    """

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "sentiment/sst"
    files: tuple[RemoteFile, ...]
    parse: Parser
    splits: tuple[str, ...] = ("train", "dev", "test")
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.files or not self.splits:
            raise ValueError(f"dataset {self.name!r} needs a name, files and splits")


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


def _parse_all(spec: DatasetSpec, progress: bool) -> dict[str, LabelledTexts]:
    paths = {f.name: fetch(f, spec.subdir, progress=progress) for f in spec.files}
    splits = spec.parse(paths)
    if set(splits) != set(spec.splits):
        raise RuntimeError(f"parser of {spec.name} returned splits {sorted(splits)}")
    for split, examples in splits.items():
        logger.info(
            "%s/%s: %d examples, per class %s",
            spec.name,
            split,
            len(examples),
            examples.class_counts(),
        )
    return splits


def load(name: str, split: str = "train", progress: bool = True) -> LabelledTexts:
    """One split of a registered dataset, fetched (mirror, cache or download) and verified.

    Args:
        name: a registered name (:func:`names`): ``sst2``, ``sst5``, ``review_polarity``,
            ``imdb``.
        split: one of the dataset's splits, ``"train"``, ``"dev"`` or ``"test"``.
        progress: show a progress bar if a download is needed.

    Raises:
        MissingDataError: unknown name, or a file that cannot be found or downloaded.
        ChecksumError: a file with the wrong sha256.
        InputError (a ValueError): a split the dataset does not have.
    """
    spec = get(name)
    if split not in spec.splits:
        raise InputError(f"{name} has splits {list(spec.splits)}, not {split!r}")
    return _parse_all(spec, progress)[split]


def load_splits(
    source: str | os.PathLike,
    dev: str | os.PathLike | None = None,
    dev_fraction: float = 0.1,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, LabelledTexts]:
    """Every split for training on ``source``: a registered name, or a user's file or folder.

    - A registered name gives all its splits (``train``, ``dev``, ``test``).
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
        splits = _parse_all(_REGISTRY.get(key), progress)
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
