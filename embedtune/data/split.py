"""Split pairs by document so that no test document (nor its queries) is seen in training.

Queries and documents form a bipartite graph; connected groups are kept whole, so a query that
answers several documents never lands on both sides. The corpus is every unique document.
"""

from __future__ import annotations

import logging
import random

from datasets import Dataset

from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY, RetrievalData
from embedtune.errors import DataError
from embedtune.ids import text_id

logger = logging.getLogger(__name__)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _document_groups(query_ids: list[str], doc_ids: list[str]) -> _UnionFind:
    groups = _UnionFind()
    for qid, did in zip(query_ids, doc_ids):
        groups.union(qid, did)
    return groups


def _pick_test_groups(
    groups: _UnionFind, doc_ids: list[str], test_fraction: float, seed: int
) -> set[str]:
    """Seeded whole groups until ~test_fraction of the documents; one group stays for training."""
    by_group: dict[str, set[str]] = {}
    for did in set(doc_ids):
        by_group.setdefault(groups.find(did), set()).add(did)
    ordered = sorted(by_group)  # stable order before the seeded shuffle
    random.Random(seed).shuffle(ordered)
    target = max(1, round(test_fraction * len(set(doc_ids))))
    test_groups: set[str] = set()
    taken = 0
    for group in ordered[:-1]:
        if taken >= target:
            break
        test_groups.add(group)
        taken += len(by_group[group])
    return test_groups


def _drop_test_negatives(
    pairs: Dataset, train_rows: list[int], test_docs: set[str], report: dict[str, int]
) -> list[int]:
    """Training rows whose own negative is a test document leak it: dropped and counted."""
    if NEGATIVE not in pairs.column_names:
        return train_rows
    negative_ids = [text_id("d", n) for n in pairs[NEGATIVE]]
    kept = [i for i in train_rows if negative_ids[i] not in test_docs]
    if len(kept) < len(train_rows):
        report["dropped_negative_is_test_document"] = len(train_rows) - len(kept)
        logger.warning(
            "%d training rows dropped: their negative is a test document",
            len(train_rows) - len(kept),
        )
    return kept


def split_by_document(
    pairs: Dataset, *, test_fraction: float = 0.1, seed: int = 42, source: str = "dataset"
) -> RetrievalData:
    """Hold out ~test_fraction of the documents (with all their queries) for evaluation."""
    if not 0 < test_fraction < 1:
        raise DataError(f"test fraction must be between 0 and 1, got {test_fraction}")
    queries, documents = pairs[QUERY], pairs[DOCUMENT]
    doc_ids = [text_id("d", d) for d in documents]
    query_ids = [text_id("q", q) for q in queries]
    groups = _document_groups(query_ids, doc_ids)
    test_groups = _pick_test_groups(groups, doc_ids, test_fraction, seed)
    if not test_groups:
        raise DataError(
            f"cannot split {len(set(doc_ids))} document(s) into train and test: every query is "
            "linked to every document, or there is only one document",
            path=source,
            hint="add more documents, or give a BEIR folder with its own test qrels",
        )
    corpus = {did: doc for did, doc in zip(doc_ids, documents)}
    test_docs = {did for did in corpus if groups.find(did) in test_groups}
    test_queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    train_rows: list[int] = []
    for index, (qid, did) in enumerate(zip(query_ids, doc_ids)):
        if did in test_docs:
            test_queries[qid] = queries[index]
            relevant.setdefault(qid, set()).add(did)
        else:
            train_rows.append(index)
    report: dict[str, int] = {}
    train_rows = _drop_test_negatives(pairs, train_rows, test_docs, report)
    if not train_rows:
        raise DataError("the split left no training pairs", path=source)
    train = pairs.select(train_rows)
    logger.info(
        "Split by document: %d train pairs, %d test queries on %d test documents, corpus %d",
        len(train),
        len(test_queries),
        len(test_docs),
        len(corpus),
    )
    return RetrievalData(train, test_queries, corpus, relevant, report)


def _query_groups(queries: list[str], documents: list[str]) -> _UnionFind:
    """Queries that are one question: the same after normalisation, or near-duplicates
    (token Jaccard >= NEAR_DUPLICATE_JACCARD) asked of the same document."""
    from embedtune.data.protocol import NEAR_DUPLICATE_JACCARD, jaccard, normalize_query, tokens

    groups = _UnionFind()
    by_document: dict[str, list[str]] = {}
    for query, document in zip(queries, documents):
        key = "q" + normalize_query(query)
        groups.find(key)
        siblings = by_document.setdefault(document, [])
        if key not in siblings:
            siblings.append(key)
    for siblings in by_document.values():
        bags = [tokens(key[1:]) for key in siblings]
        for i in range(len(siblings)):
            for j in range(i + 1, len(siblings)):
                if jaccard(bags[i], bags[j]) >= NEAR_DUPLICATE_JACCARD:
                    groups.union(siblings[i], siblings[j])
    return groups


def split_by_query(
    pairs: Dataset, *, test_fraction: float = 0.1, seed: int = 42, source: str = "dataset"
) -> RetrievalData:
    """Hold out ~test_fraction of the queries; every document stays in the shared corpus and may
    be trained on through other queries. Near-duplicate queries stay on one side."""
    from embedtune.data.protocol import normalize_query

    if not 0 < test_fraction < 1:
        raise DataError(f"test fraction must be between 0 and 1, got {test_fraction}")
    queries, documents = pairs[QUERY], pairs[DOCUMENT]
    groups = _query_groups(queries, documents)
    keys = ["q" + normalize_query(q) for q in queries]
    members: dict[str, set[str]] = {}
    for key in keys:
        members.setdefault(groups.find(key), set()).add(key)
    ordered = sorted(members)
    random.Random(seed).shuffle(ordered)
    target = max(1, round(test_fraction * len(set(keys))))
    test_keys: set[str] = set()
    for group in ordered[:-1]:  # at least one group stays for training
        if len(test_keys) >= target:
            break
        test_keys |= members[group]
    if not test_keys:
        raise DataError(
            "cannot split the queries into train and test: they are all one question",
            path=source,
            hint="add more queries, or use --split by-document",
        )
    corpus = {text_id("d", d): d for d in documents}
    test_queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    train_rows: list[int] = []
    for index, (key, query, document) in enumerate(zip(keys, queries, documents)):
        if key in test_keys:
            qid = text_id("q", key)
            test_queries.setdefault(qid, query)
            relevant.setdefault(qid, set()).add(text_id("d", document))
        else:
            train_rows.append(index)
    train = pairs.select(train_rows)
    logger.info(
        "Split by query: %d train pairs, %d test queries, shared corpus of %d documents",
        len(train),
        len(test_queries),
        len(corpus),
    )
    return RetrievalData(train, test_queries, corpus, relevant, {})
