"""Padding variable-length id sequences into one rectangular array, with Keras' semantics.

``pad_sequences`` reproduces ``keras.utils.pad_sequences`` (Keras 3, same as
``tf.keras.preprocessing.sequence.pad_sequences``): the output has shape ``(N, maxlen)``;
``maxlen=None`` means the longest sequence; shorter sequences are filled with ``value`` before
(``padding="pre"``, the default) or after (``"post"``) their ids; longer ones lose ids from the
start (``truncating="pre"``, the default: the end of a review is kept) or the end (``"post"``).

Where Keras fails or misbehaves on an edge case we do the evident thing instead, and say so:

- an empty list of sequences gives an array of shape ``(0, maxlen or 0)`` (Keras raises from
  ``np.max([])``);
- ``maxlen=0`` gives shape ``(N, 0)`` (Keras' ``s[-0:]`` keeps the whole sequence and then fails
  to broadcast it into the empty row);
- a bad ``padding`` or ``truncating`` is a ``ValueError`` even when every sequence is empty
  (Keras only checks them inside its loop over non-empty sequences).

Only 1-D sequences (of ids) are accepted; Keras also pads sequences of vectors, which no rnnlab
pipeline needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["pad_sequences"]

_SIDES = ("pre", "post")


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    maxlen: int | None = None,
    dtype: npt.DTypeLike = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float = 0,
) -> np.ndarray:
    """Pad (and truncate) ``N`` sequences to one length, exactly as Keras does.

    Args:
        sequences: ``N`` sequences of ids (lists, tuples or 1-D arrays), lengths may differ.
        maxlen: output length ``T``; ``None``: the longest sequence's length. ``>= 0``.
        dtype: output dtype (Keras' default ``"int32"``; use ``"int64"`` for ``torch.long``).
        padding: ``"pre"`` fills before the ids, ``"post"`` after.
        truncating: ``"pre"`` drops ids from the start of a too-long sequence, ``"post"`` from
            its end.
        value: the fill value (0 is ``<pad>``).

    Returns:
        Array of shape ``(N, T)`` and dtype ``dtype``.

    Raises:
        ValueError: unknown ``padding``/``truncating``, negative ``maxlen``, or an element of
            ``sequences`` that is not a sequence.
    """
    if padding not in _SIDES:
        raise ValueError(f'padding must be "pre" or "post", got {padding!r}')
    if truncating not in _SIDES:
        raise ValueError(f'truncating must be "pre" or "post", got {truncating!r}')
    if maxlen is not None and maxlen < 0:
        raise ValueError(f"maxlen must be >= 0 or None, got {maxlen}")
    lengths = []
    for i, seq in enumerate(sequences):
        try:
            lengths.append(len(seq))
        except TypeError as e:
            raise ValueError(f"sequences[{i}] is not a sequence: {seq!r}") from e
    N = len(lengths)
    T = (max(lengths) if lengths else 0) if maxlen is None else int(maxlen)

    out = np.full((N, T), value, dtype=dtype)  # (N, T)
    if T == 0:
        return out
    for i, seq in enumerate(sequences):
        if len(seq) == 0:
            continue
        kept = seq[-T:] if truncating == "pre" else seq[:T]
        kept = np.asarray(kept, dtype=dtype)  # (<=T,)
        if kept.ndim != 1:
            raise ValueError(f"sequences[{i}] must be 1-D, got shape {kept.shape}")
        if padding == "pre":
            out[i, T - len(kept) :] = kept
        else:
            out[i, : len(kept)] = kept
    return out
