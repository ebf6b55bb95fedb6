"""BM25 with bm25s: exact keywords, stemming, unmatched documents, identical ids, and the
evaluator's metric structure."""

from __future__ import annotations

import sys

import pytest
from datasets import Dataset

from embedtune.baselines.bm25 import bm25_rankings, build_index, evaluate_bm25
from embedtune.baselines.rankings import NO_DIM, evaluated_query_ids
from embedtune.data.retrieval_data import RetrievalData
from embedtune.errors import ConfigError
from embedtune.evaluation.bootstrap import compare_tables, per_query_table
from embedtune.evaluation.metrics import METRIC_NAMES, query_metrics

EMPTY_TRAIN = Dataset.from_dict({"query": [], "document": []})


def _with_keyword_document(legal: RetrievalData) -> RetrievalData:
    """The legal fixture plus one chunk holding a word no other chunk has, and a query for it."""
    corpus = dict(legal.corpus)
    corpus["chunk-kw"] = "The Quarrington covenant binds the lessee to repair the roof."
    queries = {"q-kw": "What does the Quarrington covenant require?"}
    return RetrievalData(EMPTY_TRAIN, queries, corpus, {"q-kw": {"chunk-kw"}})


def test_exact_keyword_document_comes_first(legal):
    data = _with_keyword_document(legal)
    assert not any("quarrington" in text.lower() for text in legal.corpus.values())
    evaluation, index, ranked = evaluate_bm25(data)
    assert ranked[0][0] == "chunk-kw"
    assert evaluation.dims == [NO_DIM]
    assert evaluation.by_dim[NO_DIM].per_query["q-kw"]["ndcg@10"] == 1.0
    assert index.describe()["stemmer"].startswith("snowball english")
    assert index.describe()["stopwords"] == "bm25s English list"


def test_stemming_matches_other_inflections_and_can_be_turned_off():
    corpus = {"d1": "The court appealed the ruling.", "d2": "Payment of the invoice was late."}
    stemmed = build_index(corpus, stem=True)
    plain = build_index(corpus, stem=False)
    assert bm25_rankings(stemmed, ["appeals"]) == [["d1"]]
    assert bm25_rankings(plain, ["appeals"]) == [[]]  # no shared term without stemming
    assert plain.describe()["stemmer"] == "none"


def test_unmatched_documents_and_stopword_queries_rank_nothing():
    corpus = {
        "d1": "lease of the warehouse",
        "d2": "sale of goods",
        "d3": "warehouse lease renewal",
    }
    index = build_index(corpus)
    ranked = bm25_rankings(index, ["warehouse lease", "the of and", "spaceship"])
    assert sorted(ranked[0]) == ["d1", "d3"]  # d2 shares no term: not retrieved
    assert ranked[1] == [] and ranked[2] == []


def test_identical_ids_are_skipped():
    corpus = {"a": "tenant deposit refund", "b": "tenant deposit refund rules", "c": "zoning"}
    index = build_index(corpus)
    assert bm25_rankings(index, ["tenant deposit refund"], exclude_ids=["a"]) == [["b"]]


def test_metrics_are_the_evaluators_and_line_up_with_a_dense_evaluation(legal):
    evaluation, _, ranked = evaluate_bm25(legal, dims=[384, 64])
    query_ids = evaluated_query_ids(legal)
    assert evaluation.dims == [384, 64]
    per_query = evaluation.by_dim[384].per_query
    assert set(per_query) == set(query_ids)
    for qid, ranking in zip(query_ids, ranked):
        assert per_query[qid] == query_metrics(ranking, legal.relevant[qid])
    assert set(evaluation.by_dim[64].metrics) == set(METRIC_NAMES)
    # BM25 against itself through the bootstrap: a zero difference
    table = per_query_table({"bm25": evaluation, "again": evaluate_bm25(legal, dims=[384, 64])[0]})
    entry = compare_tables(table, base="bm25", candidate="again")["384"]
    assert entry["ndcg@10_delta"] == 0.0 and not entry["significant"]


def test_missing_bm25s_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "bm25s", None)  # as if not installed: import fails
    with pytest.raises(ConfigError, match=r"needs the bm25s package.*pip install bm25s"):
        build_index({"d": "text"})


def test_empty_corpus_is_refused():
    with pytest.raises(ConfigError, match="corpus is empty"):
        build_index({})


def test_bm25s_debug_lines_follow_the_application_level():
    """bm25s sets its logger to DEBUG at import: its debug lines must not reach a handler of an
    application logging at WARNING."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler()  # level NOTSET, like logging.basicConfig's
    handler.emit = records.append  # type: ignore[method-assign]
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    try:
        build_index({"d1": "lease", "d2": "sale"})
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert not [r for r in records if r.name.startswith("bm25s")]
