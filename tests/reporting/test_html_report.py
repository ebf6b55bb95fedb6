"""report.html: self-contained (chart inlined), the comparison table, significance, summaries."""

from __future__ import annotations

import base64
import re

from embedtune.reporting.chart import plot_evaluation
from embedtune.reporting.html_report import render_html_report, write_html_report

METRICS = ("ndcg@10", "mrr@10", "map@100", "recall@1", "recall@5", "recall@10", "recall@100")


def _scores(value: float) -> dict[str, float]:
    return {m: value for m in METRICS}


def finetune_results() -> dict:
    return {
        "dims": [384, 64],
        "base": {"384": _scores(0.60), "64": _scores(0.50)},
        "finetuned": {"384": _scores(0.70), "64": _scores(0.51)},
        "data": {"train_pairs": 1000, "test_queries": 665, "corpus": 2316},
        "training": {
            "loss": "mnrl",
            "batch_size": 32,
            "hard_negatives": True,
            "hard_negative_mining": {"pairs": 1000, "mined": 990, "random_fallback": 10},
            "train_seconds": 123.4,
            "dims": [384, 64],
            "query_prompt": "<script>alert(1)</script>",
        },
        "hardware": {"cpu_count": 2, "accelerator": "cpu"},
        "base_model": "all-MiniLM-L6-v2",
        "comparison": {
            "384": {"ndcg@10_delta": 0.1, "ci95": [0.07, 0.13], "significant": True},
            "64": {"ndcg@10_delta": 0.01, "ci95": [-0.02, 0.04], "significant": False},
        },
        "total_seconds": 300.0,
    }


def test_report_is_self_contained_with_table_and_significance(tmp_path):
    results = finetune_results()
    page = render_html_report(results)
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    # The chart is inlined as a PNG; nothing is fetched from elsewhere.
    image = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert image and base64.b64decode(image.group(1)).startswith(b"\x89PNG")
    assert "http://" not in page and "https://" not in page
    assert "significant win" in page and "not significant" in page
    assert "[+0.0700, +0.1300]" in page and "+0.1000" in page
    assert "1 of 2 embedding sizes" in page
    assert "665" in page and "2316" in page  # data summary
    assert "random fallback" in page  # the mining report
    assert "<script>" not in page  # values are escaped
    path = write_html_report(results, tmp_path / "out" / "report.html")
    assert path.read_text(encoding="utf-8") == page
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp file left


def test_report_without_comparison_and_for_one_model():
    results = finetune_results()
    del results["comparison"]
    assert "no confidence intervals" in render_html_report(results)
    single = {
        "dims": [384],
        "model": {"384": _scores(0.5)},
        "data": {"test_queries": 3, "corpus": 9},
        "hardware": {},
        "model_name": "my-model",
    }
    page = render_html_report(single)
    assert "my-model" in page and "0.5000" in page and "significant" not in page


def test_chart_draws_intervals(tmp_path):
    path = plot_evaluation(finetune_results(), tmp_path / "evaluation.png")
    assert path.read_bytes().startswith(b"\x89PNG")
