"""Metrics as pure functions of predictions and references.

Classification: `accuracy`, `confusion_matrix`, `classification_report` (per-class precision,
recall, F1, support; macro, micro and weighted averages), and their text tables.

Tagging: `entity_scores` (entity-level precision/recall/F1 per type and overall, conlleval's
reading of IOB1/IOB2/BIOES spans), `token_accuracy`, span extraction and scheme conversion.

Translation: `corpus_bleu`, `sentence_bleu` (equal to sacreBLEU's), `bleu_breakdown`.

Recognition: `edit_distance` (Levenshtein over tokens), `error_rate` (summed edits over summed
reference lengths: digit, character or word error rate), `sequence_accuracy`.
"""

from rnnlab.metrics.bleu import (
    BLEUScore,
    bleu_breakdown,
    bleu_signature,
    corpus_bleu,
    sentence_bleu,
)
from rnnlab.metrics.classification import (
    ClassificationReport,
    Scores,
    accuracy,
    classification_report,
    confusion_matrix,
)
from rnnlab.metrics.entities import (
    convert_tags,
    entity_scores,
    format_entity_table,
    spans,
    token_accuracy,
)
from rnnlab.metrics.error_rate import edit_distance, error_rate, sequence_accuracy
from rnnlab.metrics.tables import format_confusion_matrix, format_report

__all__ = [
    "BLEUScore",
    "bleu_breakdown",
    "bleu_signature",
    "corpus_bleu",
    "sentence_bleu",
    "ClassificationReport",
    "Scores",
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "convert_tags",
    "edit_distance",
    "error_rate",
    "entity_scores",
    "format_entity_table",
    "format_confusion_matrix",
    "format_report",
    "sequence_accuracy",
    "spans",
    "token_accuracy",
]
