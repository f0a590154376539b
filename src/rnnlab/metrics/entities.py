"""Entity-level (span) scores of tag sequences, conlleval-style, and token accuracy.

A tag is ``O`` or ``P-TYPE`` with a prefix ``P`` and an entity type (``B-PER``, ``I-LOC``).
Schemes (what prefixes a tag may carry):

- ``IOB1`` (CoNLL-2003 as distributed): ``I-X`` inside an entity, ``B-X`` only to start an
  entity right after another of the same type;
- ``IOB2``: every entity starts with ``B-X``;
- ``BIOES``: ``B-X`` begin, ``I-X`` inside, ``E-X`` end, ``S-X`` a single-token entity.

Spans are read the way conlleval (the CoNLL shared tasks' scorer) and seqeval's default mode read
them, which is one procedure for every scheme and never rejects a sequence: a span starts at
``B-``/``S-``, at an ``I-``/``E-`` that follows ``O`` or an ``E-``/``S-``, or at any tag whose
type differs from the previous tag's; it ends before the next start, before ``O``, and after
``E-``/``S-``. So broken spans still count (``O I-PER`` is a PER entity, ``B-PER I-LOC`` two).
Entities never cross a sentence boundary. For an entity type ``t``:

    precision = #(pred spans of t that are gold spans) / #(pred spans of t)
    recall    = #(gold spans of t that are pred spans) / #(gold spans of t)
    F1        = 2 P R / (P + R)

(a ratio with a zero denominator is 0.0); ``"overall"`` is the same over every type (micro).

>>> spans(["B-PER", "I-PER", "O", "I-LOC"])
[('PER', 0, 2), ('LOC', 3, 4)]
>>> entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])["overall"]["f1"]
0.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

__all__ = [
    "SCHEMES",
    "convert_tags",
    "entity_scores",
    "format_entity_table",
    "spans",
    "spans_to_tags",
    "token_accuracy",
]

SCHEMES = ("IOB1", "IOB2", "BIOES")
_PREFIXES = {"IOB1": "BI", "IOB2": "BI", "BIOES": "BIES"}

Span = tuple[str, int, int]  # (type, start, end): tokens start..end-1


def _split(tag: str, scheme: str) -> tuple[str, str]:
    """(prefix, type) of a tag; ``("O", "")`` for ``O``. ValueError if it does not fit."""
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if not dash or len(prefix) != 1 or prefix not in _PREFIXES[scheme] or not kind:
        allowed = ", ".join(f"{p}-TYPE" for p in _PREFIXES[scheme])
        raise ValueError(f"tag {tag!r} is not a {scheme} tag (O, {allowed})")
    return prefix, kind


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def spans(tags: Sequence[str], scheme: str = "IOB2") -> list[Span]:
    """The entities of one sentence's tags, in order, as ``(type, start, end)``, end exclusive.

    Raises:
        ValueError: an unknown scheme, or a tag that is not ``O`` or a tag of ``scheme``.
    """
    _check_scheme(scheme)
    if isinstance(tags, str):
        raise TypeError("spans() takes a sequence of tags, not one string")
    out: list[Span] = []
    start, prev, prev_type = None, "O", ""
    for i, tag in enumerate(tags):
        prefix, kind = _split(tag, scheme)
        begins = prefix != "O" and (
            prefix in "BS" or prev in "OES" or kind != prev_type  # conlleval's startOfChunk
        )
        if start is not None and (prefix == "O" or begins):
            out.append((prev_type, start, i))
            start = None
        if begins:
            start = i
        if start is not None and prefix in "ES":
            out.append((kind, start, i + 1))
            start = None
        prev, prev_type = prefix, kind
    if start is not None:
        out.append((prev_type, start, len(tags)))
    return out


def spans_to_tags(entities: Sequence[Span], length: int, scheme: str = "IOB2") -> list[str]:
    """The canonical tags of ``length`` tokens holding ``entities`` (non-overlapping spans).

    IOB1 uses ``B-`` only for an entity that directly follows one of the same type.
    """
    _check_scheme(scheme)
    tags = ["O"] * length
    last_end, last_type = -1, None
    for kind, start, end in sorted(entities, key=lambda s: s[1]):
        if not 0 <= start < end <= length or start < last_end:
            raise ValueError(f"span {(kind, start, end)} is outside 0..{length} or overlaps")
        n = end - start
        if scheme == "BIOES":
            inner = ["S"] if n == 1 else ["B"] + ["I"] * (n - 2) + ["E"]
        elif scheme == "IOB2":
            inner = ["B"] + ["I"] * (n - 1)
        else:
            first = "B" if (start == last_end and kind == last_type) else "I"
            inner = [first] + ["I"] * (n - 1)
        tags[start:end] = [f"{p}-{kind}" for p in inner]
        last_end, last_type = end, kind
    return tags


def convert_tags(tags: Sequence[str], source: str, target: str) -> list[str]:
    """One sentence's tags from scheme ``source`` to ``target`` (same entities).

    >>> convert_tags(["I-PER", "I-PER", "B-PER", "O"], "IOB1", "BIOES")
    ['B-PER', 'E-PER', 'S-PER', 'O']
    """
    return spans_to_tags(spans(tags, source), len(tags), target)


def _counts(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], scheme: str
) -> tuple[Counter, Counter, Counter]:
    """(true positives, predicted, gold) entity counts per type."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted ones")
        gs, ps = set(spans(g, scheme)), set(spans(p, scheme))
        n_gold.update(kind for kind, _, _ in gs)
        n_pred.update(kind for kind, _, _ in ps)
        tp.update(kind for kind, _, _ in gs & ps)
    return tp, n_pred, n_gold


def _prf(tp: int, predicted: int, support: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / support if support else 0.0
    f1 = 2 * tp / (predicted + support) if predicted + support else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": support,
            "predicted": predicted, "correct": tp}  # fmt: skip


def entity_scores(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], scheme: str = "IOB2"
) -> dict[str, dict[str, float]]:
    """Entity-level precision, recall and F1 per type and overall (micro), conlleval's way.

    Args:
        gold: N sentences of gold tags.
        pred: N sentences of predicted tags, each as long as its gold sentence.
        scheme: ``"IOB1"``, ``"IOB2"`` or ``"BIOES"``: which prefixes are allowed.

    Returns:
        ``{type: scores, ..., "overall": scores}`` with types sorted; ``scores`` holds
        ``precision``, ``recall``, ``f1`` (fractions in 0..1), ``support`` (gold entities),
        ``predicted`` and ``correct`` (counts). A type that occurs in neither gold nor
        predictions has no entry.

    Raises:
        ValueError: different numbers of sentences or tags, or a tag outside the scheme.
    """
    _check_scheme(scheme)
    tp, n_pred, n_gold = _counts(gold, pred, scheme)
    out = {kind: _prf(tp[kind], n_pred[kind], n_gold[kind]) for kind in sorted(n_gold | n_pred)}
    out["overall"] = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    return out


def token_accuracy(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    """Fraction of tokens whose predicted tag equals the gold one, over all N sentences.

    Raises:
        ValueError: different numbers of sentences or tags, or no tokens at all.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    right = total = 0
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted ones")
        right += sum(a == b for a, b in zip(g, p, strict=True))
        total += len(g)
    if total == 0:
        raise ValueError("token_accuracy(): no tokens")
    return right / total


def format_entity_table(scores: dict[str, dict[str, float]], digits: int = 2) -> str:
    """:func:`entity_scores` as a table in percent, as conlleval prints it: a header
    (precision, recall, F1, support, predicted), one row per type, then ``overall``.
    """
    rows = [k for k in scores if k != "overall"] + ["overall"]
    first = max(len(r) for r in rows)
    heads = ("precision", "recall", "F1", "support", "predicted")
    width = [max(len(h), digits + 5) for h in heads]
    lines = [" " * first + "".join(f"  {h:>{w}}" for h, w in zip(heads, width, strict=True))]
    for r in rows:
        s = scores[r]
        cells = [f"{100 * s[k]:.{digits}f}" for k in ("precision", "recall", "f1")]
        cells += [str(s["support"]), str(s["predicted"])]
        lines.append(
            f"{r:>{first}}" + "".join(f"  {c:>{w}}" for c, w in zip(cells, width, strict=True))
        )
    return "\n".join(lines)
