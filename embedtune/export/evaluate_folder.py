"""`embedtune evaluate --model OUT/model-onnx-int8`: score an exported folder (what a user
deploys) with the same data, split, evaluator and outputs as `evaluate` on a torch model.

The folder has no torch weights, so it cannot stand in as the config's base model; the config is
resolved on the default model and then given the folder's own dimension and sequence length.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from embedtune.config import FinetuneConfig, resolve_dims
from embedtune.export.formats import EXPORT_RECORD

logger = logging.getLogger(__name__)


def is_exported_folder(model: str | Path) -> bool:
    """A folder `embedtune export` (or finetune --export) wrote."""
    return (Path(model).expanduser() / EXPORT_RECORD).is_file()


def exported_config(
    folder: str | Path, config_file: str | None, settings: dict[str, Any]
) -> FinetuneConfig:
    """The evaluate settings with the exported folder's dims and sequence length (the flags'
    when given), checked as FinetuneConfig checks them."""
    from embedtune.config import load_config
    from embedtune.export.loader import read_record
    from embedtune.export.model_folder import read_pipeline

    folder = Path(folder).expanduser()
    read_record(folder)
    pipeline = read_pipeline(folder)
    dims, length = settings.pop("dims", None), settings.pop("max_seq_length", None)
    config = load_config(config_file, **settings, base_model=None)
    dims = resolve_dims(dims or None, int(pipeline.dimension or config.dims[0]))
    length = length or pipeline.max_seq_length or config.max_seq_length
    config = dataclasses.replace(config, dims=dims, best_dim=dims[0], max_seq_length=length)
    object.__setattr__(config, "base_model", str(folder))  # no weights: not re-resolved
    return config
