"""Step: finetune the base model; the best validation checkpoint (or the base) is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import ArtifactConfig, log_metadata, step
from zenml.enums import ArtifactType

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.guard.outputs import guard_and_merge_blocks
from embedtune.guard.task import evaluate_guard, load_guard
from embedtune.hardware import describe_hardware
from embedtune.materializers.sentence_transformer_materializer import (
    SentenceTransformerMaterializer,
)
from embedtune.timings import Timings
from embedtune.training.checkpoint_cleanup import remove_finished_checkpoints
from embedtune.training.train_and_select import train
from embedtune.workflow import load_base_model


@step(output_materializers={"finetuned_model": SentenceTransformerMaterializer})
def finetune_model(
    train_pairs: Dataset, test_set: dict, config: dict[str, Any]
) -> tuple[
    Annotated[
        SentenceTransformer,
        ArtifactConfig(name="finetuned_model", artifact_type=ArtifactType.MODEL),
    ],
    Annotated[dict, "training_summary"],
]:
    settings = FinetuneConfig(**config)
    data = RetrievalData.from_parts(train_pairs, test_set)
    guard, model = load_guard(settings), load_base_model(settings)
    if guard is not None:
        guard.base = evaluate_guard(model, guard, settings)
    timings = Timings()
    outcome = train(settings, model, data, Path(settings.output), guard=guard, timings=timings)
    remove_finished_checkpoints(settings)  # the model is this step's artifact from here on
    summary = {
        **outcome.summary.as_dict(),
        "selection": outcome.selection,
        "guard_and_merge": guard_and_merge_blocks(
            outcome.model, settings, selected=outcome.selected, guard=guard, merge=outcome.merge
        ),
        "timings": timings.as_dict(),
    }
    log_metadata(
        metadata={
            "training_parameters": settings.public_dict(),
            "training": {k: v for k, v in summary.items() if k != "epoch_metrics"},
            "hardware": describe_hardware(),
        },
        infer_model=True,
    )
    return outcome.model, summary
