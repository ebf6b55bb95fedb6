"""One encoding pass of the test task, shared by the test evaluation, the quantized matrix and
the hybrid baseline.

`EncodedTask` and `encode_task` live in embedtune.evaluation.retrieval (the evaluator encodes
through them) and are re-exported here; rankings built from an encoding match the evaluator's.
"""

from __future__ import annotations

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.metrics import MAX_K
from embedtune.evaluation.retrieval import (
    EncodedTask,
    RetrievalEvaluation,
    encode_task,
    evaluate_retrieval,
    rank_documents,
)

__all__ = ["EncodedTask", "dense_rankings", "encode_task", "evaluate_encoded"]


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
    return evaluate_retrieval(
        None, data, dims, encoded=encoded, ignore_identical_ids=ignore_identical_ids
    )
