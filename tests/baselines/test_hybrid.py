"""Hybrid = reciprocal rank fusion of BM25 and the dense model; the results.json baselines block."""

from __future__ import annotations

import pytest

from embedtune.baselines.block import baseline_block, baseline_verdict, evaluate_baselines
from embedtune.baselines.bm25 import evaluate_bm25
from embedtune.baselines.hybrid import RRF_K, evaluate_hybrid, reciprocal_rank_fusion
from embedtune.baselines.rankings import evaluated_query_ids
from embedtune.deployment.encoded import dense_rankings, evaluate_encoded
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.results_schema import comparison_entry

DIMS = [384, 128]


def test_rrf_by_hand():
    sparse, dense = ["a", "b", "c"], ["c", "d", "a"]
    fused = reciprocal_rank_fusion(sparse, dense)
    # a: 1/61 + 1/63, c: 1/63 + 1/61 (tie, by id), b: 1/62, d: 1/62 (tie, by id)
    assert fused == ["a", "c", "b", "d"]
    assert reciprocal_rank_fusion(sparse, dense, depth=1) == ["a", "c"]
    assert reciprocal_rank_fusion(["x"], [], k=0) == ["x"]
    with pytest.raises(ValueError, match="RRF k must be >= 0"):
        reciprocal_rank_fusion(sparse, dense, k=-1)


@pytest.fixture(scope="module")
def dense_evaluation(legal_encoded, legal) -> RetrievalEvaluation:
    # = evaluate_retrieval(short_model, legal, DIMS) (tests/deployment/test_matrix.py checks it)
    return evaluate_encoded(legal_encoded, legal, DIMS)


def test_hybrid_ranks_are_a_fusion_of_both(legal, legal_encoded):
    query_ids = evaluated_query_ids(legal)
    _, _, sparse = evaluate_bm25(legal)
    dense = dense_rankings(legal_encoded, DIMS)
    evaluation, fused = evaluate_hybrid(legal, query_ids, sparse, dense)
    assert evaluation.dims == DIMS
    differs_from_both = 0
    for s, d, f in zip(sparse, dense[384], fused[384]):
        scores = {doc: sum(1 / (RRF_K + r.index(doc) + 1) for r in (s, d) if doc in r) for doc in f}
        assert all(doc in s or doc in d for doc in f)
        assert [scores[doc] for doc in f] == sorted(scores.values(), reverse=True)
        differs_from_both += f[:10] != s[:10] and f[:10] != d[:10]
    assert differs_from_both > 0


def test_baseline_block(legal, legal_encoded, dense_evaluation):
    block = baseline_block(legal, dense_evaluation, encoded=legal_encoded, verdict_dim=384)
    bm25 = block["bm25"]["metrics"]["ndcg@10"]
    dense = dense_evaluation.by_dim[384].metrics["ndcg@10"]
    assert block["vs_bm25"]["384"]["ndcg@10_delta"] == pytest.approx(dense - bm25, abs=1e-5)
    assert set(block["hybrid"]["metrics"]) == {"384", "128"}
    assert set(block["hybrid"]["vs_dense"]) == {"384", "128"}
    assert block["bm25"]["settings"]["stemmer"].startswith("snowball english")
    verdict = block["verdict"]
    assert verdict["dim"] == 384 and verdict["outcome"] in {"win", "tie", "loss"}
    assert "BM25" in verdict["message"] and "95% CI" in verdict["message"]
    # the same block without embeddings: BM25 only
    alone = baseline_block(
        legal, dense_evaluation, baselines=evaluate_baselines(legal, DIMS), verdict_dim=128
    )
    assert alone["hybrid"] is None and alone["vs_bm25"] == block["vs_bm25"]
    with pytest.raises(ValueError, match="verdict_dim 64 is not one of the evaluated dims"):
        baseline_block(
            legal, dense_evaluation, baselines=evaluate_baselines(legal, DIMS), verdict_dim=64
        )


def test_verdict_sentences():
    win = {"384": comparison_entry(0.12, 0.08, 0.16)}
    tie = {"384": comparison_entry(0.01, -0.02, 0.04)}
    loss = {"384": comparison_entry(-0.1, -0.15, -0.05)}
    message = baseline_verdict(win, None, 384)["message"]
    assert message == (
        "The finetuned model beats BM25 by +0.120 ndcg@10 [95% CI +0.080, +0.160] at 384 dims."
    )
    assert baseline_verdict(tie, None, 384)["message"].startswith(
        "BM25 is as good: consider hybrid"
    )
    assert baseline_verdict(loss, None, 384, dense_label="model")["outcome"] == "loss"
    with_hybrid = baseline_verdict(win, win, 384)["message"]
    assert "Hybrid (BM25 + finetuned, RRF) beats the finetuned model alone by +0.120" in with_hybrid
