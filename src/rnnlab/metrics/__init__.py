"""Metrics as pure functions of predictions and references.

Classification: `accuracy`, `confusion_matrix`, `classification_report` (per-class precision,
recall, F1, support; macro, micro and weighted averages), and their text tables.
"""

from rnnlab.metrics.classification import (
    ClassificationReport,
    Scores,
    accuracy,
    classification_report,
    confusion_matrix,
)
from rnnlab.metrics.tables import format_confusion_matrix, format_report

__all__ = [
    "ClassificationReport",
    "Scores",
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "format_confusion_matrix",
    "format_report",
]
