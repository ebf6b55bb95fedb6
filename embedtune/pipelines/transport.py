"""How a run's settings travel between ZenML steps."""

from __future__ import annotations

from typing import Any

from embedtune.config import FinetuneConfig
from embedtune.errors import ConfigError
from embedtune.secrets import is_secret_name


def transport_dict(config: FinetuneConfig) -> dict[str, Any]:
    """The settings as the steps receive them (`FinetuneConfig.to_dict`: exact values, unlike
    `public_dict`, which masks secrets for display). ZenML stores pipeline parameters with the
    run, so a secret-looking `extra` value is refused here instead of being stored."""
    secret = sorted(k for k, v in config.extra.items() if v and is_secret_name(k))
    if secret:
        raise ConfigError(
            f"extra: {secret} look like secrets, and a pipeline stores its settings with the run; "
            "give secrets through the environment or a ZenML secret"
        )
    return config.to_dict()
