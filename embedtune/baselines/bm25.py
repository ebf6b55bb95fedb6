"""BM25 over the evaluation corpus with bm25s (a sparse-matrix implementation), scored by the
same per-query metrics as the dense evaluator.

Tokenisation (bm25s.tokenize): lower-cased, tokens are runs of 2+ word characters
(scikit-learn's CountVectorizer pattern), bm25s's English stopword list removed, then the Snowball
English stemmer (PyStemmer) when it is installed, none otherwise (`describe` says which).
Scoring: bm25s's "lucene" BM25, k1 1.5, b 0.75. A document sharing no term with the query is not
retrieved (BM25 gives it nothing), so a query may rank fewer than MAX_K documents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np

from embedtune.baselines.rankings import (
    NO_DIM,
    Timer,
    evaluated_query_ids,
    evaluation_from_rankings,
    id_ranks,
    same_at_dims,
    top_k_indices,
)
from embedtune.data.retrieval_data import RetrievalData
from embedtune.errors import ConfigError
from embedtune.evaluation.metrics import MAX_K
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.results_schema import PRIMARY_METRIC

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install bm25s PyStemmer"
STOPWORDS = "en"
METHOD, K1, B = "lucene", 1.5, 0.75


def _bm25s():
    try:
        import bm25s
    except ImportError as e:
        raise ConfigError(
            f"The BM25 baseline needs the bm25s package, which is not installed: {INSTALL_HINT} "
            "(or turn the baselines off)."
        ) from e
    # bm25s sets its logger to DEBUG at import, which sends its debug lines to any handler:
    # let it follow the application's level instead
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


def _stemmer(stem: bool) -> tuple[Any, str | None]:
    """(PyStemmer's English stemmer or None, its description)."""
    if not stem:
        return None, None
    try:
        import Stemmer
    except ImportError:
        logger.warning("PyStemmer is not installed: BM25 runs without stemming (%s)", INSTALL_HINT)
        return None, None
    return Stemmer.Stemmer("english"), f"snowball english (PyStemmer {_version('PyStemmer')})"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@dataclass
class Bm25Index:
    """A bm25s index of the corpus, with the tokenisation used to build it."""

    retriever: Any
    corpus_ids: list[str]
    stemmer: Any
    stemmer_name: str | None

    def tokens(self, texts: list[str]) -> list[list[str]]:
        return _bm25s().tokenize(
            texts,
            stopwords=STOPWORDS,
            stemmer=self.stemmer,
            return_ids=False,
            show_progress=False,
        )

    def describe(self) -> dict[str, Any]:
        """How the baseline tokenises and scores (recorded next to its numbers)."""
        return {
            "implementation": f"bm25s {_version('bm25s')}",
            "method": METHOD,
            "k1": K1,
            "b": B,
            "tokenizer": "bm25s.tokenize: lower-cased, tokens of 2+ word characters",
            "stopwords": "bm25s English list",
            "stemmer": self.stemmer_name or "none",
        }


def build_index(corpus: dict[str, str], *, stem: bool = True) -> Bm25Index:
    """Tokenise and index the corpus (document id -> text)."""
    bm25s = _bm25s()
    if not corpus:
        raise ConfigError("BM25: the corpus is empty")
    stemmer, stemmer_name = _stemmer(stem)
    index = Bm25Index(bm25s.BM25(method=METHOD, k1=K1, b=B), list(corpus), stemmer, stemmer_name)
    index.retriever.index(index.tokens(list(corpus.values())), show_progress=False)
    return index


def bm25_rankings(
    index: Bm25Index,
    queries: list[str],
    *,
    top_k: int = MAX_K,
    exclude_ids: list[str] | None = None,
) -> list[list[str]]:
    """Top-k document ids per query (best first, ties by ascending id; unmatched documents left
    out). `exclude_ids[i]` is never returned for query i (ignore_identical_ids)."""
    retriever = index.retriever
    position = {doc_id: i for i, doc_id in enumerate(index.corpus_ids)}
    id_rank = id_ranks(index.corpus_ids)
    ranked = []
    for i, tokens in enumerate(index.tokens(queries)):
        token_ids = retriever.get_tokens_ids(tokens)
        if not token_ids:
            ranked.append([])
            continue
        scores = np.asarray(retriever.get_scores_from_ids(token_ids), dtype=np.float64)
        scores[scores <= 0] = -np.inf
        if exclude_ids and exclude_ids[i] in position:
            scores[position[exclude_ids[i]]] = -np.inf
        ranked.append([index.corpus_ids[j] for j in top_k_indices(scores, top_k, id_rank)])
    return ranked


def evaluate_bm25(
    data: RetrievalData,
    *,
    dims: list[int] | None = None,
    stem: bool = True,
    ignore_identical_ids: bool = False,
    top_k: int = MAX_K,
) -> tuple[RetrievalEvaluation, Bm25Index, list[list[str]]]:
    """BM25 on the test queries against the whole corpus.

    Returns the evaluation (the same per-query metrics under each of `dims`, default one entry
    under NO_DIM: BM25 has no dimension), the index, and the rankings (in evaluated_query_ids order).
    """
    query_ids = evaluated_query_ids(data)
    with Timer() as timer:
        index = build_index(data.corpus, stem=stem)
        ranked = bm25_rankings(
            index,
            [data.queries[q] for q in query_ids],
            top_k=top_k,
            exclude_ids=query_ids if ignore_identical_ids else None,
        )
    evaluation = evaluation_from_rankings(data, query_ids, {NO_DIM: ranked}, timer.seconds)
    only = evaluation.by_dim[NO_DIM]
    if dims:
        evaluation = same_at_dims(evaluation, dims)
    logger.info(
        "BM25: ndcg@10 %.4f, recall@10 %.4f (%d queries, %d documents, %.1f s)",
        only.metrics[PRIMARY_METRIC],
        only.metrics["recall@10"],
        len(query_ids),
        len(index.corpus_ids),
        timer.seconds,
    )
    return evaluation, index, ranked
