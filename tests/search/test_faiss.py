"""FAISS flat ranks like exact search; HNSW reports its recall@100; auto picks by corpus size."""

from __future__ import annotations

import numpy as np
import pytest

from embedtune.evaluation.retrieval import evaluate_retrieval, rank_documents
from embedtune.results_schema import SearchBlock, _check
from embedtune.search import AUTO_FAISS_DOCUMENTS, CorpusIndex, resolve_index
from embedtune.search.report import results_search_block

DIMS = [384, 64]


def test_faiss_flat_ranks_and_scores_like_exact(legal, legal_encoded):
    encoded = legal_encoded
    for dim in DIMS:
        exact = rank_documents(encoded.queries, encoded.corpus, encoded.corpus_ids, dim)
        flat = rank_documents(
            encoded.queries, encoded.corpus, encoded.corpus_ids, dim, index="faiss-flat"
        )
        assert [row[:10] for row in flat] == [row[:10] for row in exact]
        assert np.mean([a == b for a, b in zip(flat, exact)]) > 0.9  # ties at 1e-7 may swap
    by_exact = evaluate_retrieval(None, legal, DIMS, encoded=encoded)
    by_flat = evaluate_retrieval(None, legal, DIMS, encoded=encoded, index="faiss-flat")
    for dim in DIMS:
        assert by_flat.by_dim[dim].metrics["ndcg@10"] == by_exact.by_dim[dim].metrics["ndcg@10"]
    assert by_exact.search == {
        "index": "exact",
        "requested": "exact",
        "corpus": 360,
        "storage": "float32",
    }
    assert by_flat.search["index"] == "faiss-flat"


def test_hnsw_measures_and_reports_recall_at_100(legal, legal_encoded):
    evaluation = evaluate_retrieval(None, legal, DIMS, encoded=legal_encoded, index="faiss-hnsw")
    info = evaluation.search
    assert info["index"] == "faiss-hnsw" and info["hnsw"]["efSearch"] >= 100
    assert set(info["recall@100"]) == {"384", "64"}
    assert all(0.9 <= value <= 1.0 for value in info["recall@100"].values())
    assert info["recall_queries"] == len(legal_encoded.query_ids)
    block = results_search_block({"model": info})["search"]
    assert block["recall@100"] == {"model": info["recall@100"]}
    _check(block, SearchBlock, "search", "results.json")  # the results.json schema accepts it


def test_hnsw_recall_against_exact_is_the_share_of_exact_neighbours_found():
    rng = np.random.default_rng(0)
    corpus = rng.standard_normal((3000, 16)).astype(np.float32)
    index = CorpusIndex(corpus, kind="faiss-hnsw")
    queries = corpus[:50] + 0.01 * rng.standard_normal((50, 16)).astype(np.float32)
    found = index.search(queries, 100)
    exact = index.search(queries, 100, exact=True)
    expected = np.mean(
        [len(set(a) & set(b)) / 100 for a, b in zip(found.positions, exact.positions)]
    )
    assert index.recall_against_exact(queries, found) == pytest.approx(expected)
    assert found.positions[:, 0].tolist() == list(range(50))  # its own near-copy comes first


def test_auto_is_exact_below_the_threshold_and_faiss_flat_above():
    assert resolve_index("auto", AUTO_FAISS_DOCUMENTS - 1) == "exact"
    assert resolve_index("auto", AUTO_FAISS_DOCUMENTS) == "faiss-flat"
    assert resolve_index("faiss-hnsw", 10) == "faiss-hnsw"


def test_an_evaluate_run_records_its_search_in_results_json(tmp_path):
    from embedtune.config import default_base_model, load_config
    from embedtune.workflow import run_evaluate
    from tests.conftest import LEGAL
    from tests.reporting.results_helpers import assert_valid_results

    config = load_config(
        data=str(LEGAL),
        output=str(tmp_path / "hnsw"),
        max_seq_length=32,
        max_test_queries=20,
        dims=[384, 64],
        baselines=False,
        index="faiss-hnsw",
    )
    run_evaluate(default_base_model(), config)
    saved = assert_valid_results(tmp_path / "hnsw" / "results.json")
    search = saved["search"]
    assert search["index"] == search["requested"] == "faiss-hnsw"
    assert search["corpus"] == 360 and search["storage"] == "float32"
    assert set(search["recall@100"]["model"]) == {"384", "64"}
