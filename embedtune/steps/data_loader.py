"""Step: load the data source and split it by document."""

from __future__ import annotations

from typing import Annotated, Any

from datasets import Dataset
from zenml import log_metadata, step
from zenml.integrations.huggingface.materializers.huggingface_datasets_materializer import (
    HFDatasetMaterializer,
)

from embedtune.config import FinetuneConfig
from embedtune.workflow import count_truncation, load_base_model, load_data


@step(output_materializers={"train_pairs": HFDatasetMaterializer})
def load_and_split_data(
    config: dict[str, Any],
) -> tuple[Annotated[Dataset, "train_pairs"], Annotated[dict, "test_set"]]:
    settings = FinetuneConfig(**config)
    data = load_data(settings)
    count_truncation(load_base_model(settings)[0], data, settings)
    log_metadata(metadata={"data": data.summary()}, infer_model=True)
    return data.train, data.test_set()
