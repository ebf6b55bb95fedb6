"""Steps: evaluate the base and the selected model on the held-out test queries, at every dim.

Each model is evaluated once: when training kept the base model, the "finetuned" evaluation is
the base evaluation itself.
"""

from __future__ import annotations

from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import log_metadata, step

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.run_results import compare_with_baselines, selected_model_name
from embedtune.workflow import evaluate, evaluate_test, load_base_model


@step
def evaluate_base_model(
    train_pairs: Dataset, test_set: dict, config: dict[str, Any]
) -> Annotated[dict, "base_evaluation"]:
    settings = FinetuneConfig(**config)
    model = load_base_model(settings)
    evaluation = evaluate(
        model, RetrievalData.from_parts(train_pairs, test_set), settings, label="base model"
    )
    log_metadata(metadata={"base_evaluation": evaluation.metrics()}, infer_model=True)
    return evaluation.to_dict()


@step
def evaluate_finetuned_model(
    model: SentenceTransformer,
    train_pairs: Dataset,
    test_set: dict,
    base_evaluation: dict,
    training_summary: dict,
    config: dict[str, Any],
) -> tuple[Annotated[dict, "finetuned_evaluation"], Annotated[dict, "baselines"]]:
    """The selected model's test evaluation (the base evaluation itself when the base was kept)
    and the baselines stage from the same encoding (`run_results.Comparisons`, as a dict)."""
    settings = FinetuneConfig(**config)
    data = RetrievalData.from_parts(train_pairs, test_set)
    selected = training_summary["selection"]["selected"]
    kept_base = selected == "base"
    encoded = None
    if kept_base and not (settings.baselines or settings.deployment):
        evaluation = base_evaluation  # same weights, same scores: no second evaluation
    else:
        tested, encoded = evaluate_test(model, data, settings, label=f"{selected} model")
        evaluation = base_evaluation if kept_base else tested.to_dict()
    comparisons = compare_with_baselines(
        settings,
        data,
        RetrievalEvaluation.from_dict(evaluation),
        encoded,
        dense_label=selected,
        model_name=selected_model_name(settings, selected),
    )
    log_metadata(metadata={"finetuned_evaluation": evaluation["metrics"]}, infer_model=True)
    return evaluation, comparisons.to_dict()
