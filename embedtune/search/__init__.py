"""Corpus search at scale: compact corpus stores, exact blocked search, FAISS indexes.

See docs/scale.md. `search(queries, corpus, k, index=...)` / `CorpusIndex` return top-k rows and
scores; `encode_corpus` streams a large corpus into a float16 (memory-mapped) store;
`resolve_index` turns config.index into a search kind; `require_index_package` refuses early an
index whose package is missing.
"""

from embedtune.search.choice import (
    AUTO_FAISS_DOCUMENTS,
    EXACT,
    FAISS_FLAT,
    FAISS_HNSW,
    require_index_package,
    resolve_index,
)
from embedtune.search.exact import exact_search, id_ranks
from embedtune.search.index import CorpusIndex, SearchResult, recall_at_k, search
from embedtune.search.store import encode_corpus, storage_kind

__all__ = [
    "AUTO_FAISS_DOCUMENTS",
    "EXACT",
    "FAISS_FLAT",
    "FAISS_HNSW",
    "CorpusIndex",
    "SearchResult",
    "encode_corpus",
    "exact_search",
    "id_ranks",
    "recall_at_k",
    "require_index_package",
    "resolve_index",
    "search",
    "storage_kind",
]
