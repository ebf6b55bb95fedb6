"""The search options handed to Sentence Transformers' `mine_hard_negatives`.

Its exact path scores `faiss_batch_size` queries against the whole corpus at once (float32), so
the batch is sized to keep that matrix near MINING_SCORES_BYTES; its FAISS path
(`use_faiss=True`) is a flat inner-product index. faiss-hnsw therefore mines with FAISS flat
(exact: mining never needs the approximation).
"""

from __future__ import annotations

import logging

from embedtune.search.choice import FAISS_HNSW, FAISS_KINDS, resolve_index

logger = logging.getLogger(__name__)

MINING_SCORES_BYTES = 256 * 2**20
ST_DEFAULT_QUERY_BATCH = 16_384  # mine_hard_negatives' own faiss_batch_size


def mining_search_options(index: str, corpus_size: int) -> dict[str, bool | int]:
    """use_faiss and faiss_batch_size for a mining pool of `corpus_size` documents."""
    kind = resolve_index(index, corpus_size)
    if kind == FAISS_HNSW:
        logger.info("Hard-negative mining searches with FAISS flat (exact) for --index faiss-hnsw")
    batch = max(1, min(ST_DEFAULT_QUERY_BATCH, MINING_SCORES_BYTES // (4 * max(corpus_size, 1))))
    return {"use_faiss": kind in FAISS_KINDS, "faiss_batch_size": batch}
