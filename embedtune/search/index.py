"""`CorpusIndex` and `search`: top-k corpus rows per query through the chosen search kind.

One CorpusIndex is one searchable view of a corpus store at one Matryoshka dim (the first `dim`
components, normalised). Exact search reads the store block by block; a FAISS index is built
once per view. An approximate (HNSW) view measures its recall@k against exact search on a
seeded sample of the queries (`recall_against_exact`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from embedtune.search.choice import EXACT, FAISS_HNSW, FAISS_KINDS, KINDS
from embedtune.search.exact import QUERY_BLOCK, Embeddings, exact_search, id_ranks
from embedtune.search.faiss_index import build_faiss_index, faiss_search

RECALL_QUERIES = 200  # queries sampled to measure an approximate index against exact search
RECALL_K = 100


@dataclass
class SearchResult:
    positions: np.ndarray  # (queries, k) corpus rows, best first; -1: no document
    scores: np.ndarray  # (queries, k) float32 cosine; -inf where no document

    def ids(self, corpus_ids: list[str]) -> list[list[str]]:
        """Each query's ranked document ids (padding dropped)."""
        return [[corpus_ids[p] for p in row if p >= 0] for row in self.positions]


class CorpusIndex:
    """Search a corpus store (documents x full dim) at `dim` with `kind` (exact, faiss-flat,
    faiss-hnsw). `corpus_ids` set the tie-break (ascending id) and allow `exclude_ids`."""

    def __init__(
        self,
        corpus: Embeddings,
        *,
        dim: int | None = None,
        kind: str = EXACT,
        corpus_ids: list[str] | None = None,
        ranks: np.ndarray | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"index kind must be one of {KINDS}, got {kind!r}")
        self.corpus, self.kind = corpus, kind
        self.dim = dim or int(corpus.shape[1])
        self.corpus_ids = corpus_ids
        if ranks is None:
            ranks = id_ranks(corpus_ids) if corpus_ids is not None else np.arange(len(corpus))
        self.ranks = ranks
        self._position: dict[str, int] | None = None
        self._faiss: Any = (
            build_faiss_index(corpus, self.dim, kind) if kind in FAISS_KINDS else None
        )

    @property
    def approximate(self) -> bool:
        return self.kind == FAISS_HNSW

    def exclusions(self, exclude_ids: list[str] | None) -> np.ndarray | None:
        """Per query, the corpus row of its id (-1: not in the corpus)."""
        if exclude_ids is None:
            return None
        if self.corpus_ids is None:
            raise ValueError("exclude_ids needs the corpus ids")
        if self._position is None:
            self._position = {doc_id: i for i, doc_id in enumerate(self.corpus_ids)}
        return np.array([self._position.get(q, -1) for q in exclude_ids], dtype=np.int64)

    def search(
        self,
        queries: Embeddings,
        k: int,
        *,
        exclude_ids: list[str] | None = None,
        exact: bool = False,
        query_block: int = QUERY_BLOCK,
    ) -> SearchResult:
        """Top k per query (`exact`: exact search whatever the kind)."""
        exclude = self.exclusions(exclude_ids)
        if self._faiss is None or exact:
            positions, scores = exact_search(
                queries,
                self.corpus,
                k,
                dim=self.dim,
                ranks=self.ranks,
                exclude=exclude,
                query_block=query_block,
            )
        else:
            positions, scores = faiss_search(
                self._faiss, queries, k, dim=self.dim, ranks=self.ranks, exclude=exclude
            )
        return SearchResult(positions, scores)

    def recall_against_exact(
        self,
        queries: Embeddings,
        result: SearchResult,
        *,
        k: int = RECALL_K,
        sample: int = RECALL_QUERIES,
        exclude_ids: list[str] | None = None,
        seed: int = 0,
    ) -> float:
        """Mean share of each sampled query's exact top k that `result` (this index's search of
        `queries`, at least k deep) also returned."""
        rows = np.arange(queries.shape[0])
        if len(rows) > sample:
            rows = np.sort(np.random.default_rng(seed).choice(rows, sample, replace=False))
        exact = self.search(
            queries[rows],
            k,
            exact=True,
            exclude_ids=None if exclude_ids is None else [exclude_ids[i] for i in rows],
        )
        return recall_at_k(result.positions[rows, :k], exact.positions)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean over rows of |found ∩ truth| / |truth| (padding -1 ignored)."""
    shares = []
    for got, want in zip(found, truth):
        want_set = set(want[want >= 0].tolist())
        if want_set:
            shares.append(len(want_set & set(got[got >= 0].tolist())) / len(want_set))
    return float(np.mean(shares)) if shares else 1.0


def search(
    queries: Embeddings,
    corpus: Embeddings,
    k: int,
    *,
    index: str = EXACT,
    dim: int | None = None,
    corpus_ids: list[str] | None = None,
    exclude_ids: list[str] | None = None,
    query_block: int = QUERY_BLOCK,
) -> SearchResult:
    """Top-k corpus rows and float32 cosine scores per query (one-off CorpusIndex)."""
    corpus_index = CorpusIndex(corpus, dim=dim, kind=index, corpus_ids=corpus_ids)
    return corpus_index.search(queries, k, exclude_ids=exclude_ids, query_block=query_block)
