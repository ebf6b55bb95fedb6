"""Short forms of results.json: the JSON the CLI prints on stdout, and ZenML metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedtune.reporting.results_view import DimRow, ResultsView
from embedtune.results_schema import (
    DEPLOYMENT_FILE,
    PRIMARY_METRIC,
    read_comparison_entry,
)

BUILT_IN_DATA = "built-in demonstration data"


def _dim_entry(view: ResultsView, row: DimRow) -> dict[str, Any]:
    if not view.is_finetune:
        return {"dim": row.dim, "model": round(row.score, 4)}
    entry: dict[str, Any] = {
        "dim": row.dim,
        "base": round(row.base or 0.0, 4),
        "finetuned": round(row.score, 4),
        "gain": round(row.gain or 0.0, 4),
    }
    if row.low is not None:
        entry["interval"] = [round(row.low, 4), round(row.high or 0.0, 4)]
    if row.outcome is not None:
        entry["verdict"] = row.outcome
    return entry


def cli_summary(results: dict[str, Any]) -> dict[str, Any]:
    """What `embedtune finetune|evaluate` prints on stdout (one JSON object).

    Per dim: base, finetuned, gain, 95% interval and verdict (win/loss/tie) for a finetune run,
    the model's score for an evaluate run; the selected model, the verdict sentence, the
    baseline verdict (vs BM25), the recommended deployment cell, the protocol and the output
    paths.
    """
    view = ResultsView(results)
    summary: dict[str, Any] = {
        "kind": view.kind,
        view.model_role.replace(" ", "_"): view.model_name,
    }
    if view.is_finetune:
        summary["selected_model"] = view.selected
        summary["verdict"] = view.verdict_message
        if view.verdict:
            summary["improved_on_validation"] = view.verdict["improved_on_validation"]
    summary["data_source"] = view.data_source or BUILT_IN_DATA
    if view.protocol:
        summary["protocol"] = dict(view.protocol)
    summary["metric"] = PRIMARY_METRIC
    summary["dims"] = [_dim_entry(view, row) for row in view.rows()]
    baselines = results.get("baselines")
    if baselines:
        summary["baseline_verdict"] = baselines["verdict"]["message"]
    summary["outputs"] = view.output_paths()
    deployment = results.get("deployment")
    if deployment:
        summary["deployment"] = deployment["recommended"]
        if "results" in summary["outputs"]:
            folder = Path(summary["outputs"]["results"]).parent
            summary["outputs"]["deployment"] = str(folder / DEPLOYMENT_FILE)
    summary.update(_guard_merge_export(results))
    if results.get("timings"):  # where the run's time went, seconds per phase
        summary["timings"] = results["timings"]
    if results.get("sequence_length"):
        summary["max_seq_length"] = results["sequence_length"]["max_seq_length"]
    if view.hub_repo:
        summary["hub_repo"] = view.hub_repo
    return summary


def _guard_merge_export(results: dict[str, Any]) -> dict[str, Any]:
    """The guard's change at its best_dim, the merge's base weight, the export's outcome."""
    extra: dict[str, Any] = {}
    guard = results.get("guard")
    if guard:
        dim = str(guard["best_dim"])
        delta, low, high, _ = read_comparison_entry(guard["comparison"][dim])
        extra["guard"] = {
            "source": guard["source"],
            "dim": guard["best_dim"],
            "change": round(delta, 4),
            "interval": [round(low, 4), round(high, 4)],
            "within_tolerance": guard["within_tolerance"],
        }
    merge = results.get("merge")
    if merge:
        extra["merge"] = {"base_weight": merge["base_weight"], "mode": merge["mode"]}
    export = results.get("export")
    if export:
        extra["export"] = {
            "name": export["name"],
            "path": export["path"],
            "largest_drop": export["largest_drop"],
            "warnings": export["warnings"],
        }
    return extra


def metadata_summary(results: dict[str, Any]) -> dict[str, Any]:
    """ZenML run/model metadata: the verdict, protocol and per-dim scores, no None values."""
    view = ResultsView(results)
    metadata: dict[str, Any] = {
        "schema_version": results.get("schema_version"),
        "kind": view.kind,
        view.model_role.replace(" ", "_"): view.model_name,
        "metric": PRIMARY_METRIC,
        "selected_model": view.selected,
        "verdict": view.verdict_message or None,
        "split": view.split,
        "test_queries": view.test_queries,
        "corpus": view.corpus,
        "dims": {str(row.dim): _dim_entry(view, row) for row in view.rows()},
    }
    if view.verdict:
        metadata["improved_on_validation"] = view.verdict["improved_on_validation"]
        metadata["tests"] = view.outcome_counts()
    if results.get("baselines"):
        metadata["baseline_verdict"] = results["baselines"]["verdict"]["message"]
    if results.get("deployment"):
        metadata["deployment_recommended"] = results["deployment"]["recommended"]
    return {key: value for key, value in metadata.items() if value is not None}
