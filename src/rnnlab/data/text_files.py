"""The UTF-8 text of a file, plain or gzipped: a user's file by its path, or a registered one.

What the corpus and CoNLL readers start from. A user's file named ``*.gz`` is gunzipped first. A
registered file is fetched like every dataset (``$RNNLAB_DATA`` mirror, cache, download; see
:mod:`rnnlab.data.download`), except that the mirror may hold it gzipped as ``NAME.gz``, whose
*decompressed* bytes must have the registered sha256. A byte-order mark is dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from pathlib import Path

from rnnlab.data.download import RemoteFile, fetch, mirror_dir
from rnnlab.data.errors import ChecksumError, DataFormatError, MissingDataError

__all__ = ["read_path", "read_text"]

logger = logging.getLogger(__name__)


def read_path(path: str | os.PathLike) -> str:
    """The UTF-8 text of a user's file (gunzipped first when its name ends in ``.gz``).

    Raises:
        MissingDataError: no such file. DataFormatError: not gzip or not UTF-8.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no such file: {path}")
    try:
        raw = _gunzip(path) if path.suffix == ".gz" else path.read_bytes()
    except OSError as e:
        raise MissingDataError(f"cannot read {path}: {e.strerror}") from e
    return _decode(raw, path)


def read_text(file: RemoteFile, subdir: str, progress: bool = True) -> str:
    """The text of a registered file: the mirror's copy (plain, or gzipped as ``NAME.gz``), else
    the cache or a download, its sha256 checked (of the decompressed bytes, for a ``.gz``).

    Raises:
        ChecksumError: the bytes differ from the registered sha256.
        MissingDataError: not found and not downloadable (see :func:`rnnlab.data.fetch`).
        DataFormatError: not gzip or not UTF-8.
    """
    mirror = mirror_dir()
    gz = mirror / subdir / f"{file.name}.gz" if mirror is not None else None
    if gz is not None and not (mirror / subdir / file.name).is_file() and gz.is_file():
        logger.info("using %s from the local mirror", gz)
        raw = _gunzip(gz)
        actual = hashlib.sha256(raw).hexdigest()
        if actual != file.sha256:
            raise ChecksumError(
                f"{gz} decompresses to bytes with sha256 {actual}, expected {file.sha256}: the "
                f"file is corrupt or a different version; replace it with the original from "
                f"{file.urls[0]}"
            )
        return _decode(raw, gz)
    path = fetch(file, subdir, progress=progress)
    return _decode(path.read_bytes(), path)


def _gunzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as e:
        raise DataFormatError(f"{path} is not a readable gzip file: {e}") from e


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path} is not UTF-8 text (bad byte at offset {e.start})") from e
