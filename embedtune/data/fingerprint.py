"""A fingerprint of a run's data: the same pairs, corpus, queries and qrels give the same one,
whatever order they were read in (results.json provenance, --resume's check)."""

from __future__ import annotations

import hashlib
import json

from embedtune.data.retrieval_data import RetrievalData


def data_fingerprint(data: RetrievalData) -> str:
    """sha256 over the training pairs, corpus, test queries and qrels, in a canonical order.

    The same data gives the same fingerprint whatever the order rows were read in.
    """
    digest = hashlib.sha256()

    def feed(kind: str, records: list) -> None:
        digest.update(kind.encode())
        for record in records:
            digest.update(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
            digest.update(b"\n")

    columns = sorted(data.train.column_names)
    train = sorted(zip(*(data.train[c] for c in columns))) if len(data.train) else []
    feed("train:" + ",".join(columns), [list(row) for row in train])
    feed("corpus", sorted(data.corpus.items()))
    feed("queries", sorted(data.queries.items()))
    feed("qrels", sorted((q, sorted(docs)) for q, docs in data.relevant.items()))
    return f"sha256:{digest.hexdigest()}"
