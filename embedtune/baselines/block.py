"""The results.json "baselines" block: BM25 and hybrid (BM25 + dense, RRF) on the test queries,
with paired-bootstrap intervals against the dense model and a plain verdict."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sentence_transformers import SentenceTransformer

from embedtune.baselines.bm25 import evaluate_bm25
from embedtune.baselines.hybrid import RRF_K, evaluate_hybrid
from embedtune.baselines.rankings import evaluated_query_ids
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.bootstrap import compare_tables, per_query_table
from embedtune.evaluation.metrics import MAX_K
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.results_schema import (
    LOSS,
    PRIMARY_METRIC,
    WIN,
    outcome,
    read_comparison_entry,
)

logger = logging.getLogger(__name__)

BM25, HYBRID = "bm25", "hybrid"


@dataclass
class Baselines:
    bm25: RetrievalEvaluation  # the same per-query scores under each dense dim
    bm25_settings: dict[str, Any]
    hybrid: RetrievalEvaluation | None  # one entry per dense dim; None without embeddings
    hybrid_settings: dict[str, Any]


def evaluate_baselines(
    data: RetrievalData,
    dims: list[int],
    *,
    encoded: Any = None,
    ignore_identical_ids: bool = False,
    stem: bool = True,
    rrf_k: int = RRF_K,
    depth: int = MAX_K,
) -> Baselines:
    """BM25, and the hybrid when `encoded` (an embedtune.deployment.encoded.EncodedTask of the
    dense model) is given."""
    from embedtune.deployment.encoded import dense_rankings

    bm25, index, sparse = evaluate_bm25(
        data,
        dims=dims,
        stem=stem,
        ignore_identical_ids=ignore_identical_ids,
        top_k=max(depth, MAX_K),  # BM25's own metrics need MAX_K; RRF cuts at depth
    )
    hybrid_settings = {"method": "reciprocal rank fusion", "k": rrf_k, "depth": depth}
    hybrid = None
    if encoded is not None:
        encoded.check_matches(data)
        query_ids = evaluated_query_ids(data)
        dense = dense_rankings(
            encoded, dims, top_k=depth, ignore_identical_ids=ignore_identical_ids
        )
        hybrid, _ = evaluate_hybrid(data, query_ids, sparse, dense, k=rrf_k, depth=depth)
    return Baselines(bm25, index.describe(), hybrid, hybrid_settings)


def _model_words(label: str) -> str:
    return "the model" if label == "model" else f"the {label} model"


def _interval(entry: dict[str, Any]) -> str:
    delta, low, high, _ = read_comparison_entry(entry)  # type: ignore[arg-type]
    return f"{delta:+.3f} {PRIMARY_METRIC} [95% CI {low:+.3f}, {high:+.3f}]"


def baseline_verdict(
    vs_bm25: dict[str, Any],
    hybrid_vs_dense: dict[str, Any] | None,
    dim: int,
    *,
    dense_label: str = "finetuned",
) -> dict[str, Any]:
    """{"dim", "outcome" (win: the dense model beats BM25), "message"}."""
    entry = vs_bm25[str(dim)]
    delta, _, _, significant = read_comparison_entry(entry)
    result = outcome(delta, significant)
    model = _model_words(dense_label)
    if result == WIN:
        message = f"{model.capitalize()} beats BM25 by {_interval(entry)} at {dim} dims."
    elif result == LOSS:
        message = (
            f"BM25 beats {model} at {dim} dims ({model} - BM25: {_interval(entry)}): "
            "consider BM25 or hybrid."
        )
    else:
        message = (
            f"BM25 is as good: consider hybrid ({model} - BM25 at {dim} dims: "
            f"{_interval(entry)}, not significant)."
        )
    if hybrid_vs_dense is not None:
        h_delta, _, _, h_significant = read_comparison_entry(hybrid_vs_dense[str(dim)])
        if outcome(h_delta, h_significant) == WIN:
            message += (
                f" Hybrid (BM25 + {dense_label}, RRF) beats {model} alone by "
                f"{_interval(hybrid_vs_dense[str(dim)])}."
            )
    return {"dim": dim, "outcome": result, "message": message}


def baseline_block(
    data: RetrievalData,
    dense_evaluation: RetrievalEvaluation,
    *,
    model: SentenceTransformer | None = None,
    encoded: Any = None,
    baselines: Baselines | None = None,
    dense_label: str = "finetuned",
    verdict_dim: int | None = None,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    batch_size: int = 64,
    ignore_identical_ids: bool = False,
    stem: bool = True,
    rrf_k: int = RRF_K,
    depth: int = MAX_K,
) -> dict[str, Any]:
    """What results.json holds under "baselines".

    `dense_evaluation` is the dense model's evaluation on `data` (evaluate_retrieval). The hybrid
    needs the dense model's rankings: pass `encoded` (EncodedTask, no re-encoding) or `model`
    (encoded here with the prompts given); with neither the hybrid is left out. `verdict_dim`
    defaults to the first (full) dim. Intervals: paired bootstrap over the test queries, as in
    the base-vs-finetuned comparison ("vs_bm25" = dense - BM25; "hybrid"."vs_dense" = hybrid -
    dense).
    """
    dims = list(dense_evaluation.dims)
    if encoded is None and model is not None and baselines is None:
        from embedtune.deployment.encoded import encode_task

        encoded = encode_task(
            model,
            data,
            query_prompt=query_prompt,
            document_prompt=document_prompt,
            batch_size=batch_size,
        )
    if baselines is None:
        baselines = evaluate_baselines(
            data,
            dims,
            encoded=encoded,
            ignore_identical_ids=ignore_identical_ids,
            stem=stem,
            rrf_k=rrf_k,
            depth=depth,
        )
    evaluations = {dense_label: dense_evaluation, BM25: baselines.bm25}
    if baselines.hybrid is not None:
        evaluations[HYBRID] = baselines.hybrid
    table = per_query_table(evaluations)
    vs_bm25 = compare_tables(table, base=BM25, candidate=dense_label)
    bm25_scores = baselines.bm25.by_dim[dims[0]].metrics
    block: dict[str, Any] = {
        "dense": dense_label,
        "test_queries": len(table["query_ids"]),
        BM25: {
            "settings": baselines.bm25_settings,
            "metrics": bm25_scores,
            "seconds": round(baselines.bm25.seconds, 3),
        },
        "vs_bm25": vs_bm25,
        HYBRID: None,
    }
    hybrid_vs_dense = None
    if baselines.hybrid is not None:
        hybrid_vs_dense = compare_tables(table, base=dense_label, candidate=HYBRID)
        block[HYBRID] = {
            "settings": {**baselines.hybrid_settings, "dense": dense_label},
            "metrics": baselines.hybrid.metrics(),
            "vs_dense": hybrid_vs_dense,
            "vs_bm25": compare_tables(table, base=BM25, candidate=HYBRID),
        }
    dim = verdict_dim if verdict_dim is not None else dims[0]
    if dim not in dims:
        raise ValueError(f"verdict_dim {dim} is not one of the evaluated dims {dims}")
    block["verdict"] = baseline_verdict(vs_bm25, hybrid_vs_dense, dim, dense_label=dense_label)
    logger.info("Baselines: %s", block["verdict"]["message"])
    return block


def baselines_for_run(
    data: RetrievalData,
    dense_evaluation: RetrievalEvaluation,
    encoded: Any,
    *,
    dense_label: str,
    verdict_dim: int | None = None,
    ignore_identical_ids: bool = False,
) -> tuple[dict[str, Any], dict[str, RetrievalEvaluation]]:
    """What a run adds: the results.json "baselines" block, and BM25's and the hybrid's
    evaluations (per-query scores for per_query.json, keyed "bm25" and "hybrid").

    `encoded` is the dense model's encoding of `data` (EncodedTask) that `dense_evaluation`
    came from: the hybrid ranks from it, nothing is encoded again.
    """
    baselines = evaluate_baselines(
        data,
        list(dense_evaluation.dims),
        encoded=encoded,
        ignore_identical_ids=ignore_identical_ids,
    )
    block = baseline_block(
        data,
        dense_evaluation,
        baselines=baselines,
        dense_label=dense_label,
        verdict_dim=verdict_dim,
        ignore_identical_ids=ignore_identical_ids,
    )
    evaluations = {BM25: baselines.bm25}
    if baselines.hybrid is not None:
        evaluations[HYBRID] = baselines.hybrid
    return block, evaluations
