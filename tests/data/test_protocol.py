"""Evaluation protocols: given / by-query / by-document, stated and enforced."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset

from embedtune.data.protocol import normalize_query
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.data.split import split_by_query
from embedtune.errors import DataError


def _beir(folder, *, train, test, corpus):
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as out:
        for doc_id, text in corpus.items():
            out.write(json.dumps({"_id": doc_id, "title": "", "text": text}) + "\n")
    queries = {q: t for q, t, _ in train + test}
    with (folder / "queries.jsonl").open("w") as out:
        for qid, text in queries.items():
            out.write(json.dumps({"_id": qid, "text": text}) + "\n")
    for name, rows in (("train.tsv", train), ("test.tsv", test)):
        lines = "".join(f"{q}\t{d}\t1\n" for q, _, d in rows)
        (folder / "qrels" / name).write_text("query-id\tcorpus-id\tscore\n" + lines)
    return folder


@pytest.fixture
def shared_corpus_beir(tmp_path):
    corpus = {f"d{i}": f"document number {i} about topic {i}" for i in range(6)}
    train = [
        ("t0", "what is topic zero", "d0"),
        ("t1", "explain topic one", "d1"),
        ("t2", "tell me about topic four", "d4"),  # d4 also answers a test query
        ("t3", "What is TOPIC four?", "d4"),  # a near-copy of the test query q4
    ]
    test = [("q4", "what is topic four", "d4"), ("q5", "what is topic five", "d5")]
    return _beir(tmp_path / "beir", train=train, test=test, corpus=corpus)


def test_given_keeps_shared_documents_but_never_a_test_query(shared_corpus_beir):
    data = load_retrieval_data(DataOptions(source=str(shared_corpus_beir)))
    assert data.protocol["split"] == "given"
    queries = set(data.train["query"])
    assert "tell me about topic four" in queries  # its document answers a test query: kept
    assert "What is TOPIC four?" not in queries  # a normalised copy of a test query: dropped
    assert data.protocol["test_queries_with_trained_documents"] == 1
    assert data.protocol["dropped_train_pairs"] == 1


def test_by_document_drops_pairs_on_test_documents(shared_corpus_beir):
    data = load_retrieval_data(DataOptions(source=str(shared_corpus_beir), split="by-document"))
    assert set(data.train["query"]) == {"what is topic zero", "explain topic one"}
    assert data.protocol["split"] == "by-document"
    assert data.protocol["test_queries_with_trained_documents"] == 0
    assert data.protocol["dropped_train_pairs"] == 2
    assert data.protocol["dropped_share"] == 0.5


def test_given_needs_a_source_with_a_split(tmp_path):
    rows = [{"query": f"question {i}?", "document": f"answer text {i}"} for i in range(20)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match="--split given needs a source with its own"):
        load_retrieval_data(DataOptions(source=str(path), split="given"))
    default = load_retrieval_data(DataOptions(source=str(path)))
    assert default.protocol["split"] == "by-document"


def test_by_query_keeps_near_duplicates_on_one_side_and_shares_documents():
    queries, documents = [], []
    for doc in range(30):
        text = f"chunk {doc} explains the retry policy of service {doc}"
        for variant in (
            "how does service {d} retry",
            "how does service {d} retry?",
            "what is service {d} called",
        ):
            queries.append(variant.format(d=doc))
            documents.append(text)
    data = split_by_query(Dataset.from_dict({"query": queries, "document": documents}), seed=3)
    train_keys = {normalize_query(q) for q in data.train["query"]}
    for text in data.queries.values():
        assert normalize_query(text) not in train_keys
        if "retry" in text:  # its near-duplicate sibling is never on the train side
            sibling = (
                text.replace(" failed", "")
                if "failed" in text
                else text.replace("retry", "retry failed")
            )
            assert normalize_query(sibling) not in train_keys
    trained_docs = set(data.train["document"])
    shared = sum(
        any(data.corpus[d] in trained_docs for d in docs) for docs in data.relevant.values()
    )
    assert shared > 0  # the corpus is shared: test documents are trained on through other queries
    assert len(data.corpus) == 30


def test_split_flag_is_validated_before_any_work():
    from embedtune.config import load_config
    from embedtune.errors import ConfigError

    with pytest.raises(ConfigError, match="split must be one of"):
        load_config(split="random")
