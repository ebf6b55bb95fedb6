"""Errors a user can act on. Messages name the file, row and column and say what to do."""

from __future__ import annotations


class EmbedtuneError(Exception):
    """Base class for errors reported to the user without a traceback."""


class DataError(EmbedtuneError):
    """Input data is missing, unreadable or malformed."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(f"file {path}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = f"{', '.join(where)}: {message}" if where else message
        if hint:
            text = f"{text}\n  -> {hint}"
        super().__init__(text)
        self.path, self.row, self.column, self.hint = path, row, column, hint


class ConfigError(EmbedtuneError):
    """A setting or flag has an invalid value."""


class ServiceError(EmbedtuneError):
    """An external service (Argilla, the Hub, an LLM endpoint) is missing or refused the request."""
