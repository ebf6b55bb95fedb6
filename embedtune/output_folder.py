"""One output folder, one kind of run: an evaluation never replaces a finetune run's outputs.

Call `check_output_folder` before any work. A folder holding another kind of run (or files
embedtune cannot place) is refused unless `overwrite`; a folder holding a run of the same kind is
reused, and the user is told which files the new run replaces when it completes (every file is
swapped in atomically, results.json last).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from embedtune.errors import ConfigError
from embedtune.reporting.results_schema import (
    EVALUATE,
    FINETUNE,
    FINETUNED,
    MODEL,
    MODEL_DIR,
    OUTPUT_FILES,
)

logger = logging.getLogger(__name__)

RUN_KINDS = (FINETUNE, EVALUATE)
CHECKPOINTS_DIR = "checkpoints"
RUN_FILES = (*OUTPUT_FILES.values(), MODEL_DIR, CHECKPOINTS_DIR)


@dataclass(frozen=True)
class ExistingRun:
    """What an output folder already holds."""

    kind: str  # "finetune", "evaluate", or "unknown" (a results.json embedtune cannot place)
    finished: bool  # results.json, written last, is there
    files: tuple[str, ...]  # the run's files and folders that a new run replaces

    def describe(self) -> str:
        state = "finished" if self.finished else "unfinished"
        return f"a {state} {self.kind} run ({', '.join(self.files)})"


def _kind_of_results(path: Path) -> str:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    if not isinstance(results, dict):
        return "unknown"
    kind = results.get("kind")
    if kind in RUN_KINDS:
        return kind
    if FINETUNED in results:  # results.json written before "kind" was recorded
        return FINETUNE
    if MODEL in results:
        return EVALUATE
    return "unknown"


def existing_run(output: str | Path) -> ExistingRun | None:
    """The run in `output`, or None when there is none (missing or without a run's files)."""
    output = Path(output)
    if not output.is_dir():
        return None
    files = tuple(name for name in RUN_FILES if (output / name).exists())
    results = output / OUTPUT_FILES["results"]
    if results.is_file():
        return ExistingRun(_kind_of_results(results), True, files)
    if (output / MODEL_DIR).is_dir() or (output / CHECKPOINTS_DIR).is_dir():
        return ExistingRun(FINETUNE, False, files)  # killed or still running
    return None


def check_output_folder(output: str | Path, kind: str, *, overwrite: bool = False) -> None:
    """Refuse (ConfigError) to write a `kind` run into a folder that holds another kind of run,
    unless `overwrite`; log what a run of the same kind will replace."""
    if kind not in RUN_KINDS:
        raise ValueError(f"kind must be one of {RUN_KINDS}, got {kind!r}")
    found = existing_run(output)
    if found is None:
        return
    if found.kind != kind and not overwrite:
        raise ConfigError(
            f"--output {output} holds {found.describe()}; `embedtune {kind}` would replace it. "
            "Give another --output, or add --overwrite to replace it"
        )
    if found.kind != kind:
        kept = [name for name in found.files if name in (MODEL_DIR, CHECKPOINTS_DIR)]
        logger.warning(
            "--overwrite: %s holds %s; the %s run replaces its results%s",
            output,
            found.describe(),
            kind,
            f" ({', '.join(kept)} stay from the old run)" if kind == EVALUATE and kept else "",
        )
    elif found.finished:
        logger.warning(
            "%s holds %s: the new %s run replaces its files when it completes",
            output,
            found.describe(),
            kind,
        )
