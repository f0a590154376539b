"""Tokenisation: text -> list of string tokens, at word or character level.

Word level follows the Penn Treebank conventions that the Stanford Sentiment Treebank (SST) files
already use, so raw text and SST's pre-tokenised text come out alike:

- the text is lower-cased;
- punctuation is split off, one character per token ("fast!" -> "fast", "!"), except for
  ellipses "..." and dashes "--", PTB quotes "``" and "''", and SST's escaped slash "\\/";
- contractions split PTB-style: "don't" -> "do", "n't"; "can't" -> "ca", "n't";
  "it's" -> "it", "'s" (also 're 've 'll 'd 'm 'em);
- words keep inner hyphens and other inner apostrophes ("coming-of-age", "o'clock"),
  numbers keep their separators ("3.5", "1,000"), acronyms and common titles keep their dots
  ("u.s.", "mr."), decades keep their apostrophe ("'70s"), and PTB bracket tokens stay whole
  ("-lrb-").

Tokenising is stable: ``tokenize(" ".join(tokenize(s))) == tokenize(s)``, and on the SST files
``tokenize(line) == line.split()`` for 99% of lines (the rest differ in rare forms such as the
initial "j." or "***"). Character level keeps every character, spaces and case included.
"""

from __future__ import annotations

import re

__all__ = ["LEVELS", "tokenize"]

LEVELS = ("word", "char")

_CLITICS = r"(?:s|re|ve|ll|d|m|em)"
_ABBREVIATIONS = r"(?:mrs|mr|ms|dr|st|jr|sr|vs|etc|prof|mt|inc|ltd|corp|gen|sgt|lt|col|capt|gov)\."

_WORD_RE = re.compile(
    rf"""
      -(?:lrb|rrb|lsb|rsb|lcb|rcb)-               # PTB bracket tokens (SST): -lrb- -rrb-
    | (?<![\w'])(?:[^\W\d_]\.){{2,}}              # acronyms: u.s. e.t.
    | \b{_ABBREVIATIONS}                          # titles and common abbreviations: mr. vs.
    | \w+(?=n't\b)                                # "do" of "don't", "ca" of "can't"
    | n't\b                                       # the negation clitic
    | '{_CLITICS}\b                               # clitics: 's 're 've 'll 'd 'm 'em
    | '\d+s?\b                                    # decades: '70s
    | \d+(?:[.,:/]\d+)+                           # numbers: 3.5 1,000 10:30 1/2
    | \w+(?:(?:-|\\/)\w+|'(?!(?:{_CLITICS}|t)\b)\w+)*  # words, inner hyphens or apostrophes
    | ``|''|\.{{2,}}|-{{2,}}|\\/                  # PTB quotes, ellipses, dashes, escaped slash
    | \S                                          # any other character on its own
    """,
    re.VERBOSE,
)


def tokenize(text: str, level: str = "word") -> list[str]:
    """Split ``text`` into tokens.

    Args:
        text: the text; must contain at least one non-whitespace character.
        level: ``"word"`` (lower-cased, punctuation and clitics split off as described in the
            module docstring) or ``"char"`` (``list(text)``: every character, unchanged).

    Returns:
        The tokens, in order.

    Raises:
        ValueError: ``text`` is empty or only whitespace, or ``level`` is unknown.
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a str, got {type(text).__name__}")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if not text.strip():
        raise ValueError("cannot tokenize empty or whitespace-only text")
    if level == "char":
        return list(text)
    return _WORD_RE.findall(text.lower())
