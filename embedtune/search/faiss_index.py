"""FAISS indexes over a corpus store: IndexFlatIP (exact inner products) or IndexHNSWFlat
(approximate), on unit vectors of the first `dim` components, so inner product = cosine.

The store is added a block at a time (the index holds its own float32 copy: documents x dim x 4
bytes, plus the HNSW graph). A flat index moves to the GPUs when faiss-gpu sees one.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from embedtune.search.choice import FAISS_FLAT, FAISS_HNSW, FAISS_INSTALL, load_faiss
from embedtune.search.exact import CORPUS_BLOCK, Embeddings, normalized_rows

logger = logging.getLogger(__name__)

HNSW_M = 16  # neighbours per node
HNSW_EF_CONSTRUCTION = 40  # FAISS's default
HNSW_EF_SEARCH = 128  # candidate list while searching; raised to k when k is larger


def hnsw_settings() -> dict[str, int]:
    return {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}


def _faiss() -> Any:
    faiss = load_faiss()
    if faiss is None:
        raise ImportError(f"faiss is not installed: {FAISS_INSTALL}")
    return faiss


def build_faiss_index(corpus: Embeddings, dim: int, kind: str) -> Any:
    """A FAISS index of the corpus's normalised first `dim` components."""
    faiss = _faiss()
    if kind == FAISS_FLAT:
        index = faiss.IndexFlatIP(dim)
    elif kind == FAISS_HNSW:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        raise ValueError(f"not a FAISS index kind: {kind!r}")
    for start in range(0, corpus.shape[0], CORPUS_BLOCK):
        stop = min(start + CORPUS_BLOCK, corpus.shape[0])
        index.add(normalized_rows(corpus, start, stop, dim).numpy())
    if kind == FAISS_FLAT and getattr(faiss, "get_num_gpus", lambda: 0)() > 0:
        index = faiss.index_cpu_to_all_gpus(index)
        logger.info("FAISS flat index on %d GPU(s)", faiss.get_num_gpus())
    return index


def faiss_search(
    index: Any,
    queries: Embeddings,
    k: int,
    *,
    dim: int,
    ranks: np.ndarray,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores) like embedtune.search.exact.exact_search: best first, ties by rank,
    `exclude[i]` never returned for query i, padding -1 / -inf."""
    documents = index.ntotal
    k = min(k, documents)
    asked = min(k + (exclude is not None), documents)
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = max(HNSW_EF_SEARCH, asked)
    q = normalized_rows(queries, 0, queries.shape[0], dim).numpy()
    scores, positions = index.search(q, asked)
    scores = scores.astype(np.float32, copy=False)
    missing = positions < 0
    if exclude is not None:
        missing |= positions == exclude[:, None]
    scores[missing] = -np.inf
    padded_ranks = np.append(ranks, documents)
    order = np.lexsort((padded_ranks[positions], -scores), axis=1)[:, :k]
    positions = np.take_along_axis(positions, order, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    positions[np.isneginf(scores)] = -1
    return positions.astype(np.int64, copy=False), scores
