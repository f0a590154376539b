"""Text tables of a report and a confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.metrics import classification_report, confusion_matrix
from rnnlab.metrics.tables import format_confusion_matrix, format_report

PRED = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1] * 2
GOLD = [0, 1, 0, 0, 1, 1, 0, 1, 1, 0] * 2


def test_report_table_golden():
    """Golden text; the numbers are sklearn's classification_report(GOLD, PRED, digits=3)."""
    text = format_report(classification_report(PRED, GOLD), names=["neg", "pos"])
    assert text == "\n".join(
        [
            "             precision    recall  f1-score   support",
            "         neg     0.750     0.600     0.667        10",
            "         pos     0.667     0.800     0.727        10",
            "",
            "    accuracy                         0.700        20",
            "   macro avg     0.708     0.700     0.697        20",
            "   micro avg     0.700     0.700     0.700        20",
            "weighted avg     0.708     0.700     0.697        20",
        ]
    )


def test_report_names_fall_back_to_ids():
    text = format_report(classification_report([0, 1, 2], [0, 1, 2]), names={1: "mid"}, digits=2)
    rows = text.splitlines()[1:4]
    assert [r.split()[0] for r in rows] == ["0", "mid", "2"]
    assert "1.00" in rows[0] and "1.000" not in text


def test_confusion_matrix_table_golden():
    text = format_confusion_matrix(confusion_matrix(PRED, GOLD), names=["neg", "pos"])
    assert text == "gold \\ pred  neg  pos\n        neg    6    4\n        pos    2    8"


def test_confusion_matrix_table_widens_for_big_counts():
    text = format_confusion_matrix(np.array([[12345, 0], [1, 2]]))
    assert text.splitlines()[1].split() == ["0", "12345", "0"]
    assert len({len(line) for line in text.splitlines()}) == 1


def test_confusion_matrix_table_needs_a_square():
    with pytest.raises(ValueError, match=r"square.*\(2, 3\)"):
        format_confusion_matrix(np.zeros((2, 3)))
