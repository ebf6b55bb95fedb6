"""Steps: save (and push) the model, then write results.json, the chart and the report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import log_metadata, step
from zenml.artifacts.unmaterialized_artifact import UnmaterializedArtifact

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.materializers.report_materializer import EvaluationReport
from embedtune.pipelines.remote_outputs import ensure_model_folder
from embedtune.reporting.html_report import render_html_report
from embedtune.reporting.summary import metadata_summary
from embedtune.run_files import publish_model, write_run
from embedtune.run_outputs import StagedOutputs
from embedtune.run_results import Comparisons, add_comparisons, finetune_results


@step
def save_model(
    model: SentenceTransformer, config: dict[str, Any]
) -> Annotated[dict, "published_model"]:
    settings = FinetuneConfig(**config)
    return publish_model(model, settings, StagedOutputs(settings.output).staging)


@step
def visualize_evaluation(
    base_evaluation: dict,
    finetuned_evaluation: dict,
    baselines: dict,
    training_summary: dict,
    test_set: dict,
    train_pairs: Dataset,
    published_model: dict,
    config: dict[str, Any],
    finetuned_model: UnmaterializedArtifact,
    export: dict | None = None,
    sequence_length: dict | None = None,
) -> Annotated[EvaluationReport, "evaluation_report"]:
    """`finetuned_model`: loaded only to push when save_model ran in another container."""
    settings = FinetuneConfig(**config)
    data = RetrievalData.from_parts(train_pairs, test_set)
    evaluations = {
        "base": RetrievalEvaluation.from_dict(base_evaluation),
        "finetuned": RetrievalEvaluation.from_dict(finetuned_evaluation),
    }
    training = {
        k: v
        for k, v in training_summary.items()
        if k not in ("selection", "guard_and_merge", "timings")
    }
    results = finetune_results(
        settings,
        before=evaluations["base"],
        after=evaluations["finetuned"],
        data=data,
        training=training,
        selection=training_summary["selection"],
        extra={
            **published_model,
            **training_summary.get("guard_and_merge", {}),
            **({"sequence_length": sequence_length} if sequence_length else {}),
        },
    )
    results["timings"] = pipeline_timings(base_evaluation, finetuned_evaluation, training_summary)
    if export:  # export_model's block (--export)
        results["export"] = export
    comparisons = Comparisons.from_dict(baselines)
    deployment = comparisons.deployment
    if deployment and export and export.get("latency"):  # the export's timing, as a local run
        comparisons = dataclasses.replace(
            comparisons, deployment={**deployment, "latency": export["latency"]}
        )
    staged = StagedOutputs(settings.output, fresh=False)
    add_comparisons(results, evaluations, comparisons, staged.staging)
    if settings.push_to_hub:
        ensure_model_folder(finetuned_model.load, settings, staged.staging)
    write_run(staged, settings, results, evaluations, data)
    log_metadata(metadata={"results": metadata_summary(results)}, infer_model=True)
    tag_model_version(results["verdict"]["selected"])
    chart = (Path(settings.output) / "evaluation.png").read_bytes()
    per_query = json.loads((Path(settings.output) / "per_query.json").read_text("utf-8"))
    return EvaluationReport(
        results, chart, render_html_report(results), per_query, comparisons.deployment
    )


def pipeline_timings(base: dict, finetuned: dict, training_summary: dict) -> dict[str, float]:
    """results.json `timings` of a pipeline run: the steps' own phases (each step runs apart,
    so `total` is their sum, without ZenML's overhead between steps)."""
    timings = {"base_evaluation": round(float(base.get("seconds", 0.0)), 2)}
    timings.update({k: v for k, v in training_summary.get("timings", {}).items() if k != "total"})
    timings["final_evaluation"] = round(float(finetuned.get("seconds", 0.0)), 2)
    timings["total"] = round(sum(timings.values()), 2)
    return timings


def tag_model_version(selected: str) -> None:
    """The ZenML model version says which model it holds: `finetuned` or `base-kept`."""
    from zenml import get_step_context
    from zenml.client import Client

    model = get_step_context().model
    if model is None:
        return
    version = model._get_or_create_model_version()
    Client().update_model_version(
        model_name_or_id=version.model.id,
        version_name_or_id=version.id,
        add_tags=["finetuned" if selected == "finetuned" else "base-kept"],
    )
