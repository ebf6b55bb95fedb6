"""The deployment matrix on the legal fixture with the real base model (max_seq_length 32)."""

from __future__ import annotations

import pytest

from embedtune.data.retrieval_data import RetrievalData
from embedtune.deployment.encoded import encode_task, evaluate_encoded
from embedtune.deployment.matrix import deployment_matrix
from embedtune.evaluation.retrieval import evaluate_retrieval

DIMS = [384, 128, 64]


@pytest.fixture(scope="module")
def matrix(legal, legal_encoded):
    # model=None: the matrix works from the one encoding pass alone
    return deployment_matrix(None, legal, DIMS, encoded=legal_encoded)  # type: ignore[arg-type]


def _cell(matrix, dim, precision):
    return next(c for c in matrix["cells"] if (c["dim"], c["precision"]) == (dim, precision))


def test_evaluate_encoded_is_evaluate_retrieval(short_model, legal):
    """The hook that spares the workflow a second encoding gives the evaluator's numbers."""
    query_ids = sorted(legal.queries)[:20]
    relevant = {q: legal.relevant[q] for q in query_ids}
    needed = set().union(*relevant.values())
    corpus = {d: t for d, t in legal.corpus.items() if d in needed or d < "chunk-15"}
    small = RetrievalData(legal.train, {q: legal.queries[q] for q in query_ids}, corpus, relevant)
    expected = evaluate_retrieval(short_model, small, DIMS)
    ours = evaluate_encoded(encode_task(short_model, small), small, DIMS)
    assert ours.to_dict()["per_query"] == expected.to_dict()["per_query"]
    assert len(corpus) > 40
    with pytest.raises(ValueError, match="not this data's"):
        evaluate_retrieval(None, small, DIMS, encoded=encode_task(short_model, legal))
    with pytest.raises(ValueError, match="needs a model or an encoding"):
        evaluate_retrieval(None, small, DIMS)


def test_float32_cells_are_the_evaluators_numbers(matrix, legal, legal_encoded):
    evaluation = evaluate_encoded(legal_encoded, legal, DIMS)
    for dim in DIMS:
        cell = _cell(matrix, dim, "float32")
        for metric in ("ndcg@10", "recall@10", "recall@100"):
            assert cell[metric] == round(evaluation.by_dim[dim].metrics[metric], 6)
    reference = _cell(matrix, 384, "float32")["vs_reference"]["ndcg@10"]
    assert reference == {"ndcg@10_delta": 0.0, "ci95": [0.0, 0.0], "significant": False}


def test_every_cell_bytes_and_intervals(matrix):
    assert len(matrix["cells"]) == 9 and matrix["test_queries"] == 60
    assert matrix["reference"] == {"dim": 384, "precision": "float32"}
    assert {
        c["precision"]: c["bytes_per_document"] for c in matrix["cells"] if c["dim"] == 384
    } == {
        "float32": 1536,
        "int8": 384,
        "binary": 48,
    }
    for cell in matrix["cells"]:
        entry = cell["vs_reference"]["ndcg@10"]
        ref = _cell(matrix, 384, "float32")["ndcg@10"]
        assert entry["ndcg@10_delta"] == pytest.approx(cell["ndcg@10"] - ref, abs=1e-5)
        assert entry["ci95"][0] <= entry["ndcg@10_delta"] <= entry["ci95"][1]
        assert set(cell["vs_reference"]) == {"ndcg@10", "recall@10", "recall@100"}
        assert cell["search_ms_per_query"] > 0


def test_binary_with_rescoring_keeps_most_of_float32(matrix):
    float32, int8 = _cell(matrix, 384, "float32"), _cell(matrix, 384, "int8")
    binary = _cell(matrix, 384, "binary")
    assert binary["ndcg@10"] >= 0.9 * float32["ndcg@10"]
    assert abs(int8["ndcg@10"] - float32["ndcg@10"]) <= 0.02
    assert binary["retained"] == pytest.approx(binary["ndcg@10"] / float32["ndcg@10"], abs=1e-4)


def test_pareto_front_and_recommendation(matrix):
    front = [c for c in matrix["cells"] if c["pareto"]]
    cheapest = min(matrix["cells"], key=lambda c: c["bytes_per_document"])
    assert cheapest in front  # nothing is cheaper
    best = max(c["ndcg@10"] for c in matrix["cells"])
    assert any(c["ndcg@10"] == best for c in front)
    recommended = matrix["recommended"]
    assert recommended["bytes_per_document"] <= matrix["best"]["bytes_per_document"]
    cell = _cell(matrix, recommended["dim"], recommended["precision"])
    assert cell["pareto"]
    assert best - cell["ndcg@10"] <= 0.01 or "not significantly" in recommended["reason"]
