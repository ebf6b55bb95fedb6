"""Steps of `generate_synthetic_data`: thin wrappers over embedtune.synthetic.generate."""

from __future__ import annotations

from typing import Annotated, Any

from datasets import Dataset
from zenml import log_metadata, step
from zenml.integrations.huggingface.materializers.huggingface_datasets_materializer import (
    HFDatasetMaterializer,
)

from embedtune.synthetic.dataset import build_generated_dataset
from embedtune.synthetic.generate import (
    GenerateConfig,
    check_generate_config,
    chunks_from_dataset,
    chunks_to_dataset,
    filter_generated,
    generate_examples,
    load_chunks,
    publish_generated,
    screen_pii,
)


@step(output_materializers={"chunks": HFDatasetMaterializer})
def load_and_chunk_documents(config: dict[str, Any]) -> Annotated[Dataset, "chunks"]:
    settings = GenerateConfig(**config)
    check_generate_config(settings)  # refusals before any work, also when run without the CLI
    return chunks_to_dataset(load_chunks(settings))


@step(output_materializers={"screened_chunks": HFDatasetMaterializer})
def scan_for_pii(
    chunks: Dataset, config: dict[str, Any]
) -> tuple[Annotated[Dataset, "screened_chunks"], Annotated[dict, "pii_report"]]:
    kept, report = screen_pii(chunks_from_dataset(chunks), GenerateConfig(**config))
    summary = {k: v for k, v in report.to_dict().items() if k != "chunk_ids"}
    log_metadata(metadata={"pii": summary})
    return chunks_to_dataset(kept), report.to_dict()


@step(output_materializers={"generated_dataset": HFDatasetMaterializer})
def generate_queries(
    chunks: Dataset, config: dict[str, Any]
) -> Annotated[Dataset, "generated_dataset"]:
    settings = GenerateConfig(**config)
    parsed = chunks_from_dataset(chunks)
    return build_generated_dataset(parsed, generate_examples(parsed, settings))


@step
def publish_generated_dataset(
    dataset: Dataset, config: dict[str, Any]
) -> Annotated[dict, "published"]:
    settings = GenerateConfig(**config)
    dataset, filtered = filter_generated(dataset, settings)  # every row dropped: nothing saved
    summary = publish_generated(dataset, settings, filtered.dropped if filtered else None)
    if filtered is not None:
        summary["filter"] = filtered.summary()
        log_metadata(metadata={"query_filter": filtered.summary(examples=0)})
    return summary
