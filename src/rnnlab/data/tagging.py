"""Sequence-tagging data: one tag per token (NER, chunks, POS), read from the usual file formats.

>>> from rnnlab.data.tagging import parse_token_tag
>>> parse_token_tag("Mohan\\tB-PER\\ndrives\\tO\\n\\nParis\\tB-LOC\\n").tags
[['B-PER', 'O'], ['B-LOC']]

Formats (blank lines end sentences everywhere):

- **CoNLL-2003** (``WORD POS CHUNK NER``, space-separated; ``-DOCSTART-`` lines skipped). NER
  and chunk tags are IOB1 in the files; they are converted to the scheme asked for (IOB2 by
  default, or BIOES, or kept as IOB1): see :mod:`rnnlab.metrics.entities`.
- **CoNLL-2000** (``WORD POS CHUNK``, chunk tags IOB2): chunking or POS tagging.
- **CoNLL-U** (Universal Dependencies: 10 TAB-separated columns, ``#`` comments): UPOS (column 4)
  or XPOS (column 5); multiword-token lines (``3-4``) and empty nodes (``5.1``) are skipped.
- **token<TAB>tag**, one token per line: any user's file.

Registered datasets (``$RNNLAB_DATA`` mirror, cache, download; sha256 always checked; a mirror may
hold a file gzipped as ``NAME.gz`` whose decompressed bytes have the registered sha256):

- ``conll2003``: English NER, 4 types (PER, LOC, ORG, MISC); ``eng.train``/``eng.testa``/
  ``eng.testb`` are train/dev/test (14,041 / 3,250 / 3,453 sentences). Targets ``ner``
  (default), ``pos``, ``chunk``.
- ``conll2000``: WSJ chunking, train 8,936 / test 2,012 sentences; dev is a seeded 10% of train
  (seed 0). Targets ``chunk`` (default), ``pos``.
- ``ud_english_lines``: UD English-LinES (CC BY-NC-SA 4.0), train/dev/test 3,457 / 1,118 /
  1,121 sentences. Targets ``upos`` (default, 17 tags), ``xpos``.

A path is read by its name: ``*.conllu`` (``.gz`` too) as CoNLL-U, a file with TABs as
token<TAB>tag, any other as whitespace columns (first the token, last the tag, as in CoNLL-2003).
"""

from __future__ import annotations

import logging
import os
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.download import RemoteFile, fetch
from rnnlab.data.errors import DataFormatError, MissingDataError
from rnnlab.data.language_modeling import read_path, read_text
from rnnlab.data.registry import Registry
from rnnlab.metrics.entities import SCHEMES, convert_tags

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

_SPAN_TAG = re.compile(r"^(?:O|[BIES]-.+)$")


@dataclass
class TaggedSentences:
    """Sentences with one tag per token.

    Attributes:
        tokens: N sentences of tokens, as in the file (case kept).
        tags: N sentences of tags, each as long as its sentence.
        scheme: the span scheme of the tags (``"IOB1"``, ``"IOB2"``, ``"BIOES"``), so that
            entity-level scores apply; ``None`` for tags without spans (POS).
    """

    tokens: list[list[str]]
    tags: list[list[str]]
    scheme: str | None = None

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} sentences but {len(self.tags)} tag sequences")
        for i, (words, tags) in enumerate(zip(self.tokens, self.tags, strict=True)):
            if not words or len(words) != len(tags):
                raise ValueError(f"sentence {i}: {len(words)} tokens and {len(tags)} tags")
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES} or None, got {self.scheme!r}")

    def __len__(self) -> int:
        return len(self.tokens)

    def num_tokens(self) -> int:
        """Tokens over all sentences."""
        return sum(len(s) for s in self.tokens)

    def tag_names(self) -> list[str]:
        """The distinct tags, sorted (``O`` first when present)."""
        names = {t for tags in self.tags for t in tags}
        return sorted(names, key=lambda t: (t != "O", t))

    def subset(self, indices: Sequence[int]) -> TaggedSentences:
        """The sentences at ``indices``, in that order."""
        return TaggedSentences([self.tokens[i] for i in indices],
                               [self.tags[i] for i in indices], self.scheme)  # fmt: skip

    def to_scheme(self, scheme: str | None) -> TaggedSentences:
        """The same entities in ``scheme`` (``None``: unchanged); POS data stays as it is.

        Raises:
            ValueError: an unknown scheme, or a tag that does not fit the data's own scheme.
        """
        if scheme is None or self.scheme is None or scheme == self.scheme:
            return self
        tags = [convert_tags(t, self.scheme, scheme) for t in self.tags]
        return TaggedSentences(self.tokens, tags, scheme)


def detect_scheme(tags: Sequence[Sequence[str]]) -> str | None:
    """The span scheme of a tagged corpus: ``None`` unless every tag is ``O`` or ``P-TYPE``
    (P in B, I, E, S); ``"BIOES"`` when some tag starts with ``E-``/``S-``; ``"IOB1"`` when an
    entity starts with ``I-`` (at the start, after ``O`` or after another type); else ``"IOB2"``.
    """
    flat = [t for sentence in tags for t in sentence]
    if not flat or not all(_SPAN_TAG.match(t) for t in flat) or set(flat) == {"O"}:
        return None
    if any(t[0] in "ES" for t in flat):
        return "BIOES"
    for sentence in tags:
        prev = "O"
        for t in sentence:
            if t.startswith("I-") and (prev == "O" or prev[2:] != t[2:]):
                return "IOB1"
            prev = t
    return "IOB2"


# ----------------------------------------------------------------------------- readers


def _sentences(text: str, source: str) -> list[list[tuple[int, str]]]:
    """Blank-line separated blocks of (line number, line), without ``-DOCSTART-`` lines."""
    blocks, block = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            if block:
                blocks.append(block)
            block = []
        elif not line.startswith("-DOCSTART-"):
            block.append((number, line))
    if block:
        blocks.append(block)
    if not blocks:
        raise DataFormatError(f"{source} has no sentences")
    return blocks


def _columns(text: str, source: str, token_col: int, tag_col: int, width: int | None,
             sep: str | None = None) -> tuple[list[list[str]], list[list[str]]]:  # fmt: skip
    """Tokens and tags from column files; ``width`` (if given) is the exact number of columns."""
    tokens, tags = [], []
    for block in _sentences(text, source):
        words, labels = [], []
        for number, line in block:
            cols = line.split(sep) if sep else line.split()
            if (width is not None and len(cols) != width) or len(cols) < 2:
                expected = f"{width} columns" if width else "a token and a tag"
                raise DataFormatError(f"{source}:{number}: expected {expected}, got {line[:80]!r}")
            words.append(cols[token_col])
            labels.append(cols[tag_col])
        tokens.append(words)
        tags.append(labels)
    return tokens, tags


CONLL2003_TARGETS = {"ner": 3, "pos": 1, "chunk": 2}
CONLL2000_TARGETS = {"chunk": 2, "pos": 1}
CONLLU_TARGETS = {"upos": 3, "xpos": 4}


def _check_target(target: str, targets: dict) -> int:
    if target not in targets:
        raise ValueError(f"target must be one of {tuple(targets)}, got {target!r}")
    return targets[target]


def parse_conll2003(text: str, target: str = "ner", scheme: str = "IOB2",
                    source: str = "<conll2003>") -> TaggedSentences:  # fmt: skip
    """CoNLL-2003 4-column text; ``ner``/``chunk`` tags (IOB1 in the file) go to ``scheme``."""
    col = _check_target(target, CONLL2003_TARGETS)
    tokens, tags = _columns(text, source, 0, col, width=4)
    own = "IOB1" if target != "pos" else None
    return TaggedSentences(tokens, tags, own).to_scheme(scheme)


def parse_conll2000(text: str, target: str = "chunk", scheme: str = "IOB2",
                    source: str = "<conll2000>") -> TaggedSentences:  # fmt: skip
    """CoNLL-2000 3-column text; ``chunk`` tags (IOB2 in the file) go to ``scheme``."""
    col = _check_target(target, CONLL2000_TARGETS)
    tokens, tags = _columns(text, source, 0, col, width=3)
    own = "IOB2" if target == "chunk" else None
    return TaggedSentences(tokens, tags, own).to_scheme(scheme)


def parse_conllu(text: str, target: str = "upos", source: str = "<conllu>") -> TaggedSentences:
    """CoNLL-U: the FORM and the UPOS (or XPOS) of every word line."""
    col = _check_target(target, CONLLU_TARGETS)
    words_only = "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith("#") and not re.match(r"^\d+[-.]\d+\t", line)
    )
    tokens, tags = _columns(words_only, source, 1, col, width=10, sep="\t")
    return TaggedSentences(tokens, tags, None)


def parse_token_tag(text: str, scheme: str | None = "IOB2",
                    source: str = "<token-tag>") -> TaggedSentences:  # fmt: skip
    """``token<TAB>tag`` lines; span tags (scheme detected) are converted to ``scheme``."""
    tokens, tags = _columns(text, source, 0, 1, width=2, sep="\t")
    return TaggedSentences(tokens, tags, detect_scheme(tags)).to_scheme(scheme)


def read_tagged_path(path: str | os.PathLike, target: str | None = None,
                     scheme: str | None = "IOB2") -> TaggedSentences:  # fmt: skip
    """A user's file, by its name (module docstring): CoNLL-U, token<TAB>tag or columns.

    ``target`` picks the CoNLL-U column (``upos``, ``xpos``); other files have one tag column.

    Raises:
        MissingDataError: no such file. DataFormatError: a line that does not fit.
    """
    path = Path(path)
    text = read_path(path)
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if name.endswith(".conllu"):
        return parse_conllu(text, target or "upos", str(path))
    if target is not None:
        raise ValueError(f"--target applies to registered datasets and .conllu files, not {path}")
    if "\t" in text:
        return parse_token_tag(text, scheme, str(path))
    tokens, tags = _columns(text, str(path), 0, -1, width=None)
    return TaggedSentences(tokens, tags, detect_scheme(tags)).to_scheme(scheme)


def split_dev_sentences(data: TaggedSentences, fraction: float = 0.1,
                        seed: int = 0) -> tuple[TaggedSentences, TaggedSentences]:  # fmt: skip
    """(train, dev): ``round(fraction * N)`` sentences drawn by ``random.Random(seed)`` go to dev,
    both keep the file order (as :func:`rnnlab.data.split_dev` does for labelled texts).

    Raises:
        ValueError: ``fraction`` outside (0, 1), or too few sentences for two non-empty splits.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    N = len(data)
    n_dev = round(fraction * N)
    if not 0 < n_dev < N:
        raise ValueError(f"cannot hold out {fraction:.0%} of {N} sentences as dev; give a dev file")
    dev = set(random.Random(seed).sample(range(N), n_dev))
    return (data.subset([i for i in range(N) if i not in dev]),
            data.subset(sorted(dev)))  # fmt: skip


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


_TAGGING = Registry("tagging dataset", "tagging datasets")


def register_tagging(spec: TaggingSpec, replace: bool = False) -> TaggingSpec:
    """Add ``spec`` to the tagging registry (``replace`` an existing name only when asked)."""
    return _TAGGING.register(spec, replace)


def get_tagging(name: str) -> TaggingSpec:
    """The spec registered as ``name``; MissingDataError listing the known ones otherwise."""
    return _TAGGING.get(name)


def tagging_names() -> list[str]:
    """The registered tagging dataset names, sorted."""
    return _TAGGING.names()


def _file_text(file: RemoteFile, subdir: str, progress: bool) -> str:
    if file.name.endswith(".gz"):  # distributed gzipped: the sha256 is the archive's
        return read_path(fetch(file, subdir, progress=progress))
    return read_text(file, subdir, progress)


def _read_registered(name: str, target: str | None, scheme: str | None,
                     progress: bool) -> dict[str, TaggedSentences]:  # fmt: skip
    spec = _TAGGING.get(name)
    target = target or spec.targets[0]
    if target not in spec.targets:
        raise ValueError(f"{name} has targets {list(spec.targets)}, not {target!r}")
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
        ValueError: an unknown split, target or scheme.
    """
    spec = _TAGGING.get(name)
    if split not in spec.splits:
        raise ValueError(f"{name} has splits {list(spec.splits)}, not {split!r}")
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
