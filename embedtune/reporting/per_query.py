"""Per-query results: OUTPUT/per_query.json with the texts, and the summary the report shows.

`per_query_file` is the per-query score table (embedtune.evaluation.bootstrap.per_query_table)
plus the test queries' texts, their relevant document ids and those documents' texts, so a
regression can be read without the data at hand. `per_query_view` condenses it for results.json
("per_query"): per dim, how many queries the finetuned model improved, left unchanged or made
worse, and the largest regressions and gains with their query and expected document.
"""

from __future__ import annotations

from typing import Any

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.bootstrap import per_query_table
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.results_schema import (
    BASE,
    FINETUNED,
    MODEL,
    PRIMARY_METRIC,
    PerQueryDim,
    PerQueryView,
    QueryExample,
)

UNCHANGED_TOLERANCE = 1e-9  # per-query differences below this count as unchanged
EXAMPLES = 5  # regressions and gains shown per dim
MAX_CHARS = 300  # texts are clipped to this in results.json (per_query.json keeps them whole)


def per_query_file(
    evaluations: dict[str, RetrievalEvaluation], data: RetrievalData
) -> dict[str, Any]:
    """The content of OUTPUT/per_query.json: scores per query and model, and the texts."""
    table = per_query_table(evaluations)
    query_ids = table["query_ids"]
    relevant = {q: sorted(data.relevant.get(q, ())) for q in query_ids}
    documents = sorted({d for docs in relevant.values() for d in docs if d in data.corpus})
    return {
        **table,
        "queries": {q: data.queries[q] for q in query_ids},
        "relevant": relevant,
        "documents": {d: data.corpus[d] for d in documents},
    }


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _example(
    table: dict[str, Any], index: int, score: float, reference: float | None, limit: int
) -> QueryExample:
    query_id = table["query_ids"][index]
    documents = table.get("documents", {})
    return {
        "query_id": query_id,
        "query": _clip(table.get("queries", {}).get(query_id, ""), limit),
        "expected": [
            _clip(documents[d], limit)
            for d in table.get("relevant", {}).get(query_id, [])
            if d in documents
        ],
        "score": round(score, 6),
        "reference_score": None if reference is None else round(reference, 6),
        "delta": None if reference is None else round(score - reference, 6),
    }


def _compare_dim(
    table: dict[str, Any], scores: list[float], reference: list[float], top: int, limit: int
) -> PerQueryDim:
    deltas = [s - r for s, r in zip(scores, reference)]
    order = sorted(range(len(deltas)), key=lambda i: (deltas[i], table["query_ids"][i]))
    worse = [i for i in order if deltas[i] < -UNCHANGED_TOLERANCE]
    better = [i for i in reversed(order) if deltas[i] > UNCHANGED_TOLERANCE]
    return {
        "improved": len(better),
        "unchanged": len(deltas) - len(better) - len(worse),
        "worse": len(worse),
        "worst": [_example(table, i, scores[i], reference[i], limit) for i in worse[:top]],
        "best": [_example(table, i, scores[i], reference[i], limit) for i in better[:top]],
    }


def _single_dim(table: dict[str, Any], scores: list[float], top: int, limit: int) -> PerQueryDim:
    order = sorted(range(len(scores)), key=lambda i: (scores[i], table["query_ids"][i]))
    return {
        "worst": [_example(table, i, scores[i], None, limit) for i in order[:top]],
        "best": [_example(table, i, scores[i], None, limit) for i in reversed(order[-top:])],
    }


def per_query_view(
    table: dict[str, Any],
    *,
    metric: str = PRIMARY_METRIC,
    top: int = EXAMPLES,
    max_chars: int = MAX_CHARS,
) -> PerQueryView:
    """results.json "per_query" from a per-query table (with texts, see `per_query_file`).

    With base and finetuned: counts of improved/unchanged/worse queries per dim and the largest
    regressions and gains. With one model: its lowest- and highest-scoring queries.
    """
    models = table["models"]
    pair = BASE in models and FINETUNED in models
    candidate = FINETUNED if pair else (MODEL if MODEL in models else next(iter(models)))
    dims: dict[str, PerQueryDim] = {}
    for dim in table["dims"]:
        scores = models[candidate][str(dim)][metric]
        if pair:
            reference = models[BASE][str(dim)][metric]
            dims[str(dim)] = _compare_dim(table, scores, reference, top, max_chars)
        else:
            dims[str(dim)] = _single_dim(table, scores, top, max_chars)
    return {
        "metric": metric,
        "candidate": candidate,
        "reference": BASE if pair else None,
        "dims": dims,
    }
