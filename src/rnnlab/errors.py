"""Errors a user can cause, told apart from bugs: the ``rnnlab`` command prints them as one line
(exit code 2) and lets every other exception show its traceback.

A library function raises :class:`InputError` where what it was given (a text, a file, a setting)
cannot be used as it is; being a ``ValueError`` too, it is caught like the ``ValueError`` it was
before. Its message says what is wrong and how to fix it. This module imports nothing, so that
every layer (``nn``, ``text``, ``data``, ``train``, ``models``) may raise these.
"""

from __future__ import annotations

__all__ = ["DivergedError", "InputError", "MissingFileError", "UserError"]


class UserError(Exception):
    """Base class: something the user gave rnnlab is wrong (not a bug of rnnlab)."""


class InputError(UserError, ValueError):
    """A value the user gave (a text, a setting, a file's content, a run to resume) is unusable."""


class MissingFileError(UserError, FileNotFoundError):
    """A file or directory the user named (a model directory, a run to resume) is not there."""


class DivergedError(UserError, FloatingPointError):
    """Training produced a NaN or infinite loss (or weights): the run stopped, its last good
    checkpoint kept; a lower learning rate or gradient clipping is the usual fix."""
