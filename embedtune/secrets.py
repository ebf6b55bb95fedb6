"""Tokens come from the environment or a ZenML secret, and are never logged or stored.

`redact` scrubs known token values out of any text before it is logged or written;
`install_log_redaction` puts the same scrub on every log handler, as a last line of defence
against a library that logs a request with its Authorization header or an error quoting a URL.
"""

from __future__ import annotations

import logging
import os
import re

logger = logging.getLogger(__name__)

_TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "ARGILLA_API_KEY")
_MIN_SECRET_LENGTH = 6
_SECRET_NAME = re.compile(r"token|secret|password|api_?key|credential", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """A setting or key whose name says it holds a secret (hf_token, api_key, ...)."""
    return bool(_SECRET_NAME.search(str(name)))


_known: set[str] = set()  # values read from ZenML secrets (not in the environment)


def remember_secret(value: str | None) -> str | None:
    """Register a secret value obtained elsewhere (e.g. a ZenML secret) so it is redacted too."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        _known.add(value)
    return value


def zenml_secret_value(secret: str, key: str) -> str | None:
    """A value of a ZenML secret, or None when ZenML has no such secret (or is not set up)."""
    try:
        from zenml.client import Client

        return remember_secret(Client().get_secret(secret).secret_values.get(key))
    except Exception:  # no store, no secret, no permission: all mean "not configured"
        return None


def hf_token() -> str | None:
    """HF_TOKEN from the environment, else the `token` key of the ZenML secret `huggingface`."""
    return (
        os.environ.get("HF_TOKEN")
        or os.environ.get("HUGGING_FACE_HUB_TOKEN")
        or zenml_secret_value("huggingface", "token")
    )


def secret_values(extra: tuple[str, ...] = ()) -> list[str]:
    """Every known secret value, longest first (so a token containing another is fully hidden)."""
    values = {v for v in (os.environ.get(name) for name in _TOKEN_ENV) if v}
    values |= _known | {v for v in extra if v}
    return sorted((v for v in values if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str, extra: tuple[str, ...] = ()) -> str:
    """`text` with every known secret value replaced by ***."""
    for value in secret_values(extra):
        text = text.replace(value, "***")
    return text


class RedactingFilter(logging.Filter):
    """Replaces known secret values in a record's message (and traceback text) with ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not secret_values():
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error path
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add a RedactingFilter to every handler of `logger` (default: the root logger)."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
