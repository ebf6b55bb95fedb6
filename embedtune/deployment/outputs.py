"""OUTPUT/deployment.json (the whole matrix) and its summary in results.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedtune.data.retrieval_data import RetrievalData
from embedtune.deployment.matrix import matrix_from_encoded
from embedtune.evaluation.retrieval import EncodedTask
from embedtune.hardware import describe_hardware
from embedtune.io import write_json_atomic
from embedtune.results_schema import DEPLOYMENT_FILE, DeploymentSummary


def deployment_summary(matrix: dict[str, Any], *, model_label: str) -> DeploymentSummary:
    """results.json "deployment": the recommended and best cells, the rule, where the rest is."""
    return {
        "file": DEPLOYMENT_FILE,
        "model": model_label,  # type: ignore[typeddict-item]
        "metric": matrix["metric"],
        "reference": dict(matrix["reference"]),
        "best": dict(matrix["best"]),  # type: ignore[typeddict-item]
        "recommended": dict(matrix["recommended"]),  # type: ignore[typeddict-item]
        "rule": matrix["rule"],
        "cells": len(matrix["cells"]),
    }


def write_deployment(
    folder: str | Path,
    encoded: EncodedTask,
    data: RetrievalData,
    dims: list[int],
    *,
    model_label: str,
    model_name: str,
    ignore_identical_ids: bool = False,
) -> DeploymentSummary:
    """Build the matrix from the run's encoding, write FOLDER/deployment.json (atomically) with
    the model and the machine it was timed on; return the summary for results.json."""
    matrix = matrix_from_encoded(encoded, data, dims, ignore_identical_ids=ignore_identical_ids)
    content = {
        "model": model_label,
        "model_name": model_name,
        "hardware": describe_hardware(),
        **matrix,
    }
    write_json_atomic(Path(folder) / DEPLOYMENT_FILE, content)
    return deployment_summary(matrix, model_label=model_label)
