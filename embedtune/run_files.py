"""A run's files: the model folder, results.json, the chart, the report and the per-query
scores, written into a staging folder (embedtune/run_outputs.py swaps them in together), and
the clean-up of an earlier run's files that this run's results.json does not describe."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformer

from embedtune.config import EXPORTS, FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.io import write_dir_atomic, write_json_atomic
from embedtune.reporting.chart import plot_evaluation
from embedtune.reporting.html_report import write_html_report
from embedtune.reporting.model_card import write_model_card
from embedtune.reporting.per_query import per_query_file, per_query_view
from embedtune.reporting.results import write_results
from embedtune.results_schema import DEPLOYMENT_FILE, MODEL_DIR
from embedtune.run_outputs import StagedOutputs
from embedtune.training.lora import publish_adapter

logger = logging.getLogger(__name__)


def save_model_folder(model: SentenceTransformer, path: str | Path) -> Path:
    """safetensors + the Sentence Transformers model card, swapped into place atomically."""
    return write_dir_atomic(
        path, lambda tmp: model.save_pretrained(str(tmp), safe_serialization=True)
    )


def write_chart_and_results(output: str | Path, results: dict[str, Any]) -> tuple[Path, Path]:
    """evaluation.png, then results.json: results.json, written last, marks a finished run."""
    output = Path(output)
    chart = plot_evaluation(results, output / "evaluation.png")
    return write_results(output / "results.json", results), chart


def write_per_query(output: str | Path, table: dict[str, Any]) -> Path:
    """OUTPUT/per_query.json: every model's per-query scores and the texts, from which
    `embedtune.evaluation.bootstrap.compare_tables` recomputes the comparison."""
    path = Path(output) / "per_query.json"
    write_json_atomic(path, table)
    return path


def write_html(output: str | Path, results: dict[str, Any]) -> Path:
    """OUTPUT/report.html: chart, base vs finetuned table with intervals, data, training."""
    return write_html_report(results, Path(output) / "report.html")


def write_outputs(
    output: str | Path,
    results: dict[str, Any],
    evaluations: dict[str, RetrievalEvaluation],
    data: RetrievalData,
) -> None:
    """per_query.json, report.html, evaluation.png, then results.json (last: marks a finished
    run); adds the per-query view (counts, worst and best queries) to `results`."""
    table = per_query_file(evaluations, data)
    results["per_query"] = per_query_view(table)
    write_per_query(output, table)
    model_dir = Path(output) / "model"
    if results.get("kind") == "finetune" and model_dir.is_dir():
        write_model_card(model_dir, results)
    write_html(output, results)
    write_chart_and_results(output, results)


def drop_stale_deployment(output: str | Path, results: dict[str, Any]) -> None:
    """After the swap: a deployment.json an earlier run left, which this run's results.json
    does not describe, is removed (the swap only replaces the files a run writes)."""
    stale = Path(output) / DEPLOYMENT_FILE
    if "deployment" not in results and stale.is_file():
        stale.unlink()
        logger.info("Removed the earlier run's %s (this run has no deployment matrix)", stale)
    _drop_stale_exports(Path(output), (results.get("export") or {}).get("name"))


def _drop_stale_exports(output: Path, kept: str | None) -> None:
    """OUTPUT/model-<format> folders of an earlier run's --export (recognised by their export
    record) that this run's results.json does not describe: their model is not this run's."""
    from embedtune.results_schema import EXPORT_RECORD

    for name in EXPORTS:
        folder = output / f"{MODEL_DIR}-{name}"
        if name != kept and (folder / EXPORT_RECORD).is_file():
            shutil.rmtree(folder)
            logger.info("Removed the earlier run's %s (not this run's model)", folder)


def publish_model(
    model: SentenceTransformer, config: FinetuneConfig, folder: str | Path | None = None
) -> dict[str, Any]:
    """Save the model into `folder` (default OUTPUT; a staging folder while a run builds its
    outputs); returns what results.json records about it."""
    model_dir = save_model_folder(model, Path(folder or config.output) / "model")
    published = {"model_path": str(Path(config.output) / "model")}
    if adapter := publish_adapter(config, model_dir):  # LoRA: MODEL/adapter, the unmerged one
        published["adapter_path"] = adapter
    return published


def push_if_asked(config: FinetuneConfig, folder: str | Path, results: dict[str, Any]) -> None:
    """Push FOLDER/model (with its model card) when --push-to-hub was given; results.json
    records the outcome. A failed push leaves the local run successful."""
    if not config.push_to_hub:
        return
    from embedtune.hub import push_model

    results["push_to_hub"] = push_model(Path(folder) / "model", config.push_to_hub)
    write_chart_and_results(folder, results)


def write_run(
    staged: StagedOutputs,
    config: FinetuneConfig,
    results: dict[str, Any],
    evaluations: dict[str, RetrievalEvaluation],
    data: RetrievalData,
) -> list[str]:
    """The write stage of every run (CLI finetune and evaluate, the pipeline's last step): the
    files into staging, the Hub push when asked, then all swapped into OUTPUT together and the
    earlier run's files this run does not describe removed. Returns what was replaced."""
    write_outputs(staged.staging, results, evaluations, data)
    push_if_asked(config, staged.staging, results)
    replaced = staged.commit()
    drop_stale_deployment(config.output, results)
    return replaced
