"""A run's results.json content, assembled from its stages' outputs: the comparison with its
intervals, the verdict, the data block, the baselines and the deployment matrix (the same
assembly for the CLI run and the ZenML pipeline)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.bootstrap import compare_tables, describe_comparison, per_query_table
from embedtune.evaluation.retrieval import EncodedTask, RetrievalEvaluation
from embedtune.evaluation.verdict import verdict_block
from embedtune.hardware import describe_hardware
from embedtune.reporting.provenance import provenance
from embedtune.reporting.results import build_results
from embedtune.search.report import results_search_block

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Comparisons:
    """The baselines stage's output: BM25 and the hybrid against the selected model (the
    results.json block and their per-query evaluations) and the deployment matrix (the content
    of deployment.json, timed on the machine that encoded). Plain data, so a ZenML step can
    hand it on (`to_dict` / `from_dict`)."""

    baselines: dict[str, Any] | None = None
    evaluations: dict[str, RetrievalEvaluation] = field(default_factory=dict)
    deployment: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "baselines": self.baselines,
            "evaluations": {k: v.to_dict() for k, v in self.evaluations.items()},
            "deployment": self.deployment,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparisons:
        evaluations = {
            k: RetrievalEvaluation.from_dict(v) for k, v in data.get("evaluations", {}).items()
        }
        return cls(data.get("baselines"), evaluations, data.get("deployment"))


def compare_with_baselines(
    config: FinetuneConfig,
    data: RetrievalData,
    evaluation: RetrievalEvaluation,
    encoded: EncodedTask | None,
    *,
    dense_label: str,
    model_name: str,
) -> Comparisons:
    """The baselines stage, as the config asks (the CLI run, the pipeline's step and
    `evaluate` all call it): BM25 and the hybrid against the `dense_label` model, and the
    deployment matrix, from `encoded`, that model's test encoding (None: nothing to compare)."""
    if encoded is None:
        return Comparisons()
    block, evaluations, deployment = None, {}, None
    if config.baselines:
        from embedtune.baselines.block import baselines_for_run

        block, evaluations = baselines_for_run(
            data,
            evaluation,
            encoded,
            dense_label=dense_label,
            verdict_dim=config.verdict_dim,
            ignore_identical_ids=config.ignore_identical_ids,
        )
    if config.deployment:
        from embedtune.deployment.matrix import matrix_from_encoded

        matrix = matrix_from_encoded(
            encoded, data, config.dims, ignore_identical_ids=config.ignore_identical_ids
        )
        deployment = {
            "model": dense_label,
            "model_name": model_name,
            "hardware": describe_hardware(),
            **matrix,
        }
    return Comparisons(block, evaluations, deployment)


def selected_model_name(config: FinetuneConfig, selected: str) -> str:
    """How reports name the model a run kept: "all-MiniLM-L6-v2 finetuned", or the base's."""
    return config.base_model_name + (" finetuned" if selected == "finetuned" else "")


def add_comparisons(
    results: dict[str, Any],
    evaluations: dict[str, RetrievalEvaluation],
    comparisons: Comparisons,
    folder: str | Path,
) -> None:
    """results["baselines"] and results["deployment"] (its summary; the matrix itself goes to
    FOLDER/deployment.json), and BM25's and the hybrid's per-query scores into `evaluations`."""
    if comparisons.baselines is not None:
        results["baselines"] = comparisons.baselines
    evaluations.update(comparisons.evaluations)
    if comparisons.deployment is not None:
        from embedtune.deployment.outputs import deployment_summary
        from embedtune.io import write_json_atomic
        from embedtune.results_schema import DEPLOYMENT_FILE

        write_json_atomic(Path(folder) / DEPLOYMENT_FILE, comparisons.deployment)
        results["deployment"] = deployment_summary(
            comparisons.deployment, model_label=comparisons.deployment["model"]
        )


def compare(before: RetrievalEvaluation, after: RetrievalEvaluation) -> dict[str, Any]:
    """Paired-bootstrap 95% interval of the nDCG@10 gain (finetuned - base) per dimension."""
    comparison = compare_tables(per_query_table({"base": before, "finetuned": after}))
    for line in describe_comparison(comparison).splitlines():
        logger.info("Finetuned vs base, %s", line)
    return comparison


def data_block(data: RetrievalData, config: FinetuneConfig) -> dict[str, Any]:
    """results.json "data": sizes and counts, where the data came from and how it was read."""
    source = config.data or "built-in Python documentation (offline queries)"
    return {**data.summary(), "source": source, "layout": data.layout or "unknown"}


def finetune_results(
    config: FinetuneConfig,
    *,
    before: RetrievalEvaluation,
    after: RetrievalEvaluation,
    data: RetrievalData,
    training: dict[str, Any],
    selection: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """results.json content of a finetuning run (shared by the CLI path and the ZenML pipeline)."""
    comparison = compare(before, after)
    verdict = verdict_block(selection, comparison)
    log = logger.warning if verdict["selected"] == "base" else logger.info
    log("Verdict: %s", verdict["message"])
    return build_results(
        dims=config.dims,
        evaluations={"base": before, "finetuned": after},
        data=data_block(data, config),
        training={**config.public_dict(), **training},
        hardware=describe_hardware(),
        extra={
            "base_model": config.base_model,
            "base_model_name": config.base_model_name,
            "comparison": comparison,
            "protocol": {**data.protocol, "ignore_identical_ids": config.ignore_identical_ids},
            "selection": selection,
            "verdict": verdict,
            "provenance": provenance(seed=config.seed, data=data),
            "output_dir": str(config.output),
            **results_search_block({"base": before.search, "finetuned": after.search}),
            **(extra or {}),
        },
    )
