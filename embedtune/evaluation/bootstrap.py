"""Is the finetuned model's win real? A paired bootstrap over the test queries.

Both models answer the same test queries, so the question is about the per-query differences
(finetuned - base). Resampling queries with replacement (2,000 times, seeded) gives the spread of
the mean difference; its 2.5th and 97.5th percentiles are the 95% interval. An interval entirely
above zero is a significant win, entirely below a significant loss.

The per-query scores themselves go to OUTPUT/per_query.json (`per_query_table`), and
`compare_tables` recomputes the comparison from that file alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from embedtune.evaluation.metrics import METRIC_NAMES
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.results_schema import (
    LOSS,
    PRIMARY_METRIC,
    WIN,
    ComparisonEntry,
    comparison_entry,
    outcome,
    read_comparison_entry,
)

RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0
_CHUNK = 500  # resamples per vectorised batch: bounded memory for large query sets


@dataclass
class BootstrapInterval:
    delta: float  # mean of (finetuned - base) over the queries
    low: float
    high: float
    confidence: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self, metric: str = PRIMARY_METRIC) -> ComparisonEntry:
        """The results.json "comparison" entry (its keys are defined in results_schema)."""
        if round(self.confidence, 6) != CONFIDENCE:
            raise ValueError(
                f"results.json records {CONFIDENCE:.0%} intervals, this one is {self.confidence:.0%}"
            )
        return comparison_entry(self.delta, self.low, self.high, metric=metric)


def paired_bootstrap(
    base: np.ndarray | list[float],
    finetuned: np.ndarray | list[float],
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> BootstrapInterval:
    """Percentile interval of mean(finetuned - base) over queries resampled with replacement."""
    base_scores = np.asarray(base, dtype=np.float64)
    tuned_scores = np.asarray(finetuned, dtype=np.float64)
    if base_scores.shape != tuned_scores.shape or base_scores.ndim != 1:
        raise ValueError(
            f"paired scores must be two 1-D arrays of equal length, got shapes "
            f"{base_scores.shape} and {tuned_scores.shape}"
        )
    if base_scores.size == 0:
        raise ValueError("no queries to bootstrap")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError("resamples must be >= 1 and confidence in (0, 1)")
    diff = tuned_scores - base_scores
    n = diff.size
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):
        stop = min(start + _CHUNK, resamples)
        means[start:stop] = diff[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return BootstrapInterval(float(diff.mean()), float(low), float(high), confidence)


def per_query_table(evaluations: dict[str, RetrievalEvaluation]) -> dict[str, Any]:
    """Every model's per-query metrics as columns: the content of OUTPUT/per_query.json.

    {"dims": [..], "metrics": [..], "query_ids": [..],
     "models": {"base": {"<dim>": {"ndcg@10": [one value per query id], ..}}, "finetuned": ..}}
    """
    first = next(iter(evaluations.values()))
    dims = list(first.dims)
    query_ids = sorted(first.by_dim[dims[0]].per_query)
    models: dict[str, Any] = {}
    for label, evaluation in evaluations.items():
        if list(evaluation.dims) != dims:
            raise ValueError(f"{label}: dims {evaluation.dims} differ from {dims}")
        models[label] = {}
        for dim in dims:
            per_query = evaluation.by_dim[dim].per_query
            if sorted(per_query) != query_ids:
                raise ValueError(f"{label}: the test queries differ between models")
            models[label][str(dim)] = {
                metric: [round(per_query[q][metric], 6) for q in query_ids]
                for metric in METRIC_NAMES
            }
    return {"dims": dims, "metrics": list(METRIC_NAMES), "query_ids": query_ids, "models": models}


def compare_tables(
    table: dict[str, Any],
    *,
    base: str = "base",
    candidate: str = "finetuned",
    metric: str = PRIMARY_METRIC,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> dict[str, ComparisonEntry]:
    """The results.json "comparison" block ({"<dim>": entry}) from a per-query table."""
    comparison = {}
    for dim in table["dims"]:
        interval = paired_bootstrap(
            table["models"][base][str(dim)][metric],
            table["models"][candidate][str(dim)][metric],
            resamples=resamples,
            confidence=confidence,
            seed=seed,
        )
        comparison[str(dim)] = interval.as_dict(metric)
    return comparison


def describe_comparison(
    comparison: dict[str, ComparisonEntry], metric: str = PRIMARY_METRIC
) -> str:
    """One line per dimension, e.g. `384 dims: ndcg@10 +0.041 [+0.027, +0.056] significant win`."""
    words = {WIN: "significant win", LOSS: "significant loss"}
    lines = []
    for dim, entry in comparison.items():
        delta, low, high, significant = read_comparison_entry(entry, metric)
        verdict = words.get(outcome(delta, significant), "not significant (interval includes 0)")
        lines.append(f"{dim} dims: {metric} {delta:+.4f} [{low:+.4f}, {high:+.4f}] {verdict}")
    return "\n".join(lines)
