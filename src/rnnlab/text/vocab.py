"""Vocabulary: a fixed bijection between tokens and integer ids.

Ids 0-3 are reserved, in this order: ``<pad>`` = 0 (what padding fills with, and what
``nn.Embedding(padding_idx=0)`` ignores), ``<unk>`` = 1 (any token not in the vocabulary),
``<bos>`` = 2 and ``<eos>`` = 3 (sequence boundaries for language models and decoders).
Real tokens are numbered from 4 in order of decreasing corpus frequency, ties broken by first
occurrence, so the numbering is deterministic for a given corpus.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BOS", "EOS", "PAD", "SPECIALS", "UNK", "Vocab", "check_max_size"]

logger = logging.getLogger(__name__)

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)  # their ids are their positions: 0, 1, 2, 3

_FORMAT = "rnnlab.vocab"
_VERSION = 1


def check_max_size(max_size: int | None, name: str = "max_size") -> None:
    """ValueError naming ``name`` unless ``max_size`` is None or holds at least the reserved
    tokens (what :meth:`Vocab.build` takes; a task's job checks its ``max_vocab`` with it)."""
    if max_size is not None and max_size < len(SPECIALS):
        raise ValueError(
            f"{name} counts the {len(SPECIALS)} reserved tokens and must be >= "
            f"{len(SPECIALS)}, got {max_size}"
        )


@dataclass
class Vocab:
    """A token <-> id mapping whose first four entries are ``SPECIALS``.

    Build one from a corpus with :meth:`Vocab.build`; construct directly only from a known list.

    Attributes:
        itos: id -> token; ``itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]``, no duplicates.
    """

    itos: list[str]
    stoi: dict[str, int] = field(init=False, repr=False)  # token -> id, derived from itos

    pad_id = 0
    unk_id = 1
    bos_id = 2
    eos_id = 3

    def __post_init__(self) -> None:
        self.itos = list(self.itos)
        if tuple(self.itos[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with {list(SPECIALS)}, got {self.itos[:4]}")
        for token in self.itos:
            if not isinstance(token, str) or not token:
                raise ValueError(f"vocabulary tokens must be non-empty strings, got {token!r}")
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dupes = sorted(t for t, n in Counter(self.itos).items() if n > 1)
            raise ValueError(f"duplicate tokens in vocabulary: {dupes[:10]}")

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        max_size: int | None = None,
        min_freq: int = 1,
    ) -> Vocab:
        """Count tokens and number them by decreasing frequency (ties: first occurrence).

        Args:
            token_lists: the tokenised corpus, one token list per example.
            max_size: the most ids the vocabulary may hold, *counting the 4 reserved ones*
                (Keras' ``num_words`` convention: every id is ``< max_size``, so it is directly
                the embedding table size). ``None``: no limit. Must be ``>= 4``.
            min_freq: drop tokens seen fewer than this many times (``>= 1``).

        Returns:
            The vocabulary; ``len(vocab) <= max_size``. A token of the corpus that is itself a
            reserved name (PTB's ``<unk>``) maps to the reserved id, never gets a new one.
        """
        check_max_size(max_size)
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        if isinstance(token_lists, str):
            raise TypeError("token_lists must be an iterable of token lists, not one string")
        counts: Counter[str] = Counter()  # insertion order = first occurrence
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise TypeError(f"each example must be a list of tokens, got the string {tokens!r}")
            counts.update(tokens)
        for special in SPECIALS:
            counts.pop(special, None)
        # sorted() is stable: equal counts keep first-occurrence order
        ranked = sorted(counts.items(), key=lambda item: -item[1])
        tokens = [token for token, n in ranked if n >= min_freq]
        if max_size is not None:
            tokens = tokens[: max_size - len(SPECIALS)]
        logger.debug("vocabulary: %d of %d distinct tokens kept", len(tokens), len(counts))
        return cls(list(SPECIALS) + tokens)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token``; ``unk_id`` if it is not in the vocabulary."""
        return self.stoi.get(token, self.unk_id)

    def encode(
        self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        """Map tokens to ids (unknown -> ``unk_id``), optionally wrapped in ``<bos>``/``<eos>``.

        Returns:
            ids, length ``len(tokens) + add_bos + add_eos``.
        """
        if isinstance(tokens, str):
            raise TypeError("encode expects a list of tokens; tokenize the string first")
        unk = self.unk_id
        ids = [self.stoi.get(token, unk) for token in tokens]
        if add_bos:
            ids.insert(0, self.bos_id)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int], skip_special: bool = False) -> list[str]:
        """Map ids back to tokens.

        Args:
            ids: integer ids (a list, or a 1-D tensor/array), each in ``[0, len(self))``.
            skip_special: drop ``<pad>``, ``<bos>`` and ``<eos>`` (``<unk>`` is kept: it stands
                for a real word).

        Raises:
            IndexError: an id outside ``[0, len(self))``.
        """
        skip = {self.pad_id, self.bos_id, self.eos_id} if skip_special else set()
        tokens = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise IndexError(f"id {i} is outside the vocabulary [0, {len(self.itos)})")
            if i not in skip:
                tokens.append(self.itos[i])
        return tokens

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON, atomically (a temporary file, then ``os.replace``)."""
        path = Path(path)
        payload = {"format": _FORMAT, "version": _VERSION, "itos": self.itos}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f, ensure_ascii=False, indent=0)
                f.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not a valid rnnlab vocabulary (the message names the file).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no vocabulary file at {path}")
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path} is not a valid vocabulary file (corrupt JSON: {e})") from e
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path} is not an rnnlab vocabulary file (no format: {_FORMAT!r})")
        if payload.get("version") != _VERSION:
            raise ValueError(f"{path}: unsupported vocabulary version {payload.get('version')!r}")
        itos = payload.get("itos")
        if not isinstance(itos, list):
            raise ValueError(f"{path}: 'itos' must be a list of tokens")
        try:
            return cls(itos)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from e
