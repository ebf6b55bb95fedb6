"""Step: finetune the base model (Matryoshka loss, best epoch kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import ArtifactConfig, log_metadata, step
from zenml.enums import ArtifactType

from embedtune.data.retrieval_data import RetrievalData
from embedtune.materializers.sentence_transformer_materializer import (
    SentenceTransformerMaterializer,
)
from embedtune.reporting.hardware import describe_hardware
from embedtune.config import FinetuneConfig
from embedtune.workflow import load_base_model, train


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
    _, dims = load_base_model(settings)
    data = RetrievalData.from_parts(train_pairs, test_set)
    model, summary = train(settings, data, dims, Path(settings.output))
    log_metadata(
        metadata={
            "training_parameters": {**settings.public_dict(), "dims": dims},
            "training": {k: v for k, v in summary.as_dict().items() if k != "epoch_metrics"},
            "hardware": describe_hardware(),
        },
        infer_model=True,
    )
    return model, summary.as_dict()
