"""Per-query retrieval metrics with the same definitions as Sentence Transformers'
InformationRetrievalEvaluator (binary relevance; MAP@k divides by min(k, #relevant))."""

from __future__ import annotations

import math
from collections.abc import Sequence

NDCG_K, MRR_K, MAP_K = 10, 10, 100
RECALL_KS = (1, 5, 10, 100)
METRIC_NAMES = (
    f"ndcg@{NDCG_K}",
    f"mrr@{MRR_K}",
    f"map@{MAP_K}",
    *(f"recall@{k}" for k in RECALL_KS),
)
MAX_K = max(NDCG_K, MRR_K, MAP_K, *RECALL_KS)


def _dcg(relevances: Sequence[int], k: int) -> float:
    return sum(rel / math.log2(i + 2) for i, rel in enumerate(relevances[:k]))


def query_metrics(ranked: Sequence[str], relevant: set[str]) -> dict[str, float]:
    """Metrics of one query from its ranked document ids (best first, at least MAX_K if possible)."""
    hits = [1 if doc in relevant else 0 for doc in ranked[:MAX_K]]
    ideal = _dcg([1] * len(relevant), NDCG_K)
    mrr = next((1.0 / (i + 1) for i, h in enumerate(hits[:MRR_K]) if h), 0.0)
    found, precision_sum = 0, 0.0
    for i, h in enumerate(hits[:MAP_K]):
        if h:
            found += 1
            precision_sum += found / (i + 1)
    scores = {
        f"ndcg@{NDCG_K}": _dcg(hits, NDCG_K) / ideal if ideal else 0.0,
        f"mrr@{MRR_K}": mrr,
        f"map@{MAP_K}": precision_sum / min(MAP_K, len(relevant)) if relevant else 0.0,
    }
    for k in RECALL_KS:
        scores[f"recall@{k}"] = sum(hits[:k]) / len(relevant) if relevant else 0.0
    return scores


def mean_metrics(per_query: Sequence[dict[str, float]]) -> dict[str, float]:
    if not per_query:
        return {name: 0.0 for name in METRIC_NAMES}
    return {name: sum(q[name] for q in per_query) / len(per_query) for name in METRIC_NAMES}
