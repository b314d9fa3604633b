"""Errors a user can act on."""

from __future__ import annotations


class SpendkollError(Exception):
    """Base class for errors spendkoll reports to its user."""


class ConfigError(SpendkollError):
    """A source config or setting is wrong; the message names it."""


class FileRejected(SpendkollError):
    """A whole file cannot be loaded.  Nothing of it is loaded; it is moved aside.

    The message says where (line, column where known) and what was expected;
    the loader prefixes the file name.
    """


class LoadFailed(SpendkollError):
    """One or more files of a load were rejected; raised after the good ones loaded."""

    def __init__(self, message: str, results: list[object] | None = None) -> None:
        super().__init__(message)
        self.results = results or []
