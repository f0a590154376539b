"""A user's own labelled texts: a ``text<TAB>label`` TSV file, or a folder of class folders.

TSV rules:

- UTF-8 (a byte-order mark is ignored), one example per line, ``text<TAB>label``. The line is
  split at its *last* tab, so the text may itself contain tabs; both fields are stripped.
- Blank lines are skipped. A line without a tab, with an empty text or an empty label is an
  error naming the file and line number.
- Header detection: the first line is a header, and skipped, when its label field (lower-cased)
  is one of ``label, labels, class, category, sentiment, target, y`` *and* that value is not a
  label anywhere else in the file.

Folder rules: each visible sub-folder is a class named after it; each visible regular file
directly inside it is one example (its whole UTF-8 text, stripped; an empty file is an error).

Label ids: given ``label_names`` (say, the training set's, when reading a dev set), every label
must be one of them. Otherwise they are inferred: the sorted distinct labels (numerically when
all are integers, so ``"2" < "10"``), and there must be at least two.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from rnnlab.data.errors import DataFormatError, MissingDataError
from rnnlab.data.examples import LabelledTexts

__all__ = ["load_folder", "load_path", "load_tsv"]

logger = logging.getLogger(__name__)

_HEADER_LABELS = {"label", "labels", "class", "category", "sentiment", "target", "y"}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path} is not UTF-8 text (bad byte at offset {e.start})") from e
    except OSError as e:
        raise MissingDataError(f"cannot read {path}: {e.strerror}") from e


def _label_ids(
    raw: Sequence[str], where: Sequence[str], source: Path, label_names: Sequence[str] | None
) -> tuple[list[int], list[str]]:
    """Map raw label strings to ids; ``where[i]`` locates ``raw[i]`` for error messages."""
    if label_names is None:
        distinct = set(raw)
        if len(distinct) < 2:
            only = next(iter(distinct), None)
            raise DataFormatError(
                f"{source} has only one label ({only!r}); a classifier needs at least two classes"
            )
        numeric = all(re.fullmatch(r"[+-]?[0-9]+", label) for label in distinct)
        names = sorted(distinct, key=int if numeric else None)
    else:
        names = list(label_names)
    index = {name: i for i, name in enumerate(names)}
    ids = []
    for label, loc in zip(raw, where, strict=True):
        if label not in index:
            raise DataFormatError(f"{loc}: label {label!r} is not one of the known labels {names}")
        ids.append(index[label])
    return ids, names


def load_tsv(path: str | os.PathLike, label_names: Sequence[str] | None = None) -> LabelledTexts:
    """Read ``text<TAB>label`` lines (rules in the module docstring).

    Args:
        path: the TSV file.
        label_names: the label set to map onto; ``None``: infer it from the file.

    Raises:
        MissingDataError: no such file.
        DataFormatError: not UTF-8, a malformed line (named by number), no examples, or an
            inferred label set with one class.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such file: {path}")
    rows: list[tuple[int, str, str]] = []  # (line number, text, label)
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataFormatError(f"{path}:{number}: expected 'text<TAB>label', found no tab")
        text, label = (field.strip() for field in line.rsplit("\t", 1))
        if not text or not label:
            missing = "text" if not text else "label"
            raise DataFormatError(f"{path}:{number}: empty {missing}")
        rows.append((number, text, label))
    if rows and rows[0][2].lower() in _HEADER_LABELS:
        if rows[0][2] not in {label for _, _, label in rows[1:]}:
            logger.info("%s: line %d taken as a header", path, rows[0][0])
            rows = rows[1:]
    if not rows:
        raise DataFormatError(f"{path} has no examples")
    ids, names = _label_ids(
        [label for _, _, label in rows], [f"{path}:{n}" for n, _, _ in rows], path, label_names
    )
    return LabelledTexts([text for _, text, _ in rows], ids, names)


def _visible(entries: list[Path]) -> list[Path]:
    return sorted(p for p in entries if not p.name.startswith("."))


def load_folder(path: str | os.PathLike, label_names: Sequence[str] | None = None) -> LabelledTexts:
    """Read a folder with one sub-folder per class, one example per file (see module docstring).

    Examples are ordered by class folder name, then file name.

    Raises:
        MissingDataError: no such folder.
        DataFormatError: no class folders, a class folder without files, an empty or non-UTF-8
            file, or (labels inferred) only one class.
    """
    path = Path(path)
    if not path.is_dir():
        raise MissingDataError(f"no such folder: {path}")
    class_dirs = [p for p in _visible(list(path.iterdir())) if p.is_dir()]
    if not class_dirs:
        raise DataFormatError(f"{path} has no sub-folders; put each class's files in its own one")
    texts, raw, where = [], [], []
    for class_dir in class_dirs:
        files = [p for p in _visible(list(class_dir.iterdir())) if p.is_file()]
        if not files:
            raise DataFormatError(f"class folder {class_dir} has no files")
        for file in files:
            text = _read_text(file).strip()
            if not text:
                raise DataFormatError(f"{file} is empty")
            texts.append(text)
            raw.append(class_dir.name)
            where.append(str(file))
    ids, names = _label_ids(raw, where, path, label_names)
    return LabelledTexts(texts, ids, names)


def load_path(path: str | os.PathLike, label_names: Sequence[str] | None = None) -> LabelledTexts:
    """:func:`load_folder` for a folder, :func:`load_tsv` for a file.

    Raises:
        MissingDataError: nothing exists at ``path``.
    """
    path = Path(path)
    if path.is_dir():
        return load_folder(path, label_names)
    if path.is_file():
        return load_tsv(path, label_names)
    raise MissingDataError(f"no such file or folder: {path}")
