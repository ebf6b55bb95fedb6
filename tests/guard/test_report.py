"""The guard and merge blocks in results.json, report.html and evaluation.png (no training)."""

from __future__ import annotations

import pytest

from embedtune.reporting.chart import build_figure
from embedtune.reporting.guard_chart import build_merge_figure
from embedtune.reporting.html_report import render_html_report
from embedtune.results_schema import (
    ResultsError,
    comparison_entry,
    validate_results,
)
from tests.reporting.results_helpers import DIMS, finetune_results


def _with_guard_and_merge() -> dict:
    results = finetune_results()
    scores = results["base"]
    results["guard"] = {
        "source": "default",
        "test_queries": 123,
        "corpus": 563,
        "base": scores,
        "finetuned": scores,
        "comparison": {str(d): comparison_entry(-0.031, -0.052, -0.012) for d in DIMS},
        "tolerance": 0.01,
        "within_tolerance": False,
        "best_dim": DIMS[0],
    }
    curve = [
        {
            "base_weight": w / 10,
            "validation": 0.7 - 0.01 * w,
            "guard": None if w < 3 else 0.6 + 0.005 * w,
            "guard_change": None if w < 3 else -0.02 + 0.004 * w,
            "guard_ci95": None if w < 3 else [-0.03, 0.01],
            "guard_ok": None if w < 3 else True,
        }
        for w in range(11)
    ]
    results["merge"] = {
        "base_weight": 0.3,
        "mode": "auto",
        "method": "linear",
        "chosen_on": "best validation nDCG@10 whose guard drop within 0.01 or not significant",
        "metric": "ndcg@10@384",
        "tolerance": 0.01,
        "tensors_merged": 101,
        "tensors_kept": 1,
        "curve": curve,
    }
    return results


def test_the_blocks_validate_and_reach_the_report_and_the_chart():
    results = _with_guard_and_merge()
    validate_results(results)
    page = render_html_report(results)
    assert "General-domain guard" in page and "BEYOND the tolerance" in page
    assert "0.3 × base + 0.7 × finetuned" in page
    assert "-0.0310" in page  # the guard change beside the in-domain gain
    figure = build_figure(results)
    assert len(figure.axes) == 2
    panel_labels = [t.get_text() for t in figure.axes[1].get_legend().get_texts()]
    assert any("guard change (123 queries)" in label for label in panel_labels)
    merge_figure = build_merge_figure(results)
    (validation, guard) = merge_figure.axes[0].get_lines()[:2]
    assert len(validation.get_xdata()) == 11 and len(guard.get_xdata()) == 8  # unscored: none


def test_a_guard_block_missing_a_dim_is_refused():
    results = _with_guard_and_merge()
    del results["guard"]["comparison"][str(DIMS[-1])]
    with pytest.raises(ResultsError, match=r"key 'guard.comparison' has dims"):
        validate_results(results)


def test_no_guard_keeps_one_panel_and_no_section():
    results = finetune_results()
    assert len(build_figure(results).axes) == 1
    page = render_html_report(results)
    assert "General-domain guard" not in page and "Weight merging" not in page
    assert build_merge_figure(results) is None
