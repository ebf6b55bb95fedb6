"""Ranked document ids -> the evaluator's per-query metrics, for retrievers that are not the
dense evaluator (BM25, fusion, quantized indexes), so every number is computed the same way."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.metrics import MAX_K, mean_metrics, query_metrics
from embedtune.evaluation.retrieval import DimensionResult, RetrievalEvaluation

# re-exported: the evaluator defines which queries are scored
from embedtune.evaluation.retrieval import evaluated_query_ids as evaluated_query_ids

NO_DIM = 0  # the dim key of a retriever without embeddings (BM25), unless dims are given


def id_ranks(corpus_ids: Sequence[str]) -> np.ndarray:
    """Rank of each corpus id in sorted order: ties are broken by ascending id, as the evaluator."""
    return np.argsort(np.argsort(np.array(corpus_ids, dtype=object)))


def top_k_indices(scores: np.ndarray, k: int, id_rank: np.ndarray) -> np.ndarray:
    """Indices of the k highest finite scores, best first, ties by ascending document id."""
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size == 0:
        return finite
    k = min(k, finite.size)
    row = scores[finite]
    cut = np.partition(row, row.size - k)[row.size - k]
    candidates = finite[row >= cut]  # every tie at the cut-off
    order = np.lexsort((id_rank[candidates], -scores[candidates]))[:k]
    return candidates[order]


def evaluation_from_rankings(
    data: RetrievalData,
    query_ids: Sequence[str],
    rankings: dict[int, Sequence[Sequence[str]]],
    seconds: float,
) -> RetrievalEvaluation:
    """A RetrievalEvaluation from ranked ids per dim ({dim: one ranking per query id})."""
    by_dim: dict[int, DimensionResult] = {}
    for dim, ranked in rankings.items():
        if len(ranked) != len(query_ids):
            raise ValueError(f"dim {dim}: {len(ranked)} rankings for {len(query_ids)} queries")
        per_query = {
            qid: query_metrics(list(ranking[:MAX_K]), data.relevant[qid])
            for qid, ranking in zip(query_ids, ranked)
        }
        by_dim[dim] = DimensionResult(mean_metrics(list(per_query.values())), per_query)
    return RetrievalEvaluation(list(rankings), by_dim, seconds)


def same_at_dims(evaluation: RetrievalEvaluation, dims: Sequence[int]) -> RetrievalEvaluation:
    """A dim-free evaluation (BM25) repeated under `dims`, to line up with a dense evaluation in
    per_query_table / compare_tables."""
    (only,) = evaluation.by_dim.values()
    return RetrievalEvaluation(list(dims), {d: only for d in dims}, evaluation.seconds)


class Timer:
    """`with Timer() as t: ...; t.seconds`"""

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self._start
