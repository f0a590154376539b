"""Classification metrics: hand-worked tables, zero-count classes, errors, agreement with sklearn.

scikit-learn is a test dependency (the `test` extra); it is the reference implementation here.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

from rnnlab.metrics import accuracy, classification_report, confusion_matrix

# Each case: pred, gold, labels, then per class (precision, recall, f1, support) worked by hand.
CASES = {
    "perfect": ([0, 1, 1], [0, 1, 1], None, {0: (1, 1, 1, 1), 1: (1, 1, 1, 2)}),
    "all wrong": ([1, 0], [0, 1], None, {0: (0, 0, 0, 1), 1: (0, 0, 0, 1)}),
    # class 0: tp 3, predicted 3, support 4 -> P 1, R 3/4, F 2*3/(3+4); class 1: all right;
    # class 2: predicted once, never in gold -> P 0/1, R 0/0 := 0, F 0.
    "three classes": (
        [0, 0, 1, 2, 0],
        [0, 0, 1, 0, 0],
        None,
        {0: (1.0, 3 / 4, 6 / 7, 4), 1: (1, 1, 1, 1), 2: (0, 0, 0, 0)},
    ),
    # class 2 asked for via num_classes but absent from both: zero row, support 0.
    "absent class": ([0, 1], [0, 1], 3, {0: (1, 1, 1, 1), 1: (1, 1, 1, 1), 2: (0, 0, 0, 0)}),
    # class 1 in gold but never predicted: precision 0 (0/0), recall 0.
    "never predicted": ([0, 0, 0], [0, 1, 1], None, {0: (1 / 3, 1, 0.5, 1), 1: (0, 0, 0, 2)}),
    # a label subset, in a chosen order
    "subset": ([0, 1, 2, 2], [0, 2, 2, 1], [2, 0], {2: (0.5, 0.5, 0.5, 2), 0: (1, 1, 1, 1)}),
}


@pytest.mark.parametrize("name", CASES)
def test_per_class_table(name):
    pred, gold, labels, expected = CASES[name]
    report = classification_report(pred, gold, labels)
    assert report.labels == tuple(expected)
    for c, (p, r, f, s) in expected.items():
        got = report[c]
        assert (got.precision, got.recall, got.f1) == pytest.approx((p, r, f), abs=1e-12), c
        assert got.support == s
    n = len(expected)
    macro = [sum(e[i] for e in expected.values()) / n for i in range(3)]
    assert [report.macro.precision, report.macro.recall, report.macro.f1] == pytest.approx(macro)


def test_averages_worked_by_hand():
    # gold 0 0 0 1 / pred 0 0 1 1: class 0 P 1 R 2/3 F 0.8 (3); class 1 P 0.5 R 1 F 2/3 (1)
    report = classification_report([0, 0, 1, 1], [0, 0, 0, 1])
    assert report.macro.f1 == pytest.approx((0.8 + 2 / 3) / 2)
    assert report.weighted.f1 == pytest.approx((3 * 0.8 + 2 / 3) / 4)
    assert report.weighted.recall == pytest.approx(0.75)
    assert report.micro.f1 == report.micro.precision == report.accuracy == 0.75
    assert report.macro.support == report.weighted.support == 4


def test_subset_micro_is_not_accuracy():
    # over labels [1]: tp 1, predicted 2, support 2 -> micro P = R = 0.5; accuracy over all 3/5
    report = classification_report([0, 1, 1, 0, 0], [0, 1, 0, 0, 1], labels=[1])
    assert (report.micro.precision, report.micro.recall, report.micro.f1) == (0.5, 0.5, 0.5)
    assert report.accuracy == 0.6 and report.num_examples == 5 and report.micro.support == 2


def test_labels_with_no_support_give_zero_weighted_average():
    report = classification_report([0, 0], [0, 0], labels=[1, 2])
    assert report.weighted == report.macro == report.micro
    assert report.micro.precision == report.micro.recall == report.micro.f1 == 0.0
    assert report.micro.support == 0
    for average in ("macro", "micro", "weighted"):
        theirs = skm.precision_recall_fscore_support(
            [0, 0], [0, 0], labels=[1, 2], average=average, zero_division=0
        )
        assert theirs[:3] == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "pred, gold, expected",
    [([1], [1], 1.0), ([0, 1, 2, 2], [0, 1, 2, 0], 0.75), ([3, 3], [1, 2], 0.0)],
)
def test_accuracy_table(pred, gold, expected):
    assert accuracy(pred, gold) == expected


def test_confusion_matrix_rows_gold_columns_pred():
    cm = confusion_matrix([1, 1, 0, 2], [0, 1, 0, 0], num_classes=4)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 1] = expected[1, 1] = expected[0, 0] = expected[0, 2] = 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64 and cm.sum() == 4
    assert confusion_matrix([2], [0]).shape == (3, 3)  # inferred C = max id + 1


def test_accepts_tensors_arrays_and_bools():
    pred, gold = torch.tensor([1, 0, 1]), np.array([1, 1, 1], dtype=np.int32)
    assert accuracy(pred, gold) == pytest.approx(2 / 3)
    assert accuracy(torch.tensor([True, False]), [1, 0]) == 1.0
    assert classification_report(pred, gold, 2)[1].recall == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: accuracy([], []), "pred is empty"),
        (lambda: accuracy([1, 2], [1]), "2 predictions, 1 gold"),
        (lambda: classification_report([1], [1, 1]), "differ in length"),
        (lambda: confusion_matrix([], [], 2), "empty"),
        (lambda: accuracy([0.5, 1.0], [0, 1]), "integer class ids, got dtype float64"),
        (lambda: accuracy(np.zeros((2, 3)), [0, 1]), r"1-D.*\(2, 3\).*argmax"),
        (lambda: accuracy(["a"], ["a"]), "integer class ids"),
        (lambda: confusion_matrix([0, 3], [0, 1], num_classes=3), "class id 3 .* num_classes=3"),
        (lambda: confusion_matrix([0, -1], [0, 1]), "must be >= 0, got -1"),
        (lambda: confusion_matrix([0], [0], num_classes=0), "num_classes .* got 0"),
        (lambda: classification_report([0, 5], [0, 1], labels=2), "class id 5"),
        (lambda: classification_report([0], [0], labels=[1, 1]), "must not repeat"),
        (lambda: classification_report([0], [0], labels=[]), "labels is empty"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_report_lookup_and_dict():
    report = classification_report([0, 1], [0, 0])
    assert report.to_dict()["per_class"]["0"]["support"] == 2
    with pytest.raises(KeyError, match="label 7"):
        report[7]


@pytest.mark.parametrize("seed", range(12))
def test_agrees_with_sklearn_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    c = int(rng.integers(2, 7))
    n = int(rng.integers(1, 60))
    gold = rng.integers(0, c, n)
    pred = np.where(rng.random(n) < 0.5, gold, rng.integers(0, c, n))  # about half right
    choices = {
        "seen": None,
        "all": c,
        "subset": sorted(rng.choice(c, size=max(1, c // 2), replace=False).tolist(), reverse=True),
    }
    for kind, labels in choices.items():
        report = classification_report(pred, gold, labels)
        sk_labels = None if labels is None else (list(range(c)) if kind == "all" else labels)
        p, r, f, s = skm.precision_recall_fscore_support(
            gold, pred, labels=sk_labels, zero_division=0
        )
        assert list(report.labels) == (
            sorted(set(gold) | set(pred)) if sk_labels is None else sk_labels
        )
        np.testing.assert_allclose([x.precision for x in report.per_class], p, atol=1e-12)
        np.testing.assert_allclose([x.recall for x in report.per_class], r, atol=1e-12)
        np.testing.assert_allclose([x.f1 for x in report.per_class], f, atol=1e-12)
        np.testing.assert_array_equal([x.support for x in report.per_class], s)
        for average in ("macro", "micro", "weighted"):
            ours = getattr(report, average)
            theirs = skm.precision_recall_fscore_support(
                gold, pred, labels=sk_labels, average=average, zero_division=0
            )[:3]
            np.testing.assert_allclose([ours.precision, ours.recall, ours.f1], theirs, atol=1e-12)
    assert accuracy(pred, gold) == pytest.approx(skm.accuracy_score(gold, pred), abs=1e-15)
    np.testing.assert_array_equal(
        confusion_matrix(pred, gold, c), skm.confusion_matrix(gold, pred, labels=list(range(c)))
    )
