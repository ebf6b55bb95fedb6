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


def run_evaluate_exported(folder: str | Path, config: FinetuneConfig) -> dict[str, Any]:
    """As workflow.run_evaluate, with the exported encoder in place of the torch model."""
    from embedtune.run_outputs import StagedOutputs, output_lock
    from embedtune.search import require_index_package
    from embedtune.workflow import drop_stale_deployment, write_outputs

    require_index_package(config.index)
    with output_lock(config.output):
        staged = StagedOutputs(config.output)
        results, evaluations, data = _evaluate(Path(folder).expanduser(), config, staged.staging)
        write_outputs(staged.staging, results, evaluations, data)
        staged.commit()
        drop_stale_deployment(config.output, results)
    return results


def _evaluate(folder: Path, config: FinetuneConfig, staging: Path) -> tuple[Any, Any, Any]:
    from embedtune.config import model_display_name
    from embedtune.export.loader import load_exported, read_record
    from embedtune.workflow import evaluate_loaded, load_data

    data = load_data(config, require_train=False)
    record = read_record(folder)
    encoder = load_exported(folder, max_seq_length=config.max_seq_length)
    logger.info("Evaluating the exported model %s (%s)", folder, record["name"])
    exported = {
        "format": record["format"],
        "precision": record["precision"],
        "file": record["file"],
        "source_model": record.get("source_model"),
        "max_seq_length": encoder.max_seq_length,
    }
    name = model_display_name(str(folder))
    return evaluate_loaded(encoder, name, data, config, staging, {"exported": exported})
