"""One encoding pass of the test task, shared by the quantized matrix and the hybrid baseline.

The same calls as embedtune.evaluation.retrieval.evaluate_retrieval (encode_texts, full dimension,
queries with relevant documents only), so rankings built from it match the evaluator's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from sentence_transformers import SentenceTransformer

from embedtune.baselines.rankings import evaluated_query_ids, evaluation_from_rankings
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.metrics import MAX_K
from embedtune.evaluation.retrieval import RetrievalEvaluation, encode_texts, rank_documents


@dataclass
class EncodedTask:
    query_ids: list[str]
    corpus_ids: list[str]
    queries: torch.Tensor  # (queries, full dim), as the model returns them
    corpus: torch.Tensor  # (documents, full dim)
    seconds: float  # encoding time (queries + corpus)

    @property
    def full_dim(self) -> int:
        return int(self.corpus.shape[1])


def encode_task(
    model: SentenceTransformer,
    data: RetrievalData,
    *,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    batch_size: int = 64,
    show_progress_bar: bool = False,
) -> EncodedTask:
    """Encode the test queries and the whole corpus once, at full dimension."""
    start = time.perf_counter()
    query_ids = evaluated_query_ids(data)
    corpus_ids = list(data.corpus)
    queries = encode_texts(
        model,
        [data.queries[q] for q in query_ids],
        kind="query",
        prompt=query_prompt,
        batch_size=batch_size,
        show_progress_bar=show_progress_bar,
    )
    corpus = encode_texts(
        model,
        [data.corpus[d] for d in corpus_ids],
        kind="document",
        prompt=document_prompt,
        batch_size=batch_size,
        show_progress_bar=show_progress_bar,
    )
    return EncodedTask(query_ids, corpus_ids, queries, corpus, time.perf_counter() - start)


def dense_rankings(
    encoded: EncodedTask,
    dims: list[int],
    *,
    top_k: int = MAX_K,
    ignore_identical_ids: bool = False,
) -> dict[int, list[list[str]]]:
    """The dense model's ranked ids per dim (cosine on the first d components, as evaluated)."""
    return {
        dim: rank_documents(
            encoded.queries,
            encoded.corpus,
            encoded.corpus_ids,
            dim,
            top_k=top_k,
            exclude_ids=encoded.query_ids if ignore_identical_ids else None,
        )
        for dim in dims
    }


def evaluate_encoded(
    encoded: EncodedTask,
    data: RetrievalData,
    dims: list[int],
    *,
    ignore_identical_ids: bool = False,
) -> RetrievalEvaluation:
    """evaluate_retrieval's result from an existing encoding (same rankings, same metrics)."""
    start = time.perf_counter()
    rankings = dense_rankings(encoded, dims, ignore_identical_ids=ignore_identical_ids)
    return evaluation_from_rankings(
        data,
        encoded.query_ids,
        rankings,
        encoded.seconds + time.perf_counter() - start,
    )
