"""Does the exported model still score what the report promised? Its nDCG@10 per dim on the same
test queries and corpus, next to the torch model's, with the paired-bootstrap interval of the
difference (exported - torch). A drop whose interval excludes 0 is a warning."""

from __future__ import annotations

import logging
from typing import Any

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.bootstrap import paired_bootstrap
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.results_schema import PRIMARY_METRIC, comparison_entry

logger = logging.getLogger(__name__)


def compare_to_torch(
    torch_evaluation: RetrievalEvaluation,
    exported: RetrievalEvaluation,
    *,
    name: str,
    metric: str = PRIMARY_METRIC,
) -> dict[str, Any]:
    """Scores side by side, the interval per dim and the warnings (significant drops)."""
    query_ids = sorted(torch_evaluation.by_dim[torch_evaluation.dims[0]].per_query)
    torch_scores, exported_scores, vs_torch, warnings = {}, {}, {}, []
    for dim in torch_evaluation.dims:
        before = torch_evaluation.by_dim[dim].per_query
        after = exported.by_dim[dim].per_query
        if sorted(after) != query_ids:
            raise ValueError(f"{name}: the exported model was scored on other test queries")
        interval = paired_bootstrap(
            [before[q][metric] for q in query_ids], [after[q][metric] for q in query_ids]
        )
        key = str(dim)
        torch_scores[key] = round(torch_evaluation.by_dim[dim].metrics[metric], 6)
        exported_scores[key] = round(exported.by_dim[dim].metrics[metric], 6)
        vs_torch[key] = dict(comparison_entry(interval.delta, interval.low, interval.high))
        if interval.high < 0:
            warnings.append(
                f"{name} loses {metric} at {dim} dims: {interval.delta:+.4f} "
                f"[{interval.low:+.4f}, {interval.high:+.4f}] against the torch model "
                "(the 95% interval excludes 0)"
            )
    for message in warnings:
        logger.warning("Export: %s", message)
    worst = min(entry[f"{metric}_delta"] for entry in vs_torch.values())
    return {
        "metric": metric,
        "torch": torch_scores,
        "exported": exported_scores,
        "vs_torch": vs_torch,
        "largest_drop": round(max(0.0, -worst), 6),
        "warnings": warnings,
    }


def evaluate_exported(
    encoder: Any, data: RetrievalData, evaluator: RetrievalEvaluator
) -> RetrievalEvaluation:
    """The run's evaluator, with the exported encoder in place of the torch model."""
    return evaluator.evaluate(encoder, data, show_progress_bar=True)
