"""What a run records about its corpus search: the `search` block of results.json.

Per evaluation (RetrievalEvaluation.search): the index used, what was asked, corpus size, how
the embeddings were stored and, for HNSW, its settings and recall@100 against exact search per
dim on a sample of the queries. A run's block joins its evaluations' recall by model label.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from embedtune.search.choice import FAISS_HNSW
from embedtune.search.faiss_index import hnsw_settings
from embedtune.search.index import RECALL_K, RECALL_QUERIES
from embedtune.search.store import storage_kind

logger = logging.getLogger(__name__)

RECALL_KEY = f"recall@{RECALL_K}"


def search_info(
    kind: str,
    requested: str,
    corpus: torch.Tensor | np.ndarray,
    queries: int,
    recall: dict[str, float],
) -> dict[str, Any]:
    """One evaluation's search record (recall: dim -> recall@100 vs exact, HNSW only)."""
    info: dict[str, Any] = {
        "index": kind,
        "requested": requested,
        "corpus": int(corpus.shape[0]),
        "storage": storage_kind(corpus),
    }
    if kind == FAISS_HNSW:
        info["hnsw"] = hnsw_settings()
        info[RECALL_KEY] = {dim: round(value, 4) for dim, value in recall.items()}
        info["recall_queries"] = min(queries, RECALL_QUERIES)
        logger.info(
            "faiss-hnsw (M %d, efSearch %d): %s vs exact search on %d queries: %s",
            info["hnsw"]["M"],
            info["hnsw"]["efSearch"],
            RECALL_KEY,
            info["recall_queries"],
            ", ".join(f"dim {d} {v:.3f}" for d, v in info[RECALL_KEY].items()),
        )
    return info


def results_search_block(by_label: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """{"search": ...} for results.json from each model's evaluation record ({} when none);
    recall@100 becomes {label: {dim: value}}."""
    infos = {label: info for label, info in by_label.items() if info}
    if not infos:
        return {}
    block = {k: v for k, v in next(reversed(infos.values())).items() if k != RECALL_KEY}
    recall = {label: info[RECALL_KEY] for label, info in infos.items() if RECALL_KEY in info}
    if recall:
        block[RECALL_KEY] = recall
    return {"search": block}
