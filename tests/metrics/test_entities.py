"""Entity-level scores: hand-made cases, scheme conversions, and seqeval's default mode (which
reads spans as conlleval does) on thousands of random tag sequences with broken spans."""

from __future__ import annotations

import random

import pytest
from seqeval.metrics import classification_report as seqeval_report
from seqeval.metrics import f1_score, precision_score, recall_score

from rnnlab.metrics import convert_tags, entity_scores, spans, token_accuracy
from rnnlab.metrics.entities import format_entity_table, spans_to_tags


@pytest.mark.parametrize(
    "tags, scheme, expected",
    [
        ([], "IOB2", []),
        (["O", "O"], "IOB2", []),
        (["B-PER", "I-PER", "O", "B-LOC"], "IOB2", [("PER", 0, 2), ("LOC", 3, 4)]),
        (["I-PER", "I-PER", "B-PER", "O"], "IOB1", [("PER", 0, 2), ("PER", 2, 3)]),
        (["O", "I-PER", "I-PER"], "IOB2", [("PER", 1, 3)]),  # I- after O starts a span
        (["B-PER", "I-LOC", "I-LOC"], "IOB2", [("PER", 0, 1), ("LOC", 1, 3)]),  # type change
        (["B-PER", "E-PER", "S-LOC", "B-ORG", "I-ORG", "E-ORG"], "BIOES",
         [("PER", 0, 2), ("LOC", 2, 3), ("ORG", 3, 6)]),
        (["E-PER", "I-PER", "E-PER"], "BIOES", [("PER", 0, 1), ("PER", 1, 3)]),
        (["B-PER", "I-PER"], "BIOES", [("PER", 0, 2)]),  # unfinished at the end
        (["S-PER", "I-PER"], "BIOES", [("PER", 0, 1), ("PER", 1, 2)]),
        (["B-I-X", "I-I-X"], "IOB2", [("I-X", 0, 2)]),  # a type may hold a dash
    ],
)  # fmt: skip
def test_spans(tags, scheme, expected):
    assert spans(tags, scheme) == expected


BAD_TAGS = [("E-PER", "IOB2"), ("S-X", "IOB1"), ("PER", "IOB2"), ("B-", "BIOES"),
            ("b-PER", "IOB2"), ("BB-X", "IOB2")]  # fmt: skip


@pytest.mark.parametrize("tag, scheme", BAD_TAGS)
def test_tags_outside_the_scheme_are_refused(tag, scheme):
    with pytest.raises(ValueError, match="is not a"):
        spans(["O", tag], scheme)
    with pytest.raises(ValueError, match="scheme must be"):
        spans(["O"], "IOB3")


def test_conversions_keep_the_entities():
    iob1 = ["I-ORG", "O", "I-PER", "I-PER", "B-PER", "I-LOC", "B-LOC", "O", "I-MISC"]
    iob2 = convert_tags(iob1, "IOB1", "IOB2")
    assert iob2 == ["B-ORG", "O", "B-PER", "I-PER", "B-PER", "B-LOC", "B-LOC", "O", "B-MISC"]
    bioes = convert_tags(iob1, "IOB1", "BIOES")
    assert bioes == ["S-ORG", "O", "B-PER", "E-PER", "S-PER", "S-LOC", "S-LOC", "O", "S-MISC"]
    assert convert_tags(iob2, "IOB2", "IOB1") == iob1
    assert convert_tags(bioes, "BIOES", "IOB1") == iob1
    with pytest.raises(ValueError, match="overlaps"):
        spans_to_tags([("A", 0, 2), ("B", 1, 3)], 3)


def test_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-LOC"]]
    s = entity_scores(gold, pred)
    assert s["PER"] == pytest.approx({"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1,
                                      "predicted": 1, "correct": 1})  # fmt: skip
    assert s["LOC"]["precision"] == 0.0 and s["LOC"]["recall"] == 0.0 and s["LOC"]["f1"] == 0.0
    assert s["ORG"]["precision"] == 0.5 and s["ORG"]["recall"] == 1.0
    assert s["ORG"]["f1"] == pytest.approx(2 / 3)
    o = s["overall"]  # 2 correct of 4 predicted, 3 gold
    assert (o["precision"], o["recall"]) == (0.5, pytest.approx(2 / 3))
    assert o["f1"] == pytest.approx(2 * 2 / (4 + 3))
    assert token_accuracy(gold, pred) == pytest.approx(4 / 6)


def test_empty_and_zero_counts():
    s = entity_scores([["O", "O"]], [["O", "O"]])
    assert s == {"overall": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0,
                             "predicted": 0, "correct": 0}}  # fmt: skip
    s = entity_scores([["B-X"]], [["O"]])
    assert s["X"]["recall"] == 0.0 and s["X"]["predicted"] == 0
    assert entity_scores([], [])["overall"]["f1"] == 0.0
    with pytest.raises(ValueError, match="gold tags"):
        entity_scores([["O"]], [["O", "O"]])
    with pytest.raises(ValueError, match="sentences"):
        token_accuracy([["O"]], [])
    with pytest.raises(ValueError, match="no tokens"):
        token_accuracy([[]], [[]])


def random_tags(r: random.Random, scheme: str, n: int) -> list[str]:
    prefixes = "BIES" if scheme == "BIOES" else "BI"
    return [
        "O" if r.random() < 0.35 else f"{r.choice(prefixes)}-{r.choice(['PER', 'LOC', 'ORG'])}"
        for _ in range(n)
    ]


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2", "BIOES"])
def test_equals_seqeval_default_mode_on_random_sequences(scheme):
    r = random.Random(scheme)
    for trial in range(40):
        gold, pred = [], []
        for _ in range(r.randint(1, 60)):
            n = r.randint(1, 12)
            g = random_tags(r, scheme, n)
            # predictions: a noisy copy of gold, so that many spans match
            p = [t if r.random() < 0.7 else random_tags(r, scheme, 1)[0] for t in g]
            gold.append(g)
            pred.append(p)
        ours = entity_scores(gold, pred, scheme)
        o = ours["overall"]
        assert o["precision"] == pytest.approx(precision_score(gold, pred)), trial
        assert o["recall"] == pytest.approx(recall_score(gold, pred)), trial
        assert o["f1"] == pytest.approx(f1_score(gold, pred)), trial
        theirs = seqeval_report(gold, pred, output_dict=True, zero_division=0)
        for kind, s in ours.items():
            if kind == "overall":
                continue
            t = theirs[kind]
            assert (s["precision"], s["recall"], s["f1"], s["support"]) == pytest.approx(
                (t["precision"], t["recall"], t["f1-score"], t["support"])
            ), (trial, kind)
        assert {k for k in theirs if "avg" not in k} == set(ours) - {"overall"}


def test_table_lists_every_type_then_overall():
    s = entity_scores([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "O"]])
    table = format_entity_table(s)
    lines = table.splitlines()
    assert lines[0].split() == ["precision", "recall", "F1", "support", "predicted"]
    assert lines[1].split() == ["LOC", "0.00", "0.00", "0.00", "1", "0"]
    assert lines[2].split() == ["PER", "100.00", "100.00", "100.00", "1", "1"]
    assert lines[3].split() == ["overall", "100.00", "50.00", "66.67", "2", "1"]
