"""Baselines and the deployment matrix in real runs: `run_evaluate` on the legal fixture with the
real base model (max_seq_length 32, 20 test queries)."""

from __future__ import annotations

import json

import pytest

from embedtune.config import default_base_model, load_config
from embedtune.reporting.html_report import render_html_report
from embedtune.reporting.summary import cli_summary
from embedtune.workflow import run_evaluate
from tests.conftest import LEGAL
from tests.reporting.results_helpers import assert_valid_results

QUERIES = 20


def _run(tmp_path, name: str, **settings):
    config = load_config(
        data=str(LEGAL),
        output=str(tmp_path / name),
        max_seq_length=32,
        max_test_queries=QUERIES,
        dims=[384, 128],
        **settings,
    )
    return run_evaluate(default_base_model(), config), tmp_path / name


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """An evaluate run with every default: baselines on, no deployment matrix."""
    return _run(tmp_path_factory.mktemp("runs"), "default")


def test_evaluate_writes_a_valid_baselines_block(default_run):
    results, out = default_run
    saved = assert_valid_results(out / "results.json")
    block = saved["baselines"]
    assert block["dense"] == "model" and block["test_queries"] == QUERIES
    assert set(block["vs_bm25"]) == set(block["hybrid"]["metrics"]) == {"384", "128"}
    assert block["verdict"]["dim"] == 384  # best_dim: the full dimension
    assert "BM25" in block["verdict"]["message"]
    assert block["bm25"]["settings"]["stemmer"].startswith("snowball english")
    # the interval is dense - BM25 over the same queries
    delta = block["vs_bm25"]["384"]["ndcg@10_delta"]
    model, bm25 = saved["model"]["384"]["ndcg@10"], block["bm25"]["metrics"]["ndcg@10"]
    assert delta == pytest.approx(model - bm25, abs=1e-5)
    assert results["baselines"] == block
    assert "deployment" not in saved and not (out / "deployment.json").exists()


def test_per_query_json_holds_bm25_and_hybrid(default_run):
    results, out = default_run
    table = json.loads((out / "per_query.json").read_text(encoding="utf-8"))
    assert set(table["models"]) == {"model", "bm25", "hybrid"}
    bm25 = table["models"]["bm25"]
    assert len(bm25["384"]["ndcg@10"]) == len(table["query_ids"]) == QUERIES
    assert bm25["384"] == bm25["128"]  # BM25 has no dimension
    mean = sum(bm25["384"]["ndcg@10"]) / QUERIES
    assert mean == pytest.approx(results["baselines"]["bm25"]["metrics"]["ndcg@10"], abs=1e-5)
    assert results["per_query"]["candidate"] == "model"


def test_report_and_summary_carry_the_verdict(default_run):
    results, _ = default_run
    message = results["baselines"]["verdict"]["message"]
    assert cli_summary(results)["baseline_verdict"] == message
    page = render_html_report(results)
    assert "Baselines: BM25 and hybrid" in page and "bm25s" in page


def test_no_baselines_leaves_them_out(tmp_path):
    results, out = _run(tmp_path, "plain", baselines=False)
    saved = assert_valid_results(out / "results.json")
    assert "baselines" not in saved and "baselines" not in results
    table = json.loads((out / "per_query.json").read_text(encoding="utf-8"))
    assert set(table["models"]) == {"model"}
    assert "baseline_verdict" not in cli_summary(results)


def test_deployment_writes_deployment_json(tmp_path):
    results, out = _run(tmp_path, "deploy", deployment=True, baselines=False)
    saved = assert_valid_results(out / "results.json")
    matrix = json.loads((out / "deployment.json").read_text(encoding="utf-8"))
    assert matrix["model"] == "model" and matrix["test_queries"] == QUERIES
    assert len(matrix["cells"]) == 6 and matrix["dims"] == [384, 128]
    float32 = next(c for c in matrix["cells"] if (c["dim"], c["precision"]) == (384, "float32"))
    assert float32["ndcg@10"] == pytest.approx(saved["model"]["384"]["ndcg@10"], abs=1e-6)
    summary = saved["deployment"]
    assert summary["file"] == "deployment.json" and summary["cells"] == 6
    assert summary["recommended"] == matrix["recommended"]
    assert cli_summary(results)["outputs"]["deployment"] == str(out / "deployment.json")
    # a later run without the matrix does not leave this one's deployment.json beside it
    config = load_config(
        data=str(LEGAL),
        output=str(out),
        max_seq_length=32,
        max_test_queries=QUERIES,
        dims=[384, 128],
        baselines=False,
    )
    again = run_evaluate(default_base_model(), config)
    assert "deployment" not in again and not (out / "deployment.json").exists()
