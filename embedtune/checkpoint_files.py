"""--resume reads training checkpoints: refuse one whose state files are not plain tensors.

The Trainer loads optimizer.pt, scheduler.pt, scaler.pt and rng_state*.pth with `torch.load`;
with `weights_only` a tampered file (a pickle of arbitrary objects) runs nothing but fails with
an UnpicklingError traceback. `check_checkpoint_files` loads each of them the same safe way
before any work and names the file that is refused.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from embedtune.errors import ConfigError

# what Trainer._load_from_checkpoint / _load_rng_state read (training_args.bin is never read)
STATE_FILES = ("optimizer.pt", "scheduler.pt", "scaler.pt")


def _state_files(checkpoints: Path) -> list[Path]:
    folders = [*checkpoints.glob("checkpoint-*"), *checkpoints.glob("*/checkpoint-*")]
    return sorted(
        file
        for folder in folders
        if folder.is_dir()
        for file in folder.iterdir()
        if (file.name in STATE_FILES or file.match("rng_state*.pth")) and file.is_file()
    )


def check_checkpoint_files(checkpoints: str | Path) -> None:
    """ConfigError naming the first checkpoint state file that `torch.load(weights_only=True)`
    refuses (or cannot read)."""
    import torch
    from transformers.trainer_pt_utils import safe_globals

    for file in _state_files(Path(checkpoints)):
        try:
            with safe_globals():  # numpy's RNG state, as the Trainer allows it
                torch.load(file, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as err:
            reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            raise ConfigError(
                f"--resume: {file} cannot be loaded safely ({type(err).__name__}: {reason}); it "
                "holds more than tensors (tampered, or not written by this training). Remove "
                f"{file.parent} to resume from an earlier checkpoint, or start afresh without "
                "--resume"
            ) from None
