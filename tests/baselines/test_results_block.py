"""The optional "baselines" and "deployment" blocks of results.json: schema, chart, report and CLI
summary, on sample results (no model)."""

from __future__ import annotations

import copy

import pytest

from embedtune.reporting.chart import BM25_LABEL, build_figure
from embedtune.reporting.html_report import render_html_report
from embedtune.reporting.summary import cli_summary, metadata_summary
from embedtune.results_schema import ResultsError, comparison_entry, validate_results
from tests.reporting.results_helpers import DIMS, _scores, evaluate_results, finetune_results

BM25_NDCG = 0.7236
VERDICT = "BM25 beats the finetuned model at 384 dims: consider BM25 or hybrid."


def _block(dense: str = "finetuned") -> dict:
    per_dim = {str(d): comparison_entry(-0.1, -0.15, -0.05) for d in DIMS}
    return {
        "dense": dense,
        "test_queries": 665,
        "bm25": {
            "settings": {"implementation": "bm25s 0.3.16", "k1": 1.5, "stemmer": "snowball"},
            "metrics": _scores(BM25_NDCG),
            "seconds": 1.3,
        },
        "vs_bm25": per_dim,
        "hybrid": {
            "settings": {"method": "reciprocal rank fusion", "k": 60, "depth": 100},
            "metrics": {str(d): _scores(0.59) for d in DIMS},
            "vs_dense": {str(d): comparison_entry(0.17, 0.15, 0.19) for d in DIMS},
            "vs_bm25": copy.deepcopy(per_dim),
        },
        "verdict": {"dim": 384, "outcome": "loss", "message": VERDICT},
    }


def _deployment(dim: int = 384) -> dict:
    return {
        "file": "deployment.json",
        "model": "finetuned",
        "metric": "ndcg@10",
        "reference": {"dim": 384, "precision": "float32"},
        "best": {"dim": 384, "precision": "float32", "bytes_per_document": 1536, "ndcg@10": 0.42},
        "recommended": {
            "dim": dim,
            "precision": "int8",
            "bytes_per_document": dim,
            "ndcg@10": 0.419,
            "reason": "ndcg@10 within 0.01 of the best (0.0010 below)",
        },
        "rule": "cheapest bytes per document with ndcg@10 within 0.01 of the best",
        "cells": 12,
    }


def _with_blocks(results: dict, dense: str) -> dict:
    return {**results, "baselines": _block(dense), "deployment": _deployment()}


def test_runs_with_and_without_the_blocks_are_valid():
    validate_results(finetune_results())
    validate_results(evaluate_results())
    validate_results(_with_blocks(finetune_results(), "finetuned"))
    validate_results(_with_blocks(finetune_results(base_kept=True), "base"))
    validate_results(_with_blocks(evaluate_results(), "model"))
    no_hybrid = _with_blocks(evaluate_results(), "model")
    no_hybrid["baselines"]["hybrid"] = None
    validate_results(no_hybrid)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["baselines"].update(dense="model"), "baselines.dense"),
        (lambda r: r["baselines"]["vs_bm25"].pop("64"), "'baselines.vs_bm25' has dims"),
        (lambda r: r["baselines"]["hybrid"]["metrics"].pop("64"), "'baselines.hybrid.metrics'"),
        (lambda r: r["baselines"]["verdict"].update(dim=100), "'baselines.verdict.dim'"),
        (lambda r: r["baselines"]["verdict"].update(outcome="maybe"), "baselines.verdict.outcome"),
        (lambda r: r["baselines"]["bm25"].pop("metrics"), "'baselines.bm25.metrics'"),
        (lambda r: r["deployment"]["recommended"].update(dim=100), "'deployment.recommended.dim'"),
        (lambda r: r["deployment"]["best"].update(precision="fp16"), "deployment.best.precision"),
    ],
)
def test_a_bad_block_is_named(change, message):
    results = _with_blocks(finetune_results(), "finetuned")
    change(results)
    with pytest.raises(ResultsError, match=message.replace(".", r"\.")):
        validate_results(results)


def test_chart_draws_bm25_as_a_reference_line():
    def bm25_lines(results):
        axes = build_figure(results).axes[0]
        return [line for line in axes.get_lines() if line.get_label().startswith(BM25_LABEL)]

    (line,) = bm25_lines(_with_blocks(finetune_results(), "finetuned"))
    assert set(line.get_ydata()) == {BM25_NDCG}
    assert f"{BM25_NDCG:.3f}" in line.get_label()
    assert not bm25_lines(finetune_results())


def test_report_shows_baselines_and_deployment():
    page = render_html_report(_with_blocks(finetune_results(), "finetuned"))
    assert "Baselines: BM25 and hybrid" in page and VERDICT in page
    assert "finetuned − BM25" in page and "[-0.1500, -0.0500]" in page
    assert "Deployment: embedding size × precision" in page and "deployment.json" in page
    plain = render_html_report(finetune_results())
    assert "Baselines:" not in plain and "Deployment:" not in plain


def test_cli_summary_and_metadata_carry_the_verdict():
    results = _with_blocks(evaluate_results(), "model")
    summary = cli_summary(results)
    assert summary["baseline_verdict"] == VERDICT
    assert summary["deployment"]["precision"] == "int8"
    assert summary["outputs"]["deployment"] == "outputs/evaluate/deployment.json"
    assert metadata_summary(results)["baseline_verdict"] == VERDICT
    assert "baseline_verdict" not in cli_summary(evaluate_results())
    assert "deployment" not in cli_summary(evaluate_results())["outputs"]
