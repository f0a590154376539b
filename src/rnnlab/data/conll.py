"""Tagged sentences (:class:`TaggedSentences`: one tag per token, for NER, chunks, POS) and the
column file formats they come in.

>>> from rnnlab.data.conll import parse_token_tag
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

A path is read by its name (:func:`read_tagged_path`): ``*.conllu`` (``.gz`` too) as CoNLL-U, a
file with TABs as token<TAB>tag, any other as whitespace columns (first the token, last the tag,
as in CoNLL-2003).

The registered datasets (CoNLL-2003, CoNLL-2000, UD English-LinES) are in
:mod:`rnnlab.data.tagging`.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.errors import DataFormatError
from rnnlab.data.text_files import read_path
from rnnlab.errors import InputError
from rnnlab.metrics.entities import SCHEMES, convert_tags

__all__ = [
    "CONLL2000_TARGETS",
    "CONLL2003_TARGETS",
    "CONLLU_TARGETS",
    "TaggedSentences",
    "detect_scheme",
    "parse_conll2000",
    "parse_conll2003",
    "parse_conllu",
    "parse_token_tag",
    "read_tagged_path",
    "split_dev_sentences",
]

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
        raise InputError(f"target must be one of {tuple(targets)}, got {target!r}")
    return targets[target]


def parse_conll2003(text: str, target: str = "ner", scheme: str = "IOB2",
                    source: str = "<conll2003>") -> TaggedSentences:  # fmt: skip
    """CoNLL-2003 4-column text; ``ner``/``chunk`` tags (IOB1 in the file) go to ``scheme``."""
    col = _check_target(target, CONLL2003_TARGETS)
    tokens, tags = _columns(text, source, 0, col, width=4)
    own = "IOB1" if target != "pos" else None
    return _to_scheme(TaggedSentences(tokens, tags, own), scheme, source)


def parse_conll2000(text: str, target: str = "chunk", scheme: str = "IOB2",
                    source: str = "<conll2000>") -> TaggedSentences:  # fmt: skip
    """CoNLL-2000 3-column text; ``chunk`` tags (IOB2 in the file) go to ``scheme``."""
    col = _check_target(target, CONLL2000_TARGETS)
    tokens, tags = _columns(text, source, 0, col, width=3)
    own = "IOB2" if target == "chunk" else None
    return _to_scheme(TaggedSentences(tokens, tags, own), scheme, source)


def _to_scheme(data: TaggedSentences, scheme: str | None, source: str) -> TaggedSentences:
    """``data.to_scheme(scheme)``; a tag that does not fit the file's own scheme (a damaged
    file) is a DataFormatError naming ``source``, not a bare ValueError."""
    if scheme is not None and scheme not in SCHEMES:  # the caller's mistake: a ValueError
        raise ValueError(f"scheme must be one of {SCHEMES} or None, got {scheme!r}")
    try:
        return data.to_scheme(scheme)
    except ValueError as e:
        raise DataFormatError(f"{source}: {e}") from e


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
        InputError (a ValueError): a ``target`` the file cannot give.
    """
    path = Path(path)
    text = read_path(path)
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if name.endswith(".conllu"):
        return parse_conllu(text, target or "upos", str(path))
    if target is not None:
        raise InputError(f"--target applies to registered datasets and .conllu files, not {path}: "
                         "leave it out for a file with one tag column")  # fmt: skip
    if "\t" in text:
        return parse_token_tag(text, scheme, str(path))
    tokens, tags = _columns(text, str(path), 0, -1, width=None)
    return TaggedSentences(tokens, tags, detect_scheme(tags)).to_scheme(scheme)


def split_dev_sentences(data: TaggedSentences, fraction: float = 0.1,
                        seed: int = 0) -> tuple[TaggedSentences, TaggedSentences]:  # fmt: skip
    """(train, dev): ``round(fraction * N)`` sentences drawn by ``random.Random(seed)`` go to dev,
    both keep the file order (as :func:`rnnlab.data.split_dev` does for labelled texts).

    Raises:
        InputError (a ValueError): ``fraction`` outside (0, 1), or too few sentences for two
            non-empty splits.
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"fraction must be in (0, 1), got {fraction}")
    N = len(data)
    n_dev = round(fraction * N)
    if not 0 < n_dev < N:
        raise InputError(f"cannot hold out {fraction:.0%} of {N} sentences as dev; give a dev file")
    dev = set(random.Random(seed).sample(range(N), n_dev))
    return (data.subset([i for i in range(N) if i not in dev]),
            data.subset(sorted(dev)))  # fmt: skip
