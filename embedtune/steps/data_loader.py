"""Step: load the data source and split it by the evaluation protocol."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any

from datasets import Dataset
from transformers import AutoTokenizer
from zenml import log_metadata, step
from zenml.integrations.huggingface.materializers.huggingface_datasets_materializer import (
    HFDatasetMaterializer,
)

from embedtune.config import FinetuneConfig
from embedtune.workflow import count_truncation, load_data


@step(output_materializers={"train_pairs": HFDatasetMaterializer})
def load_and_split_data(
    config: dict[str, Any],
) -> tuple[Annotated[Dataset, "train_pairs"], Annotated[dict, "test_set"]]:
    settings = FinetuneConfig(**config)
    data = load_data(settings)
    # Truncation is counted with the tokenizer alone: no model weights are loaded here.
    tokenizer = AutoTokenizer.from_pretrained(settings.base_model)
    count_truncation(
        SimpleNamespace(tokenizer=tokenizer, max_seq_length=settings.max_seq_length),
        data,
        settings,
    )
    log_metadata(metadata={"data": data.summary(), "protocol": data.protocol}, infer_model=True)
    return data.train, data.test_set()
