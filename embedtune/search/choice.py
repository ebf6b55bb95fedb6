"""Which corpus search a run uses, and the refusal of one whose package is missing.

`index` (config.index, --index): "exact" (blocked matrix products, embedtune.search.exact),
"faiss-flat" (FAISS IndexFlatIP: exact inner products), "faiss-hnsw" (FAISS IndexHNSWFlat:
approximate, its recall@100 against exact search is measured), or "auto": exact below
AUTO_FAISS_DOCUMENTS documents, FAISS flat from there when faiss is installed (else exact, said in
the log). The threshold comes from benchmarks/scale.py (docs/scale.md).
"""

from __future__ import annotations

import logging
from types import ModuleType

from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)

AUTO, EXACT, FAISS_FLAT, FAISS_HNSW = "auto", "exact", "faiss-flat", "faiss-hnsw"
KINDS = (EXACT, FAISS_FLAT, FAISS_HNSW)
FAISS_KINDS = (FAISS_FLAT, FAISS_HNSW)
AUTO_FAISS_DOCUMENTS = 200_000  # auto: FAISS flat from this corpus size (benchmarks/scale.py)
FAISS_INSTALL = "pip install 'embedtune[faiss]'"  # faiss-cpu; faiss-gpu works the same way


def load_faiss() -> ModuleType | None:
    """The faiss module, or None when it cannot be imported."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def require_index_package(index: str) -> None:
    """Refuse, before any work, an index whose package is missing (auto never needs one)."""
    if index in FAISS_KINDS and load_faiss() is None:
        raise ConfigError(
            f"--index {index} needs the faiss package (faiss-cpu or faiss-gpu), which is not "
            f"installed: {FAISS_INSTALL}, or use --index exact"
        )


def resolve_index(index: str, corpus_size: int) -> str:
    """The search kind for a corpus of `corpus_size` documents: `index` unless it is auto."""
    if index not in (AUTO, *KINDS):
        raise ConfigError(f"index must be one of {', '.join((AUTO, *KINDS))}, got {index!r}")
    if index != AUTO:
        return index
    if corpus_size < AUTO_FAISS_DOCUMENTS:
        return EXACT
    if load_faiss() is None:
        logger.info(
            "index auto: %d documents would use FAISS flat, but faiss is not installed (%s); "
            "exact blocked search instead",
            corpus_size,
            FAISS_INSTALL,
        )
        return EXACT
    return FAISS_FLAT
