"""Resume only what can be proven to be the same run.

Every run writes OUTPUT/checkpoints/embedtune_run.json: the data fingerprint and the settings
that shape training. `--resume` compares them with the new run: a difference in data or in a
shaping setting (learning rate, batch, epochs, ...) is refused, naming what differs, because the
Trainer would silently continue with the checkpoint's state (its learning-rate schedule, its data
order) while results.json recorded the new values. Other changes (eval batch size, push target)
are harmless and only logged.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from embedtune.config import FinetuneConfig
from embedtune.errors import ConfigError
from embedtune.io import write_json_atomic
from embedtune.settings import settings_of

logger = logging.getLogger(__name__)
RECORD = "embedtune_run.json"
# The settings that change the model trained (FinetuneConfig fields with shapes_training).
SHAPING = tuple(info.name for info in settings_of(FinetuneConfig) if info.shapes_training)


def _record(config: FinetuneConfig, fingerprint: str) -> dict[str, Any]:
    settings = config.public_dict()
    return {"data_fingerprint": fingerprint, "settings": settings}


def write_run_record(checkpoint_dir: str | Path, config: FinetuneConfig, fingerprint: str) -> None:
    write_json_atomic(Path(checkpoint_dir) / RECORD, _record(config, fingerprint))


def check_resume(checkpoint_dir: str | Path, config: FinetuneConfig, fingerprint: str) -> None:
    """Refuse a resume whose data or shaping settings differ from the checkpoint's run."""
    path = Path(checkpoint_dir) / RECORD
    if not path.is_file():
        if any(Path(checkpoint_dir).glob("checkpoint-*")):
            raise ConfigError(
                f"--resume: {checkpoint_dir} has checkpoints but no {RECORD}, so nothing proves "
                "they come from this data and these settings; start afresh without --resume"
            )
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"--resume: cannot read {path}: {err}") from None
    new = _record(config, fingerprint)
    problems = []
    if old.get("data_fingerprint") != fingerprint:
        problems.append("the data (its fingerprint differs: other pairs, corpus or queries)")
    before, after = old.get("settings", {}), new["settings"]
    for name in SHAPING:
        if before.get(name) != after.get(name):
            problems.append(f"{name}: {before.get(name)!r} -> {after.get(name)!r}")
    if problems:
        raise ConfigError(
            "--resume would continue a different run; what differs: "
            + "; ".join(problems)
            + ". Resume with the original settings, or start afresh without --resume"
        )
    harmless = [
        f"{name}: {before.get(name)!r} -> {after.get(name)!r}"
        for name in sorted(set(before) | set(after))
        if name not in SHAPING and before.get(name) != after.get(name) and name != "resume"
    ]
    if harmless:
        logger.warning("Resuming with changed settings that do not affect training: %s", harmless)
