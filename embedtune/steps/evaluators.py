"""Steps: evaluate the base and the selected model on the held-out test queries, at every dim.

Each model is evaluated once: when training kept the base model, the "finetuned" evaluation is
the base evaluation itself.
"""

from __future__ import annotations

from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import log_metadata, step

from embedtune.baselines.block import baselines_for_run
from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.deployment.encoded import EncodedTask
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.workflow import evaluate, evaluate_test, load_base_model


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
) -> tuple[Annotated[dict, "finetuned_evaluation"], Annotated[dict, "baselines"]]:
    """The selected model's test evaluation (the base evaluation itself when the base was kept)
    and, when asked, BM25 and the hybrid against it (from the same encoding)."""
    settings = FinetuneConfig(**config)
    data = RetrievalData.from_parts(train_pairs, test_set)
    kept_base = training_summary["selection"]["selected"] == "base"
    encoded = None
    if kept_base and not (settings.baselines or settings.deployment):
        evaluation = base_evaluation  # same weights, same scores: no second evaluation
    else:
        tested, encoded = evaluate_test(model, data, settings)
        evaluation = base_evaluation if kept_base else tested.to_dict()
    baselines: dict[str, Any] = {}
    label = "base" if kept_base else "finetuned"
    if settings.baselines and encoded is not None:
        block, extra = baselines_for_run(
            data,
            RetrievalEvaluation.from_dict(evaluation),
            encoded,
            dense_label=label,
            verdict_dim=settings.verdict_dim,
            ignore_identical_ids=settings.ignore_identical_ids,
        )
        baselines = {"block": block, "evaluations": {k: v.to_dict() for k, v in extra.items()}}
    if settings.deployment and encoded is not None:  # visualize_evaluation writes deployment.json
        baselines["deployment"] = deployment_matrix(encoded, data, settings, label)
    log_metadata(metadata={"finetuned_evaluation": evaluation["metrics"]}, infer_model=True)
    return evaluation, baselines


def deployment_matrix(
    encoded: EncodedTask, data: RetrievalData, settings: FinetuneConfig, label: str
) -> dict[str, Any]:
    """deployment.json's content, from this step's encoding, timed on this step's machine."""
    from embedtune.deployment.matrix import matrix_from_encoded
    from embedtune.reporting.hardware import describe_hardware

    matrix = matrix_from_encoded(
        encoded, data, settings.dims, ignore_identical_ids=settings.ignore_identical_ids
    )
    name = settings.base_model_name + (" finetuned" if label == "finetuned" else "")
    return {"model": label, "model_name": name, "hardware": describe_hardware(), **matrix}
