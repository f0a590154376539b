"""A language-modelling corpus, :class:`Corpus` (lines of tokens, at word or character level),
and the text files it is read from.

>>> from rnnlab.data.corpus import corpus_from_text
>>> corpus_from_text("to be\\nor not\\n", "word").stream()
['to', 'be', '<eos>', 'or', 'not', '<eos>']

Formats read from a path (:func:`read_corpus_splits`, which ``load_corpora(path)`` calls):

- a WikiText-style token file (``*.tokens``, as in WikiText-2/103): already tokenised, one
  paragraph or `` = Heading = `` per line, ``@-@``-style escapes and ``<unk>`` as they are, case
  kept. Every line, blank ones too, ends with ``<eos>`` (the convention behind the published
  WikiText perplexities);
- a directory holding ``*train*``, ``*valid*``/``*dev*`` and ``*test*`` files
  (``wiki.train.tokens``..., ``ptb.train.txt``...): each file is one split;
- any other text file (``.gz`` too): raw text. Word level: each non-blank line is tokenised with
  :func:`rnnlab.text.tokenize` (lower-cased, PTB conventions) and ends with ``<eos>``; character
  level: the text itself, newlines included. Without a dev file the last 10% of the text is dev.

The registered corpora (tiny-shakespeare, PTB) are in :mod:`rnnlab.data.language_modeling`.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.errors import DataFormatError
from rnnlab.data.text_files import read_path
from rnnlab.errors import InputError
from rnnlab.text.tokenize import tokenize
from rnnlab.text.vocab import EOS

__all__ = [
    "Corpus",
    "corpus_from_text",
    "find_split_files",
    "read_corpus_file",
    "read_corpus_splits",
    "split_tail",
]

logger = logging.getLogger(__name__)

LEVELS = ("word", "char")
TOKENIZERS = ("word", "whitespace", "char")


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
        InputError (a ValueError): ``fraction`` outside ``(0, 1)``, or a head or tail without
            text.
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"the dev fraction must be in (0, 1), got {fraction}")
    cut = int(len(text) * (1 - fraction))
    if level == "word":
        cut = text.rfind("\n", 0, cut) + 1  # 0 when the cut falls in the first line
    head, tail = text[:cut], text[cut:]
    if not head.strip() or not tail.strip():
        raise InputError(
            f"cannot hold out the last {fraction:.0%} of a {len(text)}-character text as dev: "
            "one side would be empty; give more text (or more lines) or a dev file"
        )
    return head, tail


# ----------------------------------------------------------------------------- reading files


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


def read_corpus_splits(
    path: str | os.PathLike, level: str = "word", dev_fraction: float | None = 0.1
) -> dict[str, Corpus]:
    """The splits of a user's file or folder (formats in the module docstring).

    A folder gives one split per file (:func:`find_split_files`); a file is ``train``. Without a
    dev file the last ``dev_fraction`` of the training text is held out as dev
    (:func:`split_tail`); ``None`` holds nothing out (for a dev file given separately).

    Raises:
        MissingDataError: no such file. DataFormatError: as the readers raise it.
        InputError (a ValueError): a ``dev_fraction`` that leaves the training text or the dev
            text empty.
    """
    path = Path(path)
    files = find_split_files(path) if path.is_dir() else {"train": path}
    splits = {s: read_corpus_file(p, level) for s, p in files.items() if s != "train"}
    if "dev" in splits or dev_fraction is None:
        splits["train"] = read_corpus_file(files["train"], level)
        return splits
    pretokenized, tokenizer = _file_format(files["train"])
    head, tail = split_tail(read_path(files["train"]), dev_fraction, level)
    splits["train"] = corpus_from_text(head, level, pretokenized, tokenizer)
    splits["dev"] = corpus_from_text(tail, level, pretokenized, tokenizer)
    logger.info("held out the last %.0f%% of %s as dev", 100 * dev_fraction, files["train"])
    return splits
