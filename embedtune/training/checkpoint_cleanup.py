"""Training checkpoints are for resuming an interrupted run; a finished run removes them.

Each checkpoint holds the weights plus the optimizer state (about 3x the model's size: 260 MB for
MiniLM, several GB for a large model), and `learning_rate: auto` keeps two per candidate rate.
Once the run's model is saved they only take disk, so they go unless `keep_checkpoints` is set.
What stays: the run record (embedtune_run.json), the per-epoch evaluation files and a LoRA run's
kept adapter, all small.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from embedtune.config import FinetuneConfig
from embedtune.output_folder import CHECKPOINTS_DIR

logger = logging.getLogger(__name__)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def remove_checkpoints(checkpoints: str | Path) -> int:
    """Remove every `checkpoint-STEP` folder under `checkpoints` (one level of candidate folders
    included); the bytes freed."""
    root = Path(checkpoints)
    if not root.is_dir():
        return 0
    pattern = f"{PREFIX_CHECKPOINT_DIR}-*"
    folders = [*root.glob(pattern), *root.glob(f"*/{pattern}")]
    freed = 0
    for folder in (f for f in folders if f.is_dir()):
        freed += _size(folder)
        shutil.rmtree(folder)
    if folders:
        logger.info(
            "Removed %d training checkpoint(s) from %s (%.0f MB; --keep-checkpoints keeps them)",
            len(folders),
            root,
            freed / 2**20,
        )
    return freed


def remove_finished_checkpoints(config: FinetuneConfig) -> int:
    """After a run has its model: OUTPUT/checkpoints' checkpoint folders go, unless
    `keep_checkpoints`; the bytes freed."""
    if config.keep_checkpoints:
        return 0
    return remove_checkpoints(Path(config.output) / CHECKPOINTS_DIR)
