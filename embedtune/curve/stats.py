"""The numbers of a learning curve: each point's nDCG@10 with its interval, each step's gain
with its paired interval, and the verdict of the last step.

Every point is scored on the same test queries, so a step's gain is a paired comparison
(embedtune.evaluation.bootstrap.paired_bootstrap over the per-query differences). A point's own
interval is the same percentile bootstrap of its mean score (paired against zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from embedtune.curve.fractions import fraction_label
from embedtune.curve.schema import HELPS, HURTS, SATURATED, UNCLEAR
from embedtune.evaluation.bootstrap import paired_bootstrap
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.results_schema import PRIMARY_METRIC, read_comparison_entry

# "saturated" claims that the next step of data adds little: the interval of the last step's
# gain must exclude a gain this large. A non-significant step whose interval still allows it
# is "unclear" (too few test queries to tell).
SATURATION_BOUND = 0.02


def per_query_scores(
    evaluation: RetrievalEvaluation, dim: int, metric: str = PRIMARY_METRIC
) -> np.ndarray:
    """The metric per test query (sorted by query id, so two evaluations pair up)."""
    per_query = evaluation.by_dim[dim].per_query
    return np.array([per_query[q][metric] for q in sorted(per_query)], dtype=np.float64)


def point_scores(
    evaluation: RetrievalEvaluation, dims: Sequence[int], metric: str = PRIMARY_METRIC
) -> dict[str, dict[str, Any]]:
    """{"<dim>": {"value": mean, "interval": [low, high]}}: the 95% bootstrap interval of the
    mean over the test queries."""
    scores = {}
    for dim in dims:
        values = per_query_scores(evaluation, dim, metric)
        interval = paired_bootstrap(np.zeros_like(values), values)
        scores[str(dim)] = {
            "value": round(float(values.mean()), 6),
            "interval": [round(interval.low, 6), round(interval.high, 6)],
        }
    return scores


def step_gain(
    before: RetrievalEvaluation,
    after: RetrievalEvaluation,
    dims: Sequence[int],
    metric: str = PRIMARY_METRIC,
) -> dict[str, Any]:
    """{"<dim>": comparison entry}: the paired-bootstrap gain of `after` over `before`."""
    gains = {}
    for dim in dims:
        earlier, later = per_query_scores(before, dim, metric), per_query_scores(after, dim, metric)
        if earlier.shape != later.shape:
            raise ValueError("the curve's points were scored on different test queries")
        gains[str(dim)] = paired_bootstrap(earlier, later).as_dict(metric)
    return gains


def step_outcome(low: float, high: float) -> str:
    if low > 0:
        return HELPS
    if high < 0:
        return HURTS
    return SATURATED if high < SATURATION_BOUND else UNCLEAR


def point_label(point: dict[str, Any]) -> str:
    if point["pairs"] == 0:
        return "the base model (0 pairs)"
    return fraction_label(point["fraction"])


def verdicts(
    points: Sequence[dict[str, Any]], steps: Sequence[dict[str, Any]], dims: Sequence[int]
) -> dict[str, dict[str, str]]:
    """{"<dim>": {"outcome", "message"}} from the LAST step's gain and interval, e.g.
    "more data still helps at 64 dims: +0.030 [+0.010, +0.050] from 50% to 100% (108 -> 216
    pairs)"."""
    last, (earlier, later) = steps[-1], points[-2:]
    span = (
        f"from {point_label(earlier)} to {point_label(later)} "
        f"({earlier['pairs']} -> {later['pairs']} pairs)"
    )
    phrases = {
        HELPS: "more data still helps at {dim} dims",
        SATURATED: "saturated at {dim} dims",
        UNCLEAR: "no significant gain at {dim} dims, but the interval still allows one",
        HURTS: "more data hurt at {dim} dims",
    }
    if earlier["pairs"] == 0:  # one fraction: the only step is finetuning itself
        phrases[SATURATED] = "no gain over the base model at {dim} dims"
    result = {}
    for dim in dims:
        delta, low, high, _ = read_comparison_entry(last["gain"][str(dim)])
        outcome = step_outcome(low, high)
        numbers = f"{delta:+.3f} [{low:+.3f}, {high:+.3f}]"
        result[str(dim)] = {
            "outcome": outcome,
            "message": f"{phrases[outcome].format(dim=dim)}: {numbers} {span}",
        }
    return result
