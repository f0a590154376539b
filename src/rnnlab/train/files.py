"""Files that are never half-written: atomic replace, checksums, and one error type for bad files.

A writer writes to a temporary file in the destination's directory, flushes it to disk and
`os.replace`s it over the destination, so a reader (or a run killed mid-write) sees either the
old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from rnnlab.errors import MissingFileError


class CheckpointError(RuntimeError):
    """A weights or checkpoint file exists but cannot be used (corrupt, truncated, mismatched)."""


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Create or replace `path` atomically; `write(tmp)` writes the content to the path `tmp`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Create or replace the UTF-8 text file `path` atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def require_file(path: str | os.PathLike, what: str) -> Path:
    """`path` as a Path; MissingFileError (a FileNotFoundError) naming it (and saying it is
    `what`) if it is missing."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{what} not found: {path}")
    return path


def _fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
