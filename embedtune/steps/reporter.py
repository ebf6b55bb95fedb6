"""Steps: save (and push) the model, then write results.json, the chart and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import log_metadata, step

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.materializers.report_materializer import EvaluationReport
from embedtune.reporting.html_report import render_html_report
from embedtune.reporting.provenance import provenance
from embedtune.config import FinetuneConfig
from embedtune.workflow import finetune_results, publish_model, write_outputs


@step
def save_model(
    model: SentenceTransformer, config: dict[str, Any]
) -> Annotated[dict, "published_model"]:
    return publish_model(model, FinetuneConfig(**config))


@step
def visualize_evaluation(
    base_evaluation: dict,
    finetuned_evaluation: dict,
    training_summary: dict,
    test_set: dict,
    train_pairs: Dataset,
    published_model: dict,
    config: dict[str, Any],
) -> Annotated[EvaluationReport, "evaluation_report"]:
    settings = FinetuneConfig(**config)
    data = RetrievalData.from_parts(train_pairs, test_set)
    evaluations = {
        "base": RetrievalEvaluation.from_dict(base_evaluation),
        "finetuned": RetrievalEvaluation.from_dict(finetuned_evaluation),
    }
    results = finetune_results(
        settings,
        dims=evaluations["base"].dims,
        before=evaluations["base"],
        after=evaluations["finetuned"],
        data_summary=data.summary(),
        training=training_summary,
        extra={**published_model, "provenance": provenance(seed=settings.seed, data=data)},
    )
    write_outputs(settings.output, results, evaluations)
    log_metadata(
        metadata={"results": {k: results[k] for k in ("base", "finetuned", "comparison", "data")}},
        infer_model=True,
    )
    chart = (Path(settings.output) / "evaluation.png").read_bytes()
    return EvaluationReport(results, chart, render_html_report(results))
