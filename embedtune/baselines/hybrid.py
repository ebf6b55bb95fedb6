"""Hybrid retrieval: BM25 and the dense model fused by reciprocal rank fusion (RRF).

score(doc) = sum over the two rankings of 1 / (k + rank), rank starting at 1, k = 60 (Cormack et
al. 2009); a document missing from one ranking gets nothing from it. Each ranking is cut at
`depth` (MAX_K = 100 by default); ties are broken by ascending document id, as the evaluator does.
"""

from __future__ import annotations

from collections.abc import Sequence

from embedtune.baselines.rankings import Timer, evaluation_from_rankings
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.metrics import MAX_K
from embedtune.evaluation.retrieval import RetrievalEvaluation

RRF_K = 60


def reciprocal_rank_fusion(
    *rankings: Sequence[str], k: int = RRF_K, depth: int = MAX_K, top_k: int = MAX_K
) -> list[str]:
    """One query's fused ranking of several ranked id lists (best first)."""
    if k < 0:
        raise ValueError(f"RRF k must be >= 0, got {k}")
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking[:depth], start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda doc_id: (-scores[doc_id], doc_id))[:top_k]


def evaluate_hybrid(
    data: RetrievalData,
    query_ids: Sequence[str],
    sparse: Sequence[Sequence[str]],
    dense_by_dim: dict[int, Sequence[Sequence[str]]],
    *,
    k: int = RRF_K,
    depth: int = MAX_K,
) -> tuple[RetrievalEvaluation, dict[int, list[list[str]]]]:
    """RRF of the sparse rankings with the dense rankings at each dim (all in query_ids order).

    Returns the evaluation (one entry per dense dim) and the fused rankings.
    """
    with Timer() as timer:
        fused = {
            dim: [
                reciprocal_rank_fusion(s, d, k=k, depth=depth)
                for s, d in zip(sparse, dense, strict=True)
            ]
            for dim, dense in dense_by_dim.items()
        }
    return evaluation_from_rankings(data, query_ids, fused, timer.seconds), fused
