"""ZenML pipeline `generate_synthetic_data`: documents -> chunks -> PII scan -> queries -> save
(and push to the Hub / Argilla for review)."""

from __future__ import annotations

import dataclasses
from typing import Any

from zenml import pipeline

from embedtune.steps.synthetic import (
    generate_queries,
    load_and_chunk_documents,
    publish_generated_dataset,
    scan_for_pii,
)
from embedtune.synthetic.generate import GenerateConfig, check_generate_config


@pipeline(enable_cache=False)
def generate_synthetic_data(config: dict[str, Any]) -> None:
    chunks = load_and_chunk_documents(config)
    screened, _ = scan_for_pii(chunks, config)
    dataset = generate_queries(screened, config)
    publish_generated_dataset(dataset, config)


def run_generate_pipeline(config: GenerateConfig) -> dict[str, Any]:
    """Run the pipeline; the refusals (output folder, LLM spec) come before it starts."""
    check_generate_config(config)
    run = generate_synthetic_data(config=dataclasses.asdict(config))
    return run.steps["publish_generated_dataset"].outputs["published"][0].load()
