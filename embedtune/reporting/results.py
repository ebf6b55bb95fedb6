"""results.json: base vs finetuned metrics per dimension, plus data, training and hardware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.io import write_json_atomic


def build_results(
    *,
    dims: list[int],
    evaluations: dict[str, RetrievalEvaluation],
    data: dict[str, int],
    training: dict[str, Any] | None,
    hardware: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`evaluations` maps a model label ("base", "finetuned", or "model") to its evaluation."""
    results: dict[str, Any] = {"dims": list(dims)}
    for label, evaluation in evaluations.items():
        results[label] = evaluation.metrics()
    results["data"] = data
    if training is not None:
        results["training"] = training
    results["hardware"] = hardware
    if extra:
        results.update(extra)
    return results


def write_results(path: str | Path, results: dict[str, Any]) -> Path:
    write_json_atomic(path, results)
    return Path(path)
