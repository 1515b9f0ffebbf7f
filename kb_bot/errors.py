"""Errors a person can act on: what went wrong, where, and what to run next."""

from __future__ import annotations


class KbBotError(Exception):
    """A user-facing error. ``hint`` says what to do about it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class StaleIndexError(KbBotError):
    """The index on disk was built with other settings or an older format."""


class IndexMissingError(KbBotError):
    """No index has been built yet in the index folder."""


class IndexBusyError(KbBotError):
    """Another build or refresh holds the index lock."""
