"""The deployment matrix: retrieval quality, index bytes and search time for every Matryoshka dim x
embedding precision, from one encoding pass, and the cheapest configuration that keeps quality.

Every cell is compared with the float32 full-dim reference (the number the evaluator reports) by
the same paired bootstrap over test queries as base vs finetuned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sentence_transformers import SentenceTransformer

from embedtune.baselines.rankings import evaluation_from_rankings, id_ranks
from embedtune.data.retrieval_data import RetrievalData
from embedtune.deployment.encoded import EncodedTask, encode_task
from embedtune.deployment.quantized import (
    BINARY,
    DEFAULT_RESCORE_MULTIPLIER,
    FLOAT32,
    INT8,
    PRECISIONS,
    build_index,
    bytes_per_document,
    check_precision,
    search,
)
from embedtune.errors import ConfigError
from embedtune.evaluation.bootstrap import paired_bootstrap
from embedtune.evaluation.metrics import MAX_K
from embedtune.results_schema import PRIMARY_METRIC, comparison_entry

logger = logging.getLogger(__name__)

CELL_METRICS = (PRIMARY_METRIC, "recall@10", "recall@100")
DEFAULT_TOLERANCE = 0.01


def _check(dims: Sequence[int], precisions: Sequence[str], full_dim: int) -> None:
    if not dims:
        raise ConfigError("deployment matrix: no dims given")
    for dim in dims:
        if not 1 <= dim <= full_dim:
            raise ConfigError(
                f"deployment matrix: dim {dim} is outside 1..{full_dim} (the model's embedding size)"
            )
    if not precisions:
        raise ConfigError("deployment matrix: no precisions given")
    for precision in precisions:
        check_precision(precision)


def _interval(reference: list[float], candidate: list[float], metric: str) -> dict[str, Any]:
    interval = paired_bootstrap(reference, candidate)
    return dict(comparison_entry(interval.delta, interval.low, interval.high, metric=metric))


def _pareto(cells: list[dict[str, Any]]) -> None:
    """Mark cells no other cell beats on both bytes (fewer or equal) and nDCG@10 (higher or equal)."""
    for cell in cells:
        cell["pareto"] = not any(
            other["bytes_per_document"] <= cell["bytes_per_document"]
            and other[PRIMARY_METRIC] >= cell[PRIMARY_METRIC]
            and (
                other["bytes_per_document"] < cell["bytes_per_document"]
                or other[PRIMARY_METRIC] > cell[PRIMARY_METRIC]
            )
            for other in cells
        )


def recommend(
    cells: list[dict[str, Any]],
    per_query: dict[tuple[int, str], list[float]],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    allow_not_significant: bool = True,
) -> dict[str, Any]:
    """The cheapest cell (bytes per document, then nDCG@10, then search time) whose nDCG@10 is
    within `tolerance` of the best cell's, or, with `allow_not_significant`, whose paired
    interval against the best cell does not lie below 0."""
    best = max(cells, key=lambda c: (c[PRIMARY_METRIC], -c["bytes_per_document"]))
    best_scores = per_query[(best["dim"], best["precision"])]
    qualifying = []
    for cell in cells:
        gap = best[PRIMARY_METRIC] - cell[PRIMARY_METRIC]
        if gap <= tolerance + 1e-12:
            reason = f"{PRIMARY_METRIC} within {tolerance} of the best ({gap:.4f} below)"
        elif allow_not_significant:
            versus = _interval(
                best_scores, per_query[(cell["dim"], cell["precision"])], PRIMARY_METRIC
            )
            low, high = versus["ci95"]
            if high < 0:
                continue
            reason = (
                f"{PRIMARY_METRIC} {gap:.4f} below the best, not significantly "
                f"(95% CI of the difference [{low:+.4f}, {high:+.4f}])"
            )
        else:
            continue
        qualifying.append((cell, reason))
    cell, reason = min(
        qualifying,
        key=lambda pair: (
            pair[0]["bytes_per_document"],
            -pair[0][PRIMARY_METRIC],
            pair[0]["search_ms_per_query"],
        ),
    )
    pick = ("dim", "precision", "bytes_per_document", PRIMARY_METRIC)
    return {
        "best": {key: best[key] for key in pick},
        "recommended": {**{key: cell[key] for key in pick}, "reason": reason},
        "rule": (
            f"cheapest bytes per document with {PRIMARY_METRIC} within {tolerance} of the best"
            + (
                " or not significantly below it (paired bootstrap, 95%)"
                if allow_not_significant
                else ""
            )
        ),
    }


def matrix_from_encoded(
    encoded: EncodedTask,
    data: RetrievalData,
    dims: Sequence[int],
    *,
    precisions: Sequence[str] = PRECISIONS,
    rescore_multiplier: int = DEFAULT_RESCORE_MULTIPLIER,
    ignore_identical_ids: bool = False,
    tolerance: float = DEFAULT_TOLERANCE,
    allow_not_significant: bool = True,
) -> dict[str, Any]:
    """The matrix from an existing encoding pass (see deployment_matrix)."""
    dims = list(dims)
    _check(dims, precisions, encoded.full_dim)
    if rescore_multiplier < 1:
        raise ConfigError(f"rescore_multiplier must be at least 1, got {rescore_multiplier}")
    id_rank = id_ranks(encoded.corpus_ids)
    exclude = encoded.query_ids if ignore_identical_ids else None
    query_ids = encoded.query_ids
    cells: list[dict[str, Any]] = []
    per_query: dict[tuple[int, str], dict[str, list[float]]] = {}
    for dim in dims:
        for precision in precisions:
            start = time.perf_counter()
            index = build_index(encoded.corpus, dim, precision)
            index_seconds = time.perf_counter() - start
            start = time.perf_counter()
            ranked = search(
                index,
                encoded.queries,
                encoded.corpus_ids,
                id_rank,
                rescore_multiplier=rescore_multiplier,
                exclude_ids=exclude,
            )
            search_seconds = time.perf_counter() - start
            result = evaluation_from_rankings(data, query_ids, {dim: ranked}, search_seconds)
            scores = result.by_dim[dim]
            per_query[(dim, precision)] = {
                metric: [scores.per_query[q][metric] for q in query_ids] for metric in CELL_METRICS
            }
            cells.append(
                {
                    "dim": dim,
                    "precision": precision,
                    "bytes_per_document": bytes_per_document(dim, precision),
                    **{metric: round(scores.metrics[metric], 6) for metric in CELL_METRICS},
                    "search_ms_per_query": round(1000 * search_seconds / max(1, len(query_ids)), 4),
                    "index_seconds": round(index_seconds, 4),
                }
            )
            logger.info(
                "deployment: dim %d %s: ndcg@10 %.4f, %d bytes/doc",
                dim,
                precision,
                scores.metrics[PRIMARY_METRIC],
                cells[-1]["bytes_per_document"],
            )
    full = max(dims)
    reference_key = (full, FLOAT32) if FLOAT32 in precisions else (full, precisions[0])
    reference = per_query[reference_key]
    reference_cell = next(c for c in cells if (c["dim"], c["precision"]) == reference_key)
    for cell in cells:
        mine = per_query[(cell["dim"], cell["precision"])]
        cell["vs_reference"] = {m: _interval(reference[m], mine[m], m) for m in CELL_METRICS}
        ref_score = reference_cell[PRIMARY_METRIC]
        cell["retained"] = round(cell[PRIMARY_METRIC] / ref_score, 4) if ref_score else None
    _pareto(cells)
    choice = recommend(
        cells,
        {key: scores[PRIMARY_METRIC] for key, scores in per_query.items()},
        tolerance=tolerance,
        allow_not_significant=allow_not_significant,
    )
    return {
        "metric": PRIMARY_METRIC,
        "dims": dims,
        "precisions": list(precisions),
        "test_queries": len(query_ids),
        "corpus": len(encoded.corpus_ids),
        "reference": {"dim": reference_key[0], "precision": reference_key[1]},
        "encode_seconds": round(encoded.seconds, 3),
        "settings": {
            FLOAT32: "exact cosine (the evaluator's ranking)",
            INT8: "per-component scalar quantization, ranges from the corpus; float32 query "
            "against the dequantized codes, exhaustive",
            BINARY: f"sign bits, Hamming distance for top {rescore_multiplier} x {MAX_K} candidates, "
            "rescored by the float32 query against the bits",
            "search": "numpy/torch on CPU, all queries at once; int8 codes are widened to "
            "float32 for the product (no int8 kernel), so its time is not an int8 index's",
            "rescore_multiplier": rescore_multiplier,
            "intervals": "paired bootstrap over the test queries, 2000 resamples, 95%, "
            "cell - reference",
        },
        "cells": cells,
        **choice,
    }


def deployment_matrix(
    model: SentenceTransformer,
    data: RetrievalData,
    dims: Sequence[int],
    *,
    precisions: Sequence[str] = PRECISIONS,
    rescore_multiplier: int = DEFAULT_RESCORE_MULTIPLIER,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    batch_size: int = 64,
    ignore_identical_ids: bool = False,
    tolerance: float = DEFAULT_TOLERANCE,
    allow_not_significant: bool = True,
    encoded: EncodedTask | None = None,
) -> dict[str, Any]:
    """Quality, bytes per document and search time for each dim x precision (float32, int8,
    binary) from ONE encoding of the test queries and corpus, with intervals against float32 at
    the largest dim and the recommended cheapest cell. Pass `encoded` to reuse an encoding."""
    for precision in precisions:  # refuse before the (slow) encoding
        check_precision(precision)
    if encoded is None:
        encoded = encode_task(
            model,
            data,
            query_prompt=query_prompt,
            document_prompt=document_prompt,
            batch_size=batch_size,
        )
    return matrix_from_encoded(
        encoded,
        data,
        dims,
        precisions=precisions,
        rescore_multiplier=rescore_multiplier,
        ignore_identical_ids=ignore_identical_ids,
        tolerance=tolerance,
        allow_not_significant=allow_not_significant,
    )
