"""BLEU against sacreBLEU (the reference implementation) on random and real sentence sets, every
smoothing method, 1-3 references, empty hypotheses; hand-computed cases; the breakdown table."""

from __future__ import annotations

import gzip
import math
import random

import pytest
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from rnnlab.metrics import bleu
from rnnlab.metrics.bleu import (
    bleu_breakdown,
    bleu_signature,
    corpus_bleu,
    ngram_counts,
    sentence_bleu,
    tokenize_13a,
)

WORDS = "the a dog cat The Dog runs ran on under bed mat , . ! 's isn't 3.5 1,000 x-ray (b) &amp;"
WORDS = WORDS.split() + ["e-mail", "U.S.", '"quoted"', "2-3", "end.", "a,b"]

SMOOTHINGS = [("none", None), ("floor", None), ("floor", 0.3), ("add-k", None), ("add-k", 2),
              ("exp", None)]  # fmt: skip


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def assert_same(ours, theirs) -> None:
    """Score, precisions, brevity penalty and lengths equal to sacreBLEU's."""
    assert close(ours.score, theirs.score), (ours.score, theirs.score)
    assert all(close(p, q) for p, q in zip(ours.precisions, theirs.precisions, strict=True))
    assert close(ours.bp, theirs.bp)
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)


def random_sentence(r: random.Random, lo: int = 0, hi: int = 12) -> str:
    return " ".join(r.choice(WORDS) for _ in range(r.randint(lo, hi)))


def noisy_copy(r: random.Random, ref: str) -> str:
    """A hypothesis near ``ref``: words dropped, swapped or replaced, so all orders match some."""
    words = ref.split()
    out = []
    for w in words:
        u = r.random()
        if u < 0.1:
            continue
        out.append(r.choice(WORDS) if u < 0.25 else w)
    if len(out) > 2 and r.random() < 0.3:
        i = r.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def random_corpus(seed: int, n: int, num_refs: int) -> tuple[list[str], list[list[str]]]:
    r = random.Random(seed)
    refs = [[random_sentence(r, 1) for _ in range(n)] for _ in range(num_refs)]
    hyps = []
    for i in range(n):
        u = r.random()
        if u < 0.1:
            hyps.append("")  # an empty hypothesis
        elif u < 0.3:
            hyps.append(random_sentence(r))
        else:
            hyps.append(noisy_copy(r, refs[r.randrange(num_refs)][i]))
    return hyps, refs


@pytest.mark.parametrize("smooth,value", SMOOTHINGS)
@pytest.mark.parametrize("num_refs", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_corpus_bleu_equals_sacrebleu_on_random_sets(smooth, value, num_refs, seed):
    hyps, refs = random_corpus(seed * 10 + num_refs, 40, num_refs)
    ours = corpus_bleu(hyps, refs, smooth=smooth, smooth_value=value)
    theirs = sacrebleu.corpus_bleu(hyps, refs, smooth_method=smooth, smooth_value=value)
    assert ours.score > 0  # the sets are close enough to score, so the comparison means something
    assert_same(ours, theirs)
    if smooth != "add-k":
        assert ours.counts == theirs.counts and ours.totals == theirs.totals


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("tokenize", ["13a", "none", "char"])
@pytest.mark.parametrize("effective_order", [False, True])
def test_corpus_bleu_options_equal_sacrebleu(lowercase, tokenize, effective_order):
    hyps, refs = random_corpus(7, 30, 2)
    kw = dict(lowercase=lowercase, tokenize=tokenize)
    ours = corpus_bleu(hyps, refs, effective_order=effective_order, **kw)
    theirs = sacrebleu.corpus_bleu(hyps, refs, use_effective_order=effective_order, **kw)
    assert_same(ours, theirs)


@pytest.mark.parametrize("smooth,value", SMOOTHINGS)
@pytest.mark.parametrize("effective_order", [True, False])
def test_sentence_bleu_equals_sacrebleu(smooth, value, effective_order):
    r = random.Random(3)
    for i in range(150):
        refs = [random_sentence(r, 1, 8) for _ in range(1 + i % 3)]
        hyp = noisy_copy(r, refs[0]) if i % 4 else random_sentence(r, 0, 6)
        ours = sentence_bleu(hyp, refs, smooth=smooth, smooth_value=value,
                             effective_order=effective_order)  # fmt: skip
        theirs = sacrebleu.sentence_bleu(hyp, refs, smooth_method=smooth, smooth_value=value,
                                         use_effective_order=effective_order)  # fmt: skip
        assert_same(ours, theirs)


@pytest.mark.parametrize(
    "hyps,refs",
    [
        ([""], [["the cat"]]),  # empty hypothesis: BP 0, BLEU 0
        (["", ""], [["a b c d", "e f"]]),
        (["the cat"], [[""]]),  # empty reference
        (["a b"], [["a b"]]),  # too short for 3- and 4-grams
        (["x y z w v"], [["a b c d e"]]),  # nothing matches
        (["a b c d"], [["a b c d"]]),  # perfect
    ],
)
@pytest.mark.parametrize("smooth,value", SMOOTHINGS)
def test_edge_cases_equal_sacrebleu(hyps, refs, smooth, value):
    for eff in (False, True):
        ours = corpus_bleu(hyps, refs, smooth=smooth, smooth_value=value, effective_order=eff)
        theirs = sacrebleu.corpus_bleu(hyps, refs, smooth_method=smooth, smooth_value=value,
                                       use_effective_order=eff)  # fmt: skip
        assert_same(ours, theirs)


def test_hand_computed_values():
    # p = 5/6, 3/5, 2/4, 1/3; BP = 1 -> BLEU = 100 * (5/6 * 3/5 * 2/4 * 1/3) ** (1/4)
    s = corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]])
    assert s.counts == [5, 3, 2, 1] and s.totals == [6, 5, 4, 3]
    assert s.score == pytest.approx(100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25)
    # too short: c = 2, r = 4 -> BP = exp(1 - 4/2); the exact match gives p_1 = p_2 = 100
    s = corpus_bleu(["a b"], [["a b c d"]], effective_order=True)
    assert s.bp == pytest.approx(math.exp(-1)) and s.score == pytest.approx(100 * math.exp(-1))
    # closest reference length, ties to the shorter one: c = 3, refs of 2 and 4 -> r = 2
    assert corpus_bleu(["a b c"], [["a b"], ["a b c d"]]).ref_len == 2
    # clipping: "the the the" against "the cat": p_1 = 1/3
    assert corpus_bleu(["the the the"], [["the cat"]], smooth="none").precisions[0] == (
        pytest.approx(100 / 3)
    )
    # corpus BLEU is not the mean of sentence BLEUs: the statistics are pooled first
    hyps, refs = ["a b c d", "e"], [["a b c d", "e f g h"]]
    pooled = corpus_bleu(hyps, refs).score
    mean = sum(sentence_bleu(h, [r]).score for h, r in zip(hyps, refs[0], strict=True)) / 2
    assert not math.isclose(pooled, mean)


def test_variable_number_of_references():
    hyps = ["the dog runs", "a cat sat on the mat"]
    refs = [["the dog ran", "a cat sat on a mat"], [None, "the cat sat on the mat"]]
    assert_same(corpus_bleu(hyps, refs), sacrebleu.corpus_bleu(hyps, refs))


def test_tokenize_13a_equals_sacrebleu():
    reference = Tokenizer13a()
    r = random.Random(5)
    lines = [random_sentence(r, 0, 15) for _ in range(200)]
    lines += [
        "Hello, world!3.5x",
        "&quot;a&quot; &lt;b&gt; &amp;",
        "1-2 a-b 3,4 x.y z,",
        "<skipped>x",
    ]
    lines += ['ein Mädchen, das "läuft"...', "$5.00 / 50% {a}[b]~`c`|d"]
    for line in lines:
        assert tokenize_13a(line) == reference(line), line


def test_ngram_counts():
    assert ngram_counts(["a", "b", "a", "b"], 2) == {("a",): 2, ("b",): 2, ("a", "b"): 2,
                                                      ("b", "a"): 1}  # fmt: skip
    assert ngram_counts([], 4) == {}


def test_breakdown_of_the_lecture_example():
    text = bleu_breakdown(
        "The dog the dog hiding under the bed",
        ["The Dog is hiding under the bed", "There is a dog under the bed"],
    )
    # "dog": 2 in the hypothesis, at most 1 in a reference ("Dog" differs in case) -> clip 1
    assert ["dog", "2", "1", "1"] in [line.split() for line in text.splitlines()]
    for expected in ("p_1 = 6/8", "p_2 = 3/7", "p_3 = 2/6", "p_4 = 1/5", "BP = 1.0000"):
        assert expected in text
    # the breakdown's BLEU is sacreBLEU's unsmoothed sentence BLEU
    s = sacrebleu.sentence_bleu("The dog the dog hiding under the bed",
                                ["The Dog is hiding under the bed", "There is a dog under the bed"],
                                smooth_method="none")  # fmt: skip
    assert f"BLEU = {s.score:.2f}" in text
    lower = bleu_breakdown("The dog the dog", ["The Dog is"], lowercase=True)
    assert "p_1 = 2/4" in lower  # "the" and "dog" twice each, once in the reference


def test_signature_matches_sacrebleu_format():
    metric = sacrebleu.BLEU(smooth_method="floor")
    metric.corpus_score(["a b"], [["a b"]])  # the signature knows the number of references after
    theirs = str(metric.get_signature()).rsplit("|version:", 1)[0]
    ours = bleu_signature(1, smooth="floor")
    assert ours.rsplit("|version:", 1)[0] == theirs
    assert bleu_signature(2, lowercase=True).startswith("nrefs:2|case:lc|eff:no|tok:13a|smooth:exp")


def test_str_is_sacrebleus_line():
    hyps, refs = random_corpus(11, 20, 1)
    assert str(corpus_bleu(hyps, refs)) == str(sacrebleu.corpus_bleu(hyps, refs))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: corpus_bleu(["a", "b"], [["a"]]), "1 lines for 2 hypotheses"),
        (lambda: corpus_bleu(["a"], ["a"]), "is a string"),
        (lambda: corpus_bleu(["a"], []), "non-empty"),
        (lambda: corpus_bleu("a", [["a"]]), "not one string"),
        (lambda: corpus_bleu(["a"], [["a"]], smooth="add-one"), "smooth must be"),
        (lambda: corpus_bleu(["a"], [["a"]], tokenize="intl"), "tokenize must be"),
        (lambda: corpus_bleu(["a"], [[None]]), "no reference"),
        (lambda: sentence_bleu("a", "a"), "not one string"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.data
def test_equals_sacrebleu_on_real_sentences(data_root):
    """Multi30k val: English captions against noisy copies of themselves, cased and lower-cased,
    with the German captions as a second (non-matching) reference stream."""
    root = data_root / "translation" / "multi30k"

    def read(name):
        with gzip.open(root / name, "rt", encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f][:400]

    en, de = read("val.en.gz"), read("val.de.gz")
    r = random.Random(0)
    hyps = [noisy_copy(r, s).lower() if i % 3 else s for i, s in enumerate(en)]
    for refs in ([en], [en, de]):
        for lowercase in (False, True):
            ours = corpus_bleu(hyps, refs, lowercase=lowercase)
            theirs = sacrebleu.corpus_bleu(hyps, refs, lowercase=lowercase)
            assert_same(ours, theirs)
            assert ours.counts == theirs.counts
    for h, ref in list(zip(hyps, en, strict=True))[:100]:
        assert_same(sentence_bleu(h, [ref]), sacrebleu.sentence_bleu(h, [ref]))


def test_module_exports():
    from rnnlab import metrics

    assert metrics.corpus_bleu is bleu.corpus_bleu and metrics.sentence_bleu is bleu.sentence_bleu
