"""The one shape every data source ends in: training pairs plus a held-out retrieval task."""

from __future__ import annotations

from dataclasses import dataclass, field

from datasets import Dataset

# Column names of training pairs inside embedtune. Sentence Transformers' losses read columns by
# position: (anchor=query, positive=document[, negative=document]).
QUERY, DOCUMENT, NEGATIVE = "query", "document", "negative"


@dataclass
class RetrievalData:
    """Training pairs and an evaluation task (test queries retrieving from a corpus of documents).

    `relevant[qid]` is every corpus id that answers the query. No test query (nor a near-copy of
    it) is a training query; whether training pairs may share documents with the test queries is
    the protocol's choice, recorded in `protocol`.
    """

    train: Dataset  # columns: query, document[, negative]
    queries: dict[str, str]  # test query id -> text
    corpus: dict[str, str]  # document id -> text (train and test documents)
    relevant: dict[str, set[str]]  # test query id -> relevant document ids
    report: dict[str, int] = field(default_factory=dict)  # counts of dropped/skipped rows, etc.
    # The evaluation protocol that made this split: {"split": "given"|"by-query"|"by-document",
    # "description": ..., counts}; see embedtune.data.protocol.
    protocol: dict = field(default_factory=dict)
    layout: str = ""  # how the source's columns were read (beir, distilabel, tutorial, ...)

    def summary(self) -> dict[str, int]:
        """Sizes written to results.json under "data"."""
        return {
            "train_pairs": len(self.train),
            "test_queries": len(self.queries),
            "corpus": len(self.corpus),
            **self.report,
        }

    def test_set(self) -> dict:
        """The evaluation task as plain JSON-able data (for artifacts and files)."""
        return {
            "queries": self.queries,
            "corpus": self.corpus,
            "relevant": {q: sorted(docs) for q, docs in self.relevant.items()},
            "report": self.report,
            "protocol": self.protocol,
            "layout": self.layout,
        }

    @classmethod
    def from_parts(cls, train: Dataset, test_set: dict) -> RetrievalData:
        return cls(
            train=train,
            queries=dict(test_set["queries"]),
            corpus=dict(test_set["corpus"]),
            relevant={q: set(docs) for q, docs in test_set["relevant"].items()},
            report=dict(test_set.get("report", {})),
            protocol=dict(test_set.get("protocol", {})),
            layout=test_set.get("layout", ""),
        )

    def negative_columns(self) -> list[str]:
        return negative_columns(self.train)


def negative_columns(train: Dataset) -> list[str]:
    """`negative`, or `negative_1` ... `negative_n` when several negatives per pair were mined."""
    return [c for c in train.column_names if c == NEGATIVE or c.startswith(f"{NEGATIVE}_")]
