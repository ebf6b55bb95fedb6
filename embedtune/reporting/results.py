"""results.json: build the dict of a run and write it (its structure: results_schema.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.io import write_json_atomic
from embedtune.results_schema import (
    EVALUATE,
    FINETUNE,
    MODEL,
    SCHEMA_VERSION,
    validate_results,
)


def build_results(
    *,
    dims: list[int],
    evaluations: dict[str, RetrievalEvaluation],
    data: dict[str, Any],
    training: dict[str, Any] | None,
    hardware: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`evaluations` maps a model label ("base", "finetuned", or "model") to its evaluation.

    schema_version and kind are set here (kind: "evaluate" for one "model", else "finetune");
    `extra` adds the other blocks (protocol, selection, verdict, provenance, ...).
    """
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": EVALUATE if MODEL in evaluations else FINETUNE,
        "dims": list(dims),
    }
    for label, evaluation in evaluations.items():
        results[label] = evaluation.metrics()
    results["data"] = data
    if training is not None:
        results["training"] = training
    results["hardware"] = hardware
    if extra:
        results.update(extra)
    return results


def write_results(path: str | Path, results: dict[str, Any], *, validate: bool = True) -> Path:
    """Validate against the schema (a ResultsError names the bad key), then write atomically."""
    if validate:
        validate_results(results, source=str(path))
    write_json_atomic(path, results)
    return Path(path)
