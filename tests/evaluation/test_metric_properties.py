"""Property-based tests (hypothesis) of the retrieval metrics."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from embedtune.evaluation.metrics import (
    MAX_K,
    METRIC_NAMES,
    RECALL_KS,
    mean_metrics,
    query_metrics,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DOC_IDS = [f"d{i}" for i in range(30)]


@st.composite
def ranking_and_relevant(draw):
    ranked = draw(st.permutations(DOC_IDS))
    ranked = ranked[: draw(st.integers(1, len(ranked)))]
    relevant = draw(st.sets(st.sampled_from(DOC_IDS), min_size=1, max_size=12))
    return list(ranked), relevant


@FAST
@given(ranking_and_relevant())
def test_metrics_are_in_unit_interval(case):
    ranked, relevant = case
    scores = query_metrics(ranked, relevant)
    assert set(scores) == set(METRIC_NAMES)
    assert all(0.0 <= v <= 1.0 + 1e-12 for v in scores.values()), scores


@FAST
@given(ranking_and_relevant())
def test_recall_is_monotone_in_k(case):
    ranked, relevant = case
    scores = query_metrics(ranked, relevant)
    recalls = [scores[f"recall@{k}"] for k in sorted(RECALL_KS)]
    assert recalls == sorted(recalls)


@FAST
@given(ranking_and_relevant())
def test_perfect_ranking_scores_one(case):
    _, relevant = case
    relevant_first = sorted(relevant) + [d for d in DOC_IDS if d not in relevant]
    scores = query_metrics(relevant_first, relevant)
    for name in ("ndcg@10", "mrr@10", "map@100"):
        assert abs(scores[name] - 1.0) < 1e-12, (name, scores)
    for k in RECALL_KS:
        expected = min(k, len(relevant)) / len(relevant)
        assert abs(scores[f"recall@{k}"] - expected) < 1e-12


@FAST
@given(ranking_and_relevant())
def test_no_relevant_retrieved_scores_zero(case):
    ranked, relevant = case
    ranked = [d for d in ranked if d not in relevant]
    assume(ranked)
    assert all(v == 0.0 for v in query_metrics(ranked, relevant).values())


@FAST
@given(ranking_and_relevant(), st.data())
def test_moving_a_relevant_document_up_never_hurts(case, data):
    ranked, relevant = case
    positions = [i for i, d in enumerate(ranked[:MAX_K]) if d in relevant and i > 0]
    assume(positions)
    position = data.draw(st.sampled_from(positions))
    better = list(ranked)
    better[position - 1], better[position] = better[position], better[position - 1]
    before, after = query_metrics(ranked, relevant), query_metrics(better, relevant)
    for name in METRIC_NAMES:
        assert after[name] >= before[name] - 1e-12, name


@FAST
@given(st.lists(ranking_and_relevant(), min_size=1, max_size=6))
def test_mean_metrics_lie_between_the_per_query_extremes(cases):
    per_query = [query_metrics(r, rel) for r, rel in cases]
    means = mean_metrics(per_query)
    for name in METRIC_NAMES:
        values = [q[name] for q in per_query]
        assert min(values) - 1e-12 <= means[name] <= max(values) + 1e-12
