"""Evaluation protocols: which training pairs may sit beside the test queries.

- given: the source's own train/test queries (BEIR qrels/train.tsv + qrels/test.tsv). Documents
  may appear on both sides, as in BEIR: a RAG team's corpus is fixed and the model sees every
  document when it serves. Training pairs whose query is a test query or a near-copy are dropped.
- by-query: one shared corpus; held-out queries. Near-duplicate queries of one document (an LLM
  writing the same question twice) are kept on one side.
- by-document: held-out documents, never trained on (nor their queries). The strictest; the
  default for pair files, where one LLM writes several near-identical queries per chunk.

Every result names its protocol and the overlap (test queries whose relevant documents appear in
training pairs).
"""

from __future__ import annotations

import logging
import re

from datasets import Dataset

from embedtune.data.retrieval_data import DOCUMENT, QUERY, RetrievalData

logger = logging.getLogger(__name__)

GIVEN, BY_QUERY, BY_DOCUMENT = "given", "by-query", "by-document"
DESCRIPTIONS = {
    GIVEN: "the source's own train/test queries; documents may appear on both sides (BEIR)",
    BY_QUERY: "held-out queries on a shared corpus; near-duplicate queries kept on one side",
    BY_DOCUMENT: "held-out documents: no test document (nor its queries) is trained on",
}
# Near-duplicate queries of one document: token Jaccard at or above this.
NEAR_DUPLICATE_JACCARD = 0.6
DISCARD_WARNING_SHARE = 0.10
_TOKEN = re.compile(r"\w+")


def normalize_query(text: str) -> str:
    """Case, punctuation and spacing removed: 'What is X?' and 'what is x' are one query."""
    return " ".join(_TOKEN.findall(text.lower()))


def tokens(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def describe(
    split: str,
    data: RetrievalData,
    *,
    dropped_train_pairs: int = 0,
    candidate_train_pairs: int | None = None,
) -> dict:
    """The protocol block of results.json: name, description and the train/test overlap."""
    trained_documents = set(data.train[DOCUMENT]) if len(data.train) else set()
    overlapping = sum(
        1
        for qid, docs in data.relevant.items()
        if any(data.corpus.get(d) in trained_documents for d in docs)
    )
    candidates = candidate_train_pairs or (len(data.train) + dropped_train_pairs)
    share = dropped_train_pairs / candidates if candidates else 0.0
    block = {
        "split": split,
        "description": DESCRIPTIONS[split],
        "test_queries": len(data.queries),
        "test_queries_with_trained_documents": overlapping,
        "dropped_train_pairs": dropped_train_pairs,
        "dropped_share": round(share, 4),
    }
    if share > DISCARD_WARNING_SHARE:
        logger.warning(
            "The %s protocol discarded %d of %d training pairs (%.0f%%)%s",
            split,
            dropped_train_pairs,
            candidates,
            100 * share,
            "; --split given keeps pairs whose documents also answer test queries"
            if split == BY_DOCUMENT
            else "",
        )
    return block


def drop_test_query_copies(train: Dataset, test_queries: dict[str, str]) -> tuple[Dataset, int]:
    """Training pairs whose query is a test query after normalisation are removed."""
    test_keys = {normalize_query(q) for q in test_queries.values()}
    keep = [i for i, q in enumerate(train[QUERY]) if normalize_query(q) not in test_keys]
    return (train.select(keep) if len(keep) < len(train) else train), len(train) - len(keep)
