"""Query -> document retrieval evaluation at every Matryoshka dimension from one encoding.

The corpus and the queries are encoded once at full dimension; each dimension takes the first d
components, renormalised (cosine similarity), so N dimensions cost about one evaluation. Ties are
broken by ascending document id, as Sentence Transformers does.

`encode_task` is that one encoding pass as a value (`EncodedTask`): pass it to
`evaluate_retrieval(..., encoded=...)` and to the baselines' hybrid and the deployment matrix, so
one encoding serves all three.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field

import torch
from sentence_transformers import SentenceTransformer

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.metrics import MAX_K, mean_metrics, query_metrics
from embedtune.progress import bars_enabled, documents_label
from embedtune.results_schema import PRIMARY_METRIC
from embedtune.search import CorpusIndex, encode_corpus, id_ranks, resolve_index, search
from embedtune.search.report import search_info

logger = logging.getLogger(__name__)


@dataclass
class DimensionResult:
    metrics: dict[str, float]  # mean over queries
    per_query: dict[str, dict[str, float]] = field(repr=False)  # query id -> metrics


@dataclass
class RetrievalEvaluation:
    dims: list[int]
    by_dim: dict[int, DimensionResult]
    seconds: float
    search: dict | None = None  # the corpus search used (embedtune.search.report.search_info)

    def metrics(self) -> dict[str, dict[str, float]]:
        """{"<dim>": {metric: value}} as written to results.json."""
        return {str(d): self.by_dim[d].metrics for d in self.dims}

    def to_dict(self) -> dict:
        """JSON-able form, per-query scores included (for artifacts and significance tests)."""
        return {
            "dims": self.dims,
            "seconds": self.seconds,
            "metrics": self.metrics(),
            "per_query": {str(d): self.by_dim[d].per_query for d in self.dims},
            **({"search": self.search} if self.search else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> RetrievalEvaluation:
        dims = [int(d) for d in data["dims"]]
        by_dim = {
            d: DimensionResult(data["metrics"][str(d)], data["per_query"][str(d)]) for d in dims
        }
        return cls(dims, by_dim, float(data.get("seconds", 0.0)), data.get("search"))


def encode_texts(
    model: SentenceTransformer,
    texts: list[str],
    *,
    kind: str,
    prompt: str | None = None,
    batch_size: int = 64,
    show_progress_bar: bool = False,
) -> torch.Tensor:
    """Full-dimension embeddings of queries (`kind="query"`) or documents (`kind="document"`)."""
    encode = model.encode_query if kind == "query" else model.encode_document
    return encode(
        texts,
        prompt=prompt,
        batch_size=batch_size,
        convert_to_tensor=True,
        show_progress_bar=show_progress_bar,
    )


def rank_documents(
    query_embeddings: torch.Tensor,
    corpus_embeddings: torch.Tensor,
    corpus_ids: list[str],
    dim: int,
    top_k: int = MAX_K,
    query_block: int = 256,
    exclude_ids: list[str] | None = None,
    index: str = "exact",
) -> list[list[str]]:
    """Top-k document ids per query by cosine similarity of the first `dim` components.

    Scored in blocks of queries x documents (embedtune.search.exact), so memory stays bounded;
    `index` "faiss-flat" / "faiss-hnsw" searches through FAISS instead.
    `exclude_ids[i]` (BEIR's ignore_identical_ids: the query's own id) is never returned for
    query i.
    """
    found = search(
        query_embeddings,
        corpus_embeddings,
        top_k,
        index=index,
        dim=dim,
        corpus_ids=corpus_ids,
        exclude_ids=exclude_ids or None,
        query_block=query_block,
    )
    return found.ids(corpus_ids)


def evaluated_query_ids(data: RetrievalData) -> list[str]:
    """The test queries that are scored: those with at least one relevant document."""
    return [q for q in data.queries if data.relevant.get(q)]


@dataclass
class EncodedTask:
    """One encoding of a task's evaluated queries and whole corpus, at full dimension."""

    query_ids: list[str]  # evaluated_query_ids(data), in that order
    corpus_ids: list[str]  # list(data.corpus)
    queries: torch.Tensor = field(repr=False)  # (queries, full dim), as the model returns them
    corpus: torch.Tensor = field(repr=False)  # (documents, full dim)
    seconds: float  # encoding time (queries + corpus)

    @property
    def full_dim(self) -> int:
        return int(self.corpus.shape[1])

    def cpu(self) -> EncodedTask:
        """The same encoding in CPU memory (to keep it while a model trains on an accelerator)."""
        return dataclasses.replace(self, queries=self.queries.cpu(), corpus=self.corpus.cpu())

    def check_matches(self, data: RetrievalData) -> None:
        """Refuse an encoding of other queries or another corpus than `data`'s."""
        if self.query_ids != evaluated_query_ids(data) or self.corpus_ids != list(data.corpus):
            raise ValueError("the encoded task's queries or corpus are not this data's")


VALIDATION = "validation"  # the label of validation evaluations (model selection)
LOG_SCOPES = {VALIDATION: "Validation", "guard": "Guard"}


def encode_task(
    model: SentenceTransformer,
    data: RetrievalData,
    *,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    batch_size: int = 64,
    show_progress_bar: bool = False,
    label: str | None = None,
) -> EncodedTask:
    """Encode the evaluated queries and the whole corpus once, at full dimension
    (`show_progress_bar`: one bar, the corpus, "Encoding N documents (`label`)"; queries are
    quick). A large corpus is encoded in chunks into a float16 store
    (embedtune.search.store.encode_corpus)."""
    start = time.perf_counter()
    # Sentence Transformers passes tqdm an explicit `disable`, which overrides TQDM_DISABLE
    # (what --quiet sets): honour the switch here
    show_progress_bar = show_progress_bar and bars_enabled()
    query_ids = evaluated_query_ids(data)
    corpus_ids = list(data.corpus)
    queries = encode_texts(
        model,
        [data.queries[q] for q in query_ids],
        kind="query",
        prompt=query_prompt,
        batch_size=batch_size,
    )
    corpus = encode_corpus(
        model,
        [data.corpus[d] for d in corpus_ids],
        prompt=document_prompt,
        batch_size=batch_size,
        show_progress_bar=show_progress_bar,
        description=documents_label(len(corpus_ids), label),
    )
    return EncodedTask(query_ids, corpus_ids, queries, corpus, time.perf_counter() - start)


def evaluate_retrieval(
    model: SentenceTransformer | None,
    data: RetrievalData,
    dims: list[int],
    *,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    batch_size: int = 64,
    show_progress_bar: bool = False,
    ignore_identical_ids: bool = False,
    encoded: EncodedTask | None = None,
    index: str = "exact",
    label: str | None = None,
) -> RetrievalEvaluation:
    """Evaluate test queries against the whole corpus at each dimension in `dims`.

    `encoded`: an existing encoding of `data` by the model (encode_task); nothing is encoded
    again and `model` may be None. `seconds` counts the encoding either way.
    `ignore_identical_ids`: BEIR/MTEB's rule for sets whose queries are also corpus documents
    (ArguAna): a retrieved document whose id equals the query id is skipped.
    `index`: config.index (auto, exact, faiss-flat, faiss-hnsw); an HNSW index's recall@100
    against exact search is measured per dim and recorded in `search`.
    `label`: what the progress bar calls the model ("base model").
    """
    start = time.perf_counter()
    if encoded is None:
        if model is None:
            raise ValueError("evaluate_retrieval needs a model or an encoding (encoded=...)")
        encoded = encode_task(
            model,
            data,
            query_prompt=query_prompt,
            document_prompt=document_prompt,
            batch_size=batch_size,
            show_progress_bar=show_progress_bar,
            label=label,
        )
        encode_seconds = 0.0  # already inside this call's time
    else:
        encoded.check_matches(data)
        encode_seconds = encoded.seconds
    query_ids = encoded.query_ids
    kind = resolve_index(index, len(encoded.corpus_ids))
    # validation evaluations are summarised by model selection: their per-dim lines only with -v
    scope = LOG_SCOPES.get(label or "", f"Test ({label})" if label else "Test")
    log = logger.debug if label == VALIDATION else logger.info
    ranks = id_ranks(encoded.corpus_ids)
    exclude_ids = query_ids if ignore_identical_ids else None
    recall: dict[str, float] = {}
    by_dim: dict[int, DimensionResult] = {}
    for dim in dims:
        corpus_index = CorpusIndex(
            encoded.corpus, dim=dim, kind=kind, corpus_ids=encoded.corpus_ids, ranks=ranks
        )
        found = corpus_index.search(encoded.queries, MAX_K, exclude_ids=exclude_ids)
        if corpus_index.approximate:
            recall[str(dim)] = corpus_index.recall_against_exact(
                encoded.queries, found, exclude_ids=exclude_ids
            )
        ranked = found.ids(encoded.corpus_ids)
        per_query = {
            qid: query_metrics(ranking, data.relevant[qid])
            for qid, ranking in zip(query_ids, ranked)
        }
        by_dim[dim] = DimensionResult(mean_metrics(list(per_query.values())), per_query)
        log(
            "%s, dim %d: ndcg@10 %.4f, mrr@10 %.4f, recall@10 %.4f",
            scope,
            dim,
            by_dim[dim].metrics[PRIMARY_METRIC],
            by_dim[dim].metrics["mrr@10"],
            by_dim[dim].metrics["recall@10"],
        )
    seconds = encode_seconds + time.perf_counter() - start
    info = search_info(kind, index, encoded.corpus, len(query_ids), recall)
    return RetrievalEvaluation(list(dims), by_dim, seconds, info)
