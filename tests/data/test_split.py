"""Split by document: no test document (or its queries) in training; BEIR folders as given."""

from __future__ import annotations

from datasets import Dataset

from embedtune.data.beir import load_beir
from embedtune.data.default_corpus import default_pairs
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.data.split import split_by_document
from tests.conftest import LEGAL


def _assert_no_leak(data):
    train_docs, train_queries = set(data.train["document"]), set(data.train["query"])
    test_docs = {data.corpus[d] for docs in data.relevant.values() for d in docs}
    assert not train_docs & test_docs
    assert not train_queries & set(data.queries.values())
    for docs in data.relevant.values():
        assert docs and all(d in data.corpus for d in docs)


def test_split_by_document_keeps_shared_queries_on_one_side():
    # q-shared answers two documents: both must land on the same side.
    rows = {
        "query": ["q-shared", "q-shared", "q1", "q2", "q3", "q4", "q5", "q6"],
        "document": ["A", "B", "B", "C", "D", "E", "F", "G"],
    }
    for seed in range(20):
        data = split_by_document(Dataset.from_dict(rows), test_fraction=0.3, seed=seed)
        _assert_no_leak(data)
        assert len(data.corpus) == 7
        for qid, text in data.queries.items():
            if text == "q-shared":
                assert len(data.relevant[qid]) == 2


def test_split_is_seeded():
    pairs = default_pairs(max_chunks=80)
    a = split_by_document(pairs, seed=1)
    b = split_by_document(pairs, seed=1)
    c = split_by_document(pairs, seed=2)
    assert a.queries == b.queries and a.train["query"] == b.train["query"]
    assert a.queries != c.queries


def test_default_data_split_does_not_leak():
    data = load_retrieval_data(DataOptions())
    _assert_no_leak(data)
    assert len(data.train) > 300 and len(data.queries) > 20
    # Queries retrieve documents: queries are short, documents long.
    assert max(len(q.split()) for q in data.train["query"]) < 20


def test_legal_beir_folder_trains_on_train_qrels_only():
    data = load_beir(LEGAL)
    _assert_no_leak(data)
    # The slice in tests/fixtures (see its README): 60 test queries, 360 chunks, 240 train qrels.
    assert len(data.queries) == 60 and len(data.corpus) == 360
    assert len(data.train) == 240
