"""BLEU (Papineni et al., 2002), computed as sacreBLEU computes it, so the scores are comparable.

For a hypothesis h and references r_1 .. r_R (each tokenised, see below), and n = 1 .. N (N = 4):

    count(g)       = how often the n-gram g occurs in h
    clip(g)        = min(count(g), max_k count_{r_k}(g))          modified (clipped) count
    p_n            = sum_g clip(g) / sum_g count(g)                  over the n-grams g of h
    c              = len(h)                                          hypothesis length
    r              = the reference length closest to c (ties: the shorter one)
    BP             = 1 if c >= r else exp(1 - r / c)                 brevity penalty (0 when c = 0)
    BLEU           = BP * exp(1/N sum_n log p_n)                     (times 100)

Corpus BLEU sums the sufficient statistics (c, r, sum clip, sum count per order) over all
segments first and applies the formula once; it is *not* the mean of sentence BLEUs. Sentence BLEU
is the same formula on one segment.

Smoothing of a zero precision (Chen & Cherry, 2014; sacreBLEU's names):

- ``none``: p_n = 0 makes BLEU 0.
- ``floor``: p_n = ``smooth_value`` / sum count (default 0.1) where clip is 0.
- ``add-k``: for n > 1, k (default 1) is added to both sum clip and sum count.
- ``exp``: the k-th zero precision becomes 1 / (2^k sum count) (NIST / mteval-v13a; the default).

``effective_order``: use only the orders n up to the largest that has any n-gram in the hypothesis
(sentence BLEU of a 3-word sentence then has N = 3); sacreBLEU's default for sentence BLEU.

Tokenisation (``tokenize``): ``"13a"`` is mteval-v13a's, the WMT standard and sacreBLEU's default
(punctuation split off, except a period or comma next to a digit, and a dash after a digit);
``"none"`` splits at whitespace only; ``"char"`` makes every non-space character a token.
``lowercase`` lower-cases both sides first. Differences from sacreBLEU, on purpose: hypothesis
and reference streams of different lengths are an error (sacreBLEU silently cuts to the shorter),
and ``counts`` are the unsmoothed clipped counts also under ``add-k``.

>>> s = corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]])
>>> round(s.score, 2), [round(p, 1) for p in s.precisions]
(53.73, [83.3, 60.0, 50.0, 33.3])
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rnnlab._version import __version__

__all__ = [
    "SMOOTH_DEFAULTS",
    "TOKENIZERS",
    "BLEUScore",
    "BLEUStats",
    "bleu_breakdown",
    "bleu_from_stats",
    "bleu_signature",
    "corpus_bleu",
    "ngram_counts",
    "segment_stats",
    "sentence_bleu",
    "tokenize_13a",
]

MAX_ORDER = 4
SMOOTH_DEFAULTS: dict[str, float | None] = {"none": None, "floor": 0.1, "add-k": 1.0, "exp": None}
_LOG_ZERO = -9999999999  # log(0) as sacreBLEU floors it: exp of it (/ N) is exactly 0.0

# mteval-v13a's language-dependent part (Western languages), in order:
_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # split off symbols and punctuation
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # a period or comma unless after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # ... unless before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # a dash after a digit
]


def tokenize_13a(line: str) -> str:
    """mteval-v13a tokenisation of one segment: the tokens joined by single spaces.

    >>> tokenize_13a("A man, 3.5 m tall, isn't (really) here.")
    "A man , 3.5 m tall , isn't ( really ) here ."
    """
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&")
        line = line.replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "
    for pattern, repl in _13A_RULES:
        line = pattern.sub(repl, line)
    return " ".join(line.split())


TOKENIZERS: dict[str, Callable[[str], str]] = {
    "13a": tokenize_13a,
    "none": lambda line: line,
    "char": lambda line: " ".join(line),
}


def _tokens(segment: str, tokenize: str, lowercase: bool) -> list[str]:
    """A segment as BLEU's tokens: lower-cased if asked, trailing space dropped, tokenised."""
    if lowercase:
        segment = segment.lower()
    return TOKENIZERS[tokenize](segment.rstrip()).split()


def ngram_counts(tokens: Sequence[str], max_order: int = MAX_ORDER) -> Counter:
    """How often each n-gram (a tuple of tokens), 1 <= n <= ``max_order``, occurs in ``tokens``.

    >>> ngram_counts("a b a".split(), 2)
    Counter({('a',): 2, ('b',): 1, ('a', 'b'): 1, ('b', 'a'): 1})
    """
    counts: Counter = Counter()
    for n in range(1, max_order + 1):
        for i in range(len(tokens) - n + 1):
            counts[tuple(tokens[i : i + n])] += 1
    return counts


@dataclass
class BLEUStats:
    """BLEU's sufficient statistics; the statistics of a corpus are the sum of its segments'.

    ``matches[n-1]`` is sum clip over the n-grams of the hypothesis, ``totals[n-1]`` sum count.
    """

    sys_len: int = 0
    ref_len: int = 0
    matches: list[int] = field(default_factory=lambda: [0] * MAX_ORDER)
    totals: list[int] = field(default_factory=lambda: [0] * MAX_ORDER)

    def __add__(self, other: BLEUStats) -> BLEUStats:
        return BLEUStats(
            self.sys_len + other.sys_len,
            self.ref_len + other.ref_len,
            [a + b for a, b in zip(self.matches, other.matches, strict=True)],
            [a + b for a, b in zip(self.totals, other.totals, strict=True)],
        )


def _closest_ref_len(hyp_len: int, ref_lens: Sequence[int]) -> int:
    """The reference length closest to ``hyp_len``; of two equally close, the shorter."""
    return min(ref_lens, key=lambda r: (abs(hyp_len - r), r))


def segment_stats(
    hyp: Sequence[str], refs: Sequence[Sequence[str]], max_order: int = MAX_ORDER
) -> BLEUStats:
    """Statistics of one tokenised hypothesis against its tokenised references (at least one).

    An n-gram's clip is its count in the hypothesis, capped by its largest count in any one
    reference.
    """
    if not refs:
        raise ValueError("a segment needs at least one reference")
    max_ref: Counter = Counter()
    for ref in refs:
        for gram, n in ngram_counts(ref, max_order).items():
            if n > max_ref[gram]:
                max_ref[gram] = n
    matches, totals = [0] * max_order, [0] * max_order
    for gram, n in ngram_counts(hyp, max_order).items():
        totals[len(gram) - 1] += n
        matches[len(gram) - 1] += min(n, max_ref.get(gram, 0))
    return BLEUStats(len(hyp), _closest_ref_len(len(hyp), [len(r) for r in refs]), matches, totals)


@dataclass(frozen=True)
class BLEUScore:
    """A BLEU score and what it is made of.

    Attributes:
        score: BLEU in [0, 100].
        precisions: p_1 .. p_N in percent, after smoothing.
        bp: the brevity penalty.
        sys_len, ref_len: hypothesis and effective reference lengths (tokens).
        counts, totals: sum clip and sum count per order (unsmoothed).
    """

    score: float
    precisions: list[float]
    bp: float
    sys_len: int
    ref_len: int
    counts: list[int]
    totals: list[int]

    @property
    def ratio(self) -> float:
        """Hypothesis length over reference length (0 without reference tokens)."""
        return self.sys_len / self.ref_len if self.ref_len else 0.0

    def __str__(self) -> str:
        """``BLEU = 27.75 64.1/36.9/22.2/13.6 (BP = 0.954 ratio = 0.955 hyp_len = ... ref_len =
        ...)``, sacreBLEU's line."""
        prec = "/".join(f"{p:.1f}" for p in self.precisions)
        return (
            f"BLEU = {self.score:.2f} {prec} (BP = {self.bp:.3f} ratio = {self.ratio:.3f} "
            f"hyp_len = {self.sys_len:d} ref_len = {self.ref_len:d})"
        )


def _check_smoothing(smooth: str, smooth_value: float | None) -> float | None:
    if smooth not in SMOOTH_DEFAULTS:
        raise ValueError(f"smooth must be one of {list(SMOOTH_DEFAULTS)}, got {smooth!r}")
    return SMOOTH_DEFAULTS[smooth] if smooth_value is None else smooth_value


def bleu_from_stats(
    stats: BLEUStats,
    smooth: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> BLEUScore:
    """BLEU from its sufficient statistics (the formula and smoothing of the module docstring)."""
    value = _check_smoothing(smooth, smooth_value)
    N = len(stats.matches)
    c, r = stats.sys_len, stats.ref_len
    # BP = 1 if c >= r else exp(1 - r / c)
    bp = 1.0 if c >= r else (math.exp(1 - r / c) if c > 0 else 0.0)
    precisions = [0.0] * N
    counts, totals = list(stats.matches), list(stats.totals)
    if not any(counts):
        return BLEUScore(0.0, precisions, bp, c, r, counts, totals)
    matches, grams = list(counts), list(totals)
    zeros_seen, order = 1.0, N
    for n in range(1, N + 1):
        if smooth == "add-k" and n > 1:
            matches[n - 1] += value
            grams[n - 1] += value
        if grams[n - 1] == 0:
            break  # no n-grams of this order (nor of any higher one) in the hypothesis
        if effective_order:
            order = n
        if matches[n - 1] == 0:
            if smooth == "exp":
                zeros_seen *= 2
                precisions[n - 1] = 100.0 / (zeros_seen * grams[n - 1])
            elif smooth == "floor":
                precisions[n - 1] = 100.0 * value / grams[n - 1]
        else:
            # p_n = sum clip / sum count (in percent)
            precisions[n - 1] = 100.0 * matches[n - 1] / grams[n - 1]
    # BLEU = BP * exp(1/N sum_n log p_n)
    logs = [math.log(p) if p != 0.0 else _LOG_ZERO for p in precisions[:order]]
    score = bp * math.exp(sum(logs) / order)
    return BLEUScore(score, precisions, bp, c, r, counts, totals)


def _reference_streams(references: Sequence[Sequence[str | None]], n: int) -> list[list[str]]:
    """Per segment, its references (``None`` entries, for a variable number of them, dropped)."""
    if isinstance(references, str) or not references:
        raise ValueError(
            "references must be a non-empty list of reference streams (each a list of strings, "
            "one per hypothesis), e.g. [refs] for one reference per segment"
        )
    for k, stream in enumerate(references):
        if isinstance(stream, str):
            raise ValueError(
                f"reference stream {k} is a string; pass a list of streams: [[ref1, ref2, ...]]"
            )
        if len(stream) != n:
            raise ValueError(f"reference stream {k} has {len(stream)} lines for {n} hypotheses")
    per_segment = [
        [ref for ref in refs if ref is not None] for refs in zip(*references, strict=True)
    ]
    for i, refs in enumerate(per_segment):
        if not refs:
            raise ValueError(f"segment {i} has no reference (all streams hold None there)")
    return per_segment


def _check_tokenize(tokenize: str) -> None:
    if tokenize not in TOKENIZERS:
        raise ValueError(f"tokenize must be one of {list(TOKENIZERS)}, got {tokenize!r}")


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]],
    smooth: str = "exp",
    tokenize: str = "13a",
    lowercase: bool = False,
    smooth_value: float | None = None,
    effective_order: bool = False,
    max_order: int = MAX_ORDER,
) -> BLEUScore:
    """Corpus BLEU of ``hypotheses`` against one or more reference streams, as sacreBLEU's
    ``corpus_bleu(hypotheses, references, ...)``.

    Args:
        hypotheses: S hypothesis strings (detokenised text; ``""`` is an empty hypothesis).
        references: R reference streams, each S strings (``references[k][i]`` is the k-th
            reference of segment i); ``None`` marks a missing reference.
        smooth: ``"exp"`` (default), ``"floor"``, ``"add-k"`` or ``"none"``.
        tokenize: ``"13a"`` (default), ``"none"`` or ``"char"``.
        lowercase: compare lower-cased text.
        smooth_value: the floor (default 0.1) or k (default 1).
        effective_order: leave out orders with no n-gram in the hypotheses.
        max_order: the highest n-gram order N.

    Returns:
        A :class:`BLEUScore` (``.score`` in 0-100, ``.precisions``, ``.bp`` ...).
    """
    if isinstance(hypotheses, str):
        raise ValueError("hypotheses must be a list of strings, not one string")
    _check_tokenize(tokenize)
    _check_smoothing(smooth, smooth_value)
    refs = _reference_streams(references, len(hypotheses))
    total = BLEUStats(0, 0, [0] * max_order, [0] * max_order)
    for hyp, seg_refs in zip(hypotheses, refs, strict=True):
        hyp_tokens = _tokens(hyp, tokenize, lowercase)
        ref_tokens = [_tokens(ref, tokenize, lowercase) for ref in seg_refs]
        total = total + segment_stats(hyp_tokens, ref_tokens, max_order)
    return bleu_from_stats(total, smooth, smooth_value, effective_order)


def sentence_bleu(
    hypothesis: str,
    references: Sequence[str],
    smooth: str = "exp",
    tokenize: str = "13a",
    lowercase: bool = False,
    smooth_value: float | None = None,
    effective_order: bool = True,
    max_order: int = MAX_ORDER,
) -> BLEUScore:
    """BLEU of one hypothesis against its references, as sacreBLEU's ``sentence_bleu`` (whose
    default, ``effective_order=True``, this keeps). Arguments as :func:`corpus_bleu`."""
    if not isinstance(hypothesis, str):
        raise ValueError(f"hypothesis must be a string, got {type(hypothesis).__name__}")
    if isinstance(references, str):
        raise ValueError("references must be a list of reference strings, not one string")
    return corpus_bleu(
        [hypothesis], [[ref] for ref in references], smooth, tokenize, lowercase,
        smooth_value, effective_order, max_order,
    )  # fmt: skip


def bleu_signature(
    num_refs: int,
    smooth: str = "exp",
    tokenize: str = "13a",
    lowercase: bool = False,
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> str:
    """sacreBLEU's signature of these settings, e.g.
    ``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:rnnlab-0.1.0``."""
    value = _check_smoothing(smooth, smooth_value)
    smooth_str = smooth if SMOOTH_DEFAULTS[smooth] is None else f"{smooth}[{value:.2f}]"
    return (
        f"nrefs:{num_refs}|case:{'lc' if lowercase else 'mixed'}|"
        f"eff:{'yes' if effective_order else 'no'}|tok:{tokenize}|smooth:{smooth_str}|"
        f"version:rnnlab-{__version__}"
    )


def bleu_breakdown(
    hypothesis: str,
    references: Sequence[str],
    tokenize: str = "13a",
    lowercase: bool = False,
    max_order: int = MAX_ORDER,
) -> str:
    """A table of how BLEU scores one hypothesis: every n-gram with its count in the hypothesis,
    its largest count in any reference, its clipped count; per order the modified precision;
    then the lengths, the brevity penalty and the (unsmoothed, sentence-level) BLEU.

    >>> print(bleu_breakdown("the the the", ["the cat"], max_order=1))
    1-grams       count  max ref  clip
      the             3        1     1
      p_1 = 1/3 = 0.3333
    hypothesis length c = 3, closest reference length r = 2, BP = 1.0000
    BLEU = 33.33 (no smoothing, N = 1)
    """
    _check_tokenize(tokenize)
    hyp = _tokens(hypothesis, tokenize, lowercase)
    refs = [_tokens(r, tokenize, lowercase) for r in references]
    if not refs:
        raise ValueError("bleu_breakdown needs at least one reference")
    ref_counts = [ngram_counts(r, max_order) for r in refs]
    hyp_counts = ngram_counts(hyp, max_order)
    width = max([len(" ".join(g)) for g in hyp_counts] + [12])
    lines = []
    for n in range(1, max_order + 1):
        lines.append(f"{n}-grams{'':<{width - 5}}count  max ref  clip")
        grams = [g for g in hyp_counts if len(g) == n]  # first-occurrence order
        clip_sum = count_sum = 0
        for g in grams:
            count = hyp_counts[g]
            max_ref = max(rc.get(g, 0) for rc in ref_counts)
            clip = min(count, max_ref)
            clip_sum, count_sum = clip_sum + clip, count_sum + count
            lines.append(f"  {' '.join(g):<{width}}{count:5d}  {max_ref:7d}  {clip:4d}")
        p = clip_sum / count_sum if count_sum else 0.0
        lines.append(f"  p_{n} = {clip_sum}/{count_sum} = {p:.4f}")
    s = segment_stats(hyp, refs, max_order)
    score = bleu_from_stats(s, smooth="none")
    lines.append(
        f"hypothesis length c = {s.sys_len}, closest reference length r = {s.ref_len}, "
        f"BP = {score.bp:.4f}"
    )
    lines.append(f"BLEU = {score.score:.2f} (no smoothing, N = {max_order})")
    return "\n".join(lines)
