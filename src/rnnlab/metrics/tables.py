"""Plain-text tables of a classification report and a confusion matrix (what the CLI prints)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rnnlab.metrics.classification import ClassificationReport, Scores

Names = Sequence[str] | Mapping[int, str] | None


def format_report(report: ClassificationReport, names: Names = None, digits: int = 3) -> str:
    """The report as a table, one row per class, then accuracy and the three averages:

                     precision    recall  f1-score   support
                 neg     0.750     0.600     0.667        10
                 pos     0.667     0.800     0.727        10

            accuracy                         0.700        20
           macro avg     0.708     0.700     0.697        20
           micro avg     0.700     0.700     0.700        20
        weighted avg     0.708     0.700     0.697        20

    `names` maps a class id to its name (a list indexed by id, or a dict); ids without one are
    printed as numbers.
    """
    rows = [_name(c, names) for c in report.labels]
    avg = ["macro avg", "micro avg", "weighted avg"]
    first = max(len(r) for r in [*rows, *avg])
    width = max(9, digits + 3)
    head = " " * first + "".join(
        h.rjust(width + 1) for h in ("precision", "recall", "f1-score", "support")
    )

    def line(label: str, scores: Sequence[float | None], support: int) -> str:
        cells = ["" if x is None else f"{x:.{digits}f}" for x in scores] + [str(support)]
        return label.rjust(first) + "".join(c.rjust(width + 1) for c in cells)

    def scores(label: str, s: Scores) -> str:
        return line(label, (s.precision, s.recall, s.f1), s.support)

    body = [scores(r, s) for r, s in zip(rows, report.per_class, strict=True)]
    accuracy = line("accuracy", (None, None, report.accuracy), report.num_examples)
    averages = [
        scores(a, s)
        for a, s in zip(avg, (report.macro, report.micro, report.weighted), strict=True)
    ]
    return "\n".join([head, *body, "", accuracy, *averages])


def format_confusion_matrix(cm: np.ndarray, names: Names = None) -> str:
    """The (C, C) confusion matrix as a table, gold classes down the side, predictions across:

    gold \\ pred  neg  pos
            neg    6    4
            pos    2    8
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square (C, C), got shape {cm.shape}")
    labels = [_name(c, names) for c in range(cm.shape[0])]
    corner = "gold \\ pred"
    first = max(len(corner), *(len(x) for x in labels))
    width = max(len(str(int(cm.max()))) if cm.size else 1, *(len(x) for x in labels))
    lines = [corner.ljust(first) + "".join(x.rjust(width + 2) for x in labels)]
    for label, row in zip(labels, cm, strict=True):
        lines.append(label.rjust(first) + "".join(str(int(v)).rjust(width + 2) for v in row))
    return "\n".join(lines)


def _name(c: int, names: Names) -> str:
    """The display name of class `c`."""
    if names is None:
        return str(c)
    if isinstance(names, Mapping):
        return str(names.get(c, c))
    return str(names[c]) if 0 <= c < len(names) else str(c)
