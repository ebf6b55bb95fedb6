"""ZenML pipeline `finetune_embeddings`: load/split -> evaluate base -> finetune -> evaluate
finetuned -> save -> visualize. Every step is a thin wrapper over embedtune.workflow."""

from __future__ import annotations

import logging
from typing import Any

from zenml import Model, pipeline

from embedtune.config import FinetuneConfig
from embedtune.run_outputs import check_base_model_outside_output, output_lock
from embedtune.steps.data_loader import load_and_split_data
from embedtune.steps.evaluators import evaluate_base_model, evaluate_finetuned_model
from embedtune.steps.reporter import save_model, visualize_evaluation
from embedtune.steps.trainer import finetune_model

logger = logging.getLogger(__name__)
MODEL_NAME = "embedtune-finetuned-embeddings"


@pipeline(enable_cache=False)
def finetune_embeddings(config: dict[str, Any]) -> None:
    train_pairs, test_set = load_and_split_data(config)
    base_evaluation = evaluate_base_model(train_pairs, test_set, config)
    model, training_summary = finetune_model(train_pairs, test_set, config)
    finetuned_evaluation, baselines = evaluate_finetuned_model(
        model, train_pairs, test_set, base_evaluation, training_summary, config
    )
    published = save_model(model, config)
    visualize_evaluation(
        base_evaluation,
        finetuned_evaluation,
        baselines,
        training_summary,
        test_set,
        train_pairs,
        published,
        config,
    )


def run_pipeline(config: FinetuneConfig, model_name: str = MODEL_NAME) -> dict[str, Any]:
    """Run the pipeline on the active ZenML stack; returns the results.json content."""
    model = Model(
        name=model_name,
        description="Sentence-embedding model finetuned for retrieval by embedtune",
        tags=["embeddings", "retrieval", "matryoshka"],
    )
    check_base_model_outside_output(config.base_model, config.output)
    with output_lock(config.output):  # the local orchestrator runs the steps in this process
        run = finetune_embeddings.with_options(model=model)(config=config.public_dict())
    report = run.steps["visualize_evaluation"].outputs["evaluation_report"][0].load()
    version = run.model_version.name if run.model_version else "?"
    logger.info(
        "ZenML run %s finished; model %s version %s (%s)",
        run.name,
        model_name,
        version,
        report.results["verdict"]["selected"],
    )
    return report.results
