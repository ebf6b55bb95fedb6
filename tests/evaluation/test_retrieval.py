"""Our one-encoding Matryoshka evaluation equals Sentence Transformers' evaluator per dimension."""

from __future__ import annotations

import pytest
from datasets import Dataset
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

from embedtune.data.beir import load_beir
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.metrics import query_metrics
from embedtune.evaluation.retrieval import RetrievalEvaluation, evaluate_retrieval
from tests.conftest import LEGAL

DIMS = [384, 256, 128, 64]
DISTRACTORS = 90  # besides the relevant chunks: encoding documents is the cost of this test


@pytest.fixture(scope="module")
def small_task() -> RetrievalData:
    """The legal slice's 60 test queries against their chunks and 90 other chunks."""
    full = load_beir(LEGAL)
    needed = set().union(*full.relevant.values())
    others = sorted(set(full.corpus) - needed)[:DISTRACTORS]
    return RetrievalData(
        Dataset.from_dict({"query": [], "document": []}),
        full.queries,
        {d: full.corpus[d] for d in sorted(needed | set(others))},
        full.relevant,
    )


@pytest.fixture(scope="module")
def ours(base_model, small_task) -> RetrievalEvaluation:
    return evaluate_retrieval(base_model, small_task, DIMS)


@pytest.mark.slow  # four reference evaluations: ~20 s on 2 cores
def test_metrics_match_sentence_transformers_at_every_dim(base_model, small_task, ours):
    assert len(small_task.queries) == 60 and len(small_task.corpus) > DISTRACTORS
    for dim in DIMS:
        reference = InformationRetrievalEvaluator(
            small_task.queries,
            small_task.corpus,
            small_task.relevant,
            mrr_at_k=[10],
            ndcg_at_k=[10],
            accuracy_at_k=[1],
            precision_recall_at_k=[1, 5, 10, 100],
            map_at_k=[100],
            truncate_dim=dim,
            write_csv=False,
        )(base_model)
        theirs = {k.split("_", 1)[1]: v for k, v in reference.items()}
        mine = ours.by_dim[dim].metrics
        for metric in (
            "ndcg@10",
            "mrr@10",
            "map@100",
            "recall@1",
            "recall@5",
            "recall@10",
            "recall@100",
        ):
            assert mine[metric] == pytest.approx(theirs[metric], abs=1e-6), (dim, metric)
    # The numbers are not trivially equal across dims (slicing really happens).
    assert ours.by_dim[384].metrics != ours.by_dim[64].metrics


def test_direction_is_query_to_document(small_task, ours):
    # One result per test query, none per document: queries retrieve documents.
    assert set(ours.by_dim[384].per_query) == set(small_task.queries)


def test_query_metrics_by_hand():
    scores = query_metrics(["x", "a", "y", "b"], {"a", "b"})
    assert scores["mrr@10"] == 0.5
    assert scores["recall@1"] == 0.0 and scores["recall@5"] == 1.0
    assert scores["map@100"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    ideal = 1 + 1 / 1.5849625007211563
    assert scores["ndcg@10"] == pytest.approx(
        (1 / 1.5849625007211563 + 1 / 2.321928094887362) / ideal
    )


def test_ranking_in_query_blocks_matches_one_block():
    import torch

    from embedtune.evaluation.retrieval import rank_documents

    generator = torch.Generator().manual_seed(0)
    queries, corpus = (
        torch.randn(50, 16, generator=generator),
        torch.randn(300, 16, generator=generator),
    )
    ids = [f"d{i}" for i in range(300)]
    assert rank_documents(queries, corpus, ids, 8, query_block=7) == rank_documents(
        queries, corpus, ids, 8
    )
