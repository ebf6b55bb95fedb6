"""One RetrievalEvaluator per run: built from the config, it scores the test queries, the
checkpoints inside the trainer and the guard with the same dims, prompts, search and id rule."""

from __future__ import annotations

from embedtune.config import load_config
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.trainer_evaluator import MEAN_NDCG, MatryoshkaRetrievalEvaluator
from embedtune.guard.task import evaluate_on


def test_the_evaluator_carries_every_evaluation_setting_of_the_config(tmp_path):
    config = load_config(
        dims=[384, 64],
        query_prompt="query: ",
        document_prompt="passage: ",
        eval_batch_size=7,
        index="exact",
        ignore_identical_ids=True,
        output=str(tmp_path),
    )
    evaluator = RetrievalEvaluator.from_config(config)
    assert evaluator == RetrievalEvaluator(
        dims=(384, 64),
        query_prompt="query: ",
        document_prompt="passage: ",
        batch_size=7,
        index="exact",
        ignore_identical_ids=True,
    )


def test_checkpoints_the_guard_and_the_test_queries_are_scored_alike(
    tmp_path, short_model, legal, legal_encoded
):
    """The trainer's checkpoint evaluator and the guard score exactly what the run's evaluator
    scores on the same data (same search: FAISS flat here, not the default)."""
    config = load_config(dims=[384, 64], index="faiss-flat", output=str(tmp_path))
    evaluator = RetrievalEvaluator.from_config(config)
    test = evaluator.evaluate(None, legal, encoded=legal_encoded)
    assert test.search["index"] == "faiss-flat"
    in_trainer = MatryoshkaRetrievalEvaluator(legal, evaluator, best_dim=None)(short_model)
    for dim in (384, 64):
        assert in_trainer[f"retrieval_dim_{dim}_ndcg@10"] == test.by_dim[dim].metrics["ndcg@10"]
    mean = sum(test.by_dim[d].metrics["ndcg@10"] for d in (384, 64)) / 2
    assert in_trainer[f"retrieval_{MEAN_NDCG}"] == mean
    guard = evaluate_on(short_model, legal, config)
    assert guard.metrics() == test.metrics()
    assert guard.search["index"] == "faiss-flat"
