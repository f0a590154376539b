"""Errors a user can cause by pointing rnnlab at data: all derive from :class:`DataError`.

Each message names the file and says what to do, so a CLI can print it as the one line it shows.
"""

from __future__ import annotations

__all__ = ["ChecksumError", "DataError", "DataFormatError", "MissingDataError"]


class DataError(Exception):
    """Base class: the data asked for cannot be provided as it is."""


class MissingDataError(DataError, FileNotFoundError):
    """A dataset name, file or folder that does not exist and cannot be downloaded."""


class ChecksumError(DataError, ValueError):
    """A file whose sha256 differs from the registered one (corrupt, truncated, other version)."""


class DataFormatError(DataError, ValueError):
    """A file that exists but cannot be parsed (the message names the file and line)."""
