"""Tokens come from the environment or a ZenML secret, and are never logged or stored.

`redact` scrubs known token values out of any text before it is logged or written.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

_TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "ARGILLA_API_KEY")


def zenml_secret_value(secret: str, key: str) -> str | None:
    """A value of a ZenML secret, or None when ZenML has no such secret (or is not set up)."""
    try:
        from zenml.client import Client

        return Client().get_secret(secret).secret_values.get(key)
    except Exception:  # no store, no secret, no permission: all mean "not configured"
        return None


def hf_token() -> str | None:
    """HF_TOKEN from the environment, else the `token` key of the ZenML secret `huggingface`."""
    return (
        os.environ.get("HF_TOKEN")
        or os.environ.get("HUGGING_FACE_HUB_TOKEN")
        or zenml_secret_value("huggingface", "token")
    )


def redact(text: str, extra: tuple[str, ...] = ()) -> str:
    """`text` with every known secret value replaced by ***."""
    for value in [*(os.environ.get(name) for name in _TOKEN_ENV), *extra]:
        if value and len(value) >= 6:
            text = text.replace(value, "***")
    return text
