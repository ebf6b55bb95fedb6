"""per_query.json keeps the texts; the per-query view counts and ranks queries correctly."""

from __future__ import annotations

from datasets import Dataset

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import DimensionResult, RetrievalEvaluation
from embedtune.reporting.per_query import per_query_file, per_query_view

METRICS = ("ndcg@10", "mrr@10", "map@100", "recall@1", "recall@5", "recall@10", "recall@100")


def _evaluation(scores: list[float]) -> RetrievalEvaluation:
    per_query = {f"q{i}": {m: v for m in METRICS} for i, v in enumerate(scores)}
    return RetrievalEvaluation([64], {64: DimensionResult({}, per_query)}, 0.0)


def _data(n: int) -> RetrievalData:
    return RetrievalData(
        train=Dataset.from_dict({"query": ["x"], "document": ["y"]}),
        queries={f"q{i}": f"question {i}?" for i in range(n)},
        corpus={f"d{i}": f"answer {i} " + "word " * 200 for i in range(n)} | {"other": "unused"},
        relevant={f"q{i}": {f"d{i}"} for i in range(n)},
    )


def test_per_query_file_keeps_texts_of_the_queries_and_their_documents():
    table = per_query_file(
        {"base": _evaluation([0.5, 1.0]), "finetuned": _evaluation([1, 1])}, _data(2)
    )
    assert table["queries"] == {"q0": "question 0?", "q1": "question 1?"}
    assert table["relevant"] == {"q0": ["d0"], "q1": ["d1"]}
    assert set(table["documents"]) == {"d0", "d1"}  # only relevant documents, not the corpus
    assert table["models"]["finetuned"]["64"]["ndcg@10"] == [1, 1]


def test_view_counts_improved_unchanged_worse_and_ranks_examples():
    base = [0.5, 0.5, 0.5, 1.0, 0.2, 0.3]
    tuned = [1.0, 0.5, 0.0, 0.5, 0.9, 0.3]
    table = per_query_file({"base": _evaluation(base), "finetuned": _evaluation(tuned)}, _data(6))
    view = per_query_view(table, top=2, max_chars=40)
    dim = view["dims"]["64"]
    assert (dim["improved"], dim["unchanged"], dim["worse"]) == (2, 2, 2)
    assert [e["query_id"] for e in dim["worst"]] == ["q2", "q3"]  # -0.5 then -0.5, by id
    assert [e["query_id"] for e in dim["best"]] == ["q4", "q0"]  # +0.7 then +0.5
    worst = dim["worst"][0]
    assert worst["query"] == "question 2?" and worst["delta"] == -0.5
    assert worst["reference_score"] == 0.5 and worst["score"] == 0.0
    assert len(worst["expected"][0]) <= 40 and worst["expected"][0].endswith("…")
    assert view["reference"] == "base" and view["candidate"] == "finetuned"


def test_view_of_one_model_lists_its_lowest_and_highest_queries():
    table = per_query_file({"model": _evaluation([0.3, 0.0, 1.0])}, _data(3))
    view = per_query_view(table, top=1)
    dim = view["dims"]["64"]
    assert "improved" not in dim and view["reference"] is None
    assert dim["worst"][0]["query_id"] == "q1" and dim["best"][0]["query_id"] == "q2"
    assert dim["worst"][0]["delta"] is None
