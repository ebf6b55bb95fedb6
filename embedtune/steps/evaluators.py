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
from embedtune.workflow import evaluate, load_base_model


@step
def evaluate_base_model(
    train_pairs: Dataset, test_set: dict, config: dict[str, Any]
) -> Annotated[dict, "base_evaluation"]:
    settings = FinetuneConfig(**config)
    model = load_base_model(settings)
    evaluation = evaluate(model, RetrievalData.from_parts(train_pairs, test_set), settings)
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
) -> Annotated[dict, "finetuned_evaluation"]:
    if training_summary["selection"]["selected"] == "base":
        evaluation = base_evaluation  # the base model was kept: same weights, same scores
    else:
        settings = FinetuneConfig(**config)
        data = RetrievalData.from_parts(train_pairs, test_set)
        evaluation = evaluate(model, data, settings).to_dict()
    log_metadata(metadata={"finetuned_evaluation": evaluation["metrics"]}, infer_model=True)
    return evaluation
