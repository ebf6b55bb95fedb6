"""Steps: save (and push) the model, then write results.json, the chart and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import log_metadata, step

from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.materializers.report_materializer import EvaluationReport
from embedtune.training.config import FinetuneConfig
from embedtune.workflow import finetune_results, publish_model, write_report


def _report_html(results: dict[str, Any], chart_path: Path) -> str:
    try:
        from embedtune.reporting.html_report import render_html_report
    except ImportError:  # the full report lands with the significance work
        import base64

        chart = base64.b64encode(Path(chart_path).read_bytes()).decode()
        return f'<html><body><img src="data:image/png;base64,{chart}"></body></html>'
    return render_html_report(results)


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
    before = RetrievalEvaluation.from_dict(base_evaluation)
    after = RetrievalEvaluation.from_dict(finetuned_evaluation)
    data_summary = {
        "train_pairs": len(train_pairs),
        "test_queries": len(test_set["queries"]),
        "corpus": len(test_set["corpus"]),
        **test_set.get("report", {}),
    }
    results = finetune_results(
        settings,
        dims=before.dims,
        before=before,
        after=after,
        data_summary=data_summary,
        training=training_summary,
        extra=published_model,
    )
    results_path, chart_path = write_report(settings.output, results)
    log_metadata(
        metadata={"results": {k: results[k] for k in ("base", "finetuned", "data")}},
        infer_model=True,
    )
    return EvaluationReport(
        results, Path(chart_path).read_bytes(), _report_html(results, chart_path)
    )
