"""Penn-Treebank bracketed trees with integer labels, as the Stanford Sentiment Treebank ships them.

One tree per line: a node is ``(label child child ...)`` or, at a leaf, ``(label word)``; the
label is a non-negative integer (SST: 0 very negative ... 4 very positive, on every node):

>>> tree = parse_tree("(3 (2 -LRB-it) (4 (3 works) (2 \\\\/well)))")
>>> tree.words
['(it', 'works', '/well']
>>> tree.phrases()[1:3]
[(('(it',), 2), (('works', '/well'), 4)]

Words are the leaves with the PTB escapes undone (:func:`unescape`): ``-LRB-`` ``(``, ``-RRB-``
``)``, ``-LSB-`` ``[``, ``-RSB-`` ``]``, ``-LCB-`` ``{``, ``-RCB-`` ``}``, ``\\/`` ``/`` and
``\\*`` ``*``; case is kept. Tokens are separated by ASCII spaces (and tabs) only: an SST word
may hold a no-break space (``8\\xa01\\/2``), which stays inside the word.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.errors import DataFormatError, MissingDataError

__all__ = ["Tree", "parse_tree", "read_trees", "unescape"]

_ESCAPES = {
    "-LRB-": "(",
    "-RRB-": ")",
    "-LSB-": "[",
    "-RSB-": "]",
    "-LCB-": "{",
    "-RCB-": "}",
    "\\/": "/",
    "\\*": "*",
}
_ESCAPE_RE = re.compile("|".join(re.escape(e) for e in _ESCAPES))
# a bracket, or a run of anything but brackets and ASCII blanks (not \s: it matches U+00A0)
_TOKEN_RE = re.compile(r"[()]|[^() \t\r\n]+")


def unescape(word: str) -> str:
    """``word`` with the PTB escapes (module docstring) turned back into the characters."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], word)


@dataclass(frozen=True, slots=True)
class Tree:
    """A labelled node: a leaf holds a ``word``, an inner node its ``children`` (one or more).

    Attributes:
        label: the node's integer label (SST: its sentiment class, 0-4).
        children: the sub-trees, left to right; ``()`` at a leaf.
        word: the leaf's word, escapes undone; ``None`` at an inner node.
    """

    label: int
    children: tuple[Tree, ...] = ()
    word: str | None = None

    def __post_init__(self) -> None:
        if (self.word is None) == (not self.children):
            raise ValueError("a Tree holds either a word (a leaf) or children, exactly one")

    def leaves(self) -> list[Tree]:
        """The leaf nodes, left to right (each with its own label and word)."""
        out, stack = [], [self]
        while stack:
            node = stack.pop()
            if node.word is not None:
                out.append(node)
            stack.extend(reversed(node.children))
        return out

    @property
    def words(self) -> list[str]:
        """The words of the leaves, left to right: the sentence is ``" ".join(tree.words)``."""
        return [leaf.word for leaf in self.leaves()]

    def phrases(self) -> list[tuple[tuple[str, ...], int]]:
        """``(words, label)`` of every node, pre-order (the whole tree first, then left to right).

        A node's words are the leaves below it; a leaf gives ``((word,), label)``. Every node is
        listed, so a phrase appears more than once when several nodes span the same words.
        """
        words = self.words
        out: list[tuple[tuple[str, ...], int]] = []

        def visit(node: Tree, start: int) -> int:  # returns the end of node's span
            i = len(out)
            out.append(((), node.label))  # filled in once the span is known
            end = start + 1 if node.word is not None else start
            for child in node.children:
                end = visit(child, end)
            out[i] = (tuple(words[start:end]), node.label)
            return end

        visit(self, 0)
        return out


class _Error(Exception):
    """A parse error at the token numbered ``at``; :func:`parse_tree` turns it into a column."""

    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.message, self.at = message, at


def _parse(tokens: list[str]) -> Tree:
    if not tokens:
        raise _Error("empty line: expected a tree '(label ...)'", 0)
    pos = 0

    def node() -> Tree:  # tokens[pos] is "("
        nonlocal pos
        opened = pos
        pos += 1
        if pos == len(tokens):
            raise _Error("unbalanced brackets: '(' is never closed", opened)
        label = tokens[pos]
        if label in "()":
            raise _Error("missing label after '('", pos)
        if not (label.isascii() and label.isdigit()):
            raise _Error(f"label {label!r} is not a non-negative integer", pos)
        pos += 1
        children: list[Tree] = []
        words: list[int] = []  # positions of the words
        while True:
            if pos == len(tokens):
                raise _Error("unbalanced brackets: '(' is never closed", opened)
            token = tokens[pos]
            if token == ")":
                pos += 1
                break
            if token == "(":
                children.append(node())
            else:
                words.append(pos)
                pos += 1
        if words and (children or len(words) > 1):
            raise _Error(
                f"a node holds either one word or sub-trees, got {len(words)} word(s) "
                f"and {len(children)} sub-tree(s)",
                words[-1],
            )
        if words:
            return Tree(int(label), word=unescape(tokens[words[0]]))
        if not children:
            raise _Error(f"node with label {label} has neither a word nor sub-trees", opened)
        return Tree(int(label), tuple(children))

    if tokens[0] != "(":
        raise _Error(f"expected '(' to open the tree, got {tokens[0]!r}", 0)
    tree = node()
    if pos < len(tokens):
        if tokens[pos] == ")":
            raise _Error("unbalanced brackets: ')' with no '(' to close", pos)
        raise _Error(f"text after the tree ends: {tokens[pos]!r}", pos)
    return tree


def parse_tree(text: str, where: str = "<string>") -> Tree:
    """The tree written on one line, ``(label child child ...)`` / ``(label word)``.

    Args:
        text: one bracketed tree (surrounding blanks and a final newline are allowed).
        where: what error messages call the place, e.g. ``"train.txt:12"``.

    Raises:
        DataFormatError: ``where: <what is wrong> (column c)`` for an empty line, unbalanced
            brackets, a missing or non-integer label, a node with neither a word nor sub-trees
            or with both, or text after the tree.
    """
    try:
        return _parse(_TOKEN_RE.findall(text))
    except _Error as e:
        starts = [m.start() + 1 for m in _TOKEN_RE.finditer(text)] or [1]
        message = f"{where}: {e.message} (column {starts[e.at]})"
    raise DataFormatError(message)


def read_trees(path: str | os.PathLike) -> list[Tree]:
    """Every tree of a file, one per line (UTF-8, gunzipped first when named ``*.gz``).

    Raises:
        MissingDataError: no such file.
        DataFormatError: ``file:line: ...`` at the first malformed line (:func:`parse_tree`;
            a blank line is malformed too), a file that is not gzip or UTF-8, or one without
            trees.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such file: {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise DataFormatError(f"cannot read trees from {path}: {e}") from e
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not open an empty one
    trees = [parse_tree(line, f"{path}:{n}") for n, line in enumerate(lines, start=1)]
    if not trees:
        raise DataFormatError(f"{path} has no trees")
    return trees
