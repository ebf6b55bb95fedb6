"""Paired bootstrap of the nDCG@10 gain: pure numpy, no model."""

from __future__ import annotations

import numpy as np
import pytest

from embedtune.evaluation.bootstrap import (
    compare_tables,
    describe_comparison,
    paired_bootstrap,
    per_query_table,
)
from embedtune.evaluation.retrieval import DimensionResult, RetrievalEvaluation


def test_identical_scores_give_a_zero_interval():
    scores = np.random.default_rng(1).random(200)
    interval = paired_bootstrap(scores, scores)
    assert interval.delta == 0 and interval.low == 0 and interval.high == 0
    assert not interval.significant


def test_a_clear_gain_is_significant_and_the_interval_holds_the_mean():
    rng = np.random.default_rng(2)
    base = rng.random(300) * 0.6
    tuned = np.clip(base + 0.1 + rng.normal(0, 0.05, 300), 0, 1)
    interval = paired_bootstrap(base, tuned)
    assert 0 < interval.low < interval.delta < interval.high
    assert interval.significant
    assert interval.delta == pytest.approx(float((tuned - base).mean()))


def test_noise_is_not_significant_and_a_loss_is():
    rng = np.random.default_rng(3)
    base = rng.random(300)
    noise = paired_bootstrap(base, rng.permutation(base))
    assert noise.low < 0 < noise.high and not noise.significant
    loss = paired_bootstrap(base, base - 0.05)
    assert loss.high < 0 and loss.significant


def test_seeded_and_reproducible():
    rng = np.random.default_rng(4)
    base, tuned = rng.random(100), rng.random(100)
    assert paired_bootstrap(base, tuned, seed=7) == paired_bootstrap(base, tuned, seed=7)


def test_the_interval_matches_the_normal_approximation():
    rng = np.random.default_rng(5)
    diff = rng.normal(0.05, 0.2, 2000)
    interval = paired_bootstrap(np.zeros(2000), diff, resamples=4000)
    half = 1.96 * diff.std() / np.sqrt(diff.size)
    assert interval.low == pytest.approx(diff.mean() - half, abs=0.003)
    assert interval.high == pytest.approx(diff.mean() + half, abs=0.003)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match=r"equal length, got shapes \(2,\) and \(1,\)"):
        paired_bootstrap([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="no queries to bootstrap"):
        paired_bootstrap([], [])


def _evaluation(scores: dict[int, list[float]]) -> RetrievalEvaluation:
    by_dim = {}
    for dim, values in scores.items():
        per_query = {
            f"q{i}": {
                "ndcg@10": v,
                "mrr@10": v,
                "map@100": v,
                "recall@1": v,
                "recall@5": v,
                "recall@10": v,
                "recall@100": v,
            }
            for i, v in enumerate(values)
        }
        by_dim[dim] = DimensionResult({"ndcg@10": float(np.mean(values))}, per_query)
    return RetrievalEvaluation(list(scores), by_dim, 0.0)


def test_comparison_from_the_per_query_table():
    rng = np.random.default_rng(6)
    low = rng.random(150) * 0.5
    base = _evaluation({384: list(low), 64: list(low)})
    tuned = _evaluation({384: list(low + 0.2), 64: list(low)})
    table = per_query_table({"base": base, "finetuned": tuned})
    assert table["dims"] == [384, 64] and len(table["query_ids"]) == 150
    comparison = compare_tables(table)
    assert comparison["384"]["significant"] and comparison["384"]["ci95"][0] > 0
    assert comparison["384"]["ndcg@10_delta"] == pytest.approx(0.2)
    assert not comparison["64"]["significant"] and comparison["64"]["ci95"] == [0.0, 0.0]
    text = describe_comparison(comparison)
    assert "384 dims" in text and "significant win" in text and "not significant" in text


def test_models_on_different_queries_are_refused():
    base = _evaluation({384: [0.1, 0.2]})
    other = _evaluation({384: [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="finetuned: the test queries differ between models"):
        per_query_table({"base": base, "finetuned": other})
