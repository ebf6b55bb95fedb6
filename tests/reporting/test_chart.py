"""evaluation.png and the validation curve, checked through the matplotlib artists they draw."""

from __future__ import annotations

import pytest
from matplotlib.container import BarContainer

from embedtune.reporting.chart import build_figure, plot_evaluation
from embedtune.reporting.curve_chart import build_curve_figure
from tests.reporting.results_helpers import BASE_NDCG, DIMS, evaluate_results, finetune_results

MIXED = {384: 0.04, 256: 0.03, 128: 0.0, 64: -0.05}


def _bars(fig) -> list[BarContainer]:
    return [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]


def test_chart_draws_the_gain_interval_as_error_bars(tmp_path):
    fig = build_figure(finetune_results(MIXED))
    base, saved = _bars(fig)
    assert base.errorbar is None and saved.errorbar is not None
    assert [round(b.get_height(), 4) for b in base] == [BASE_NDCG[d] for d in DIMS]
    # Each error bar spans base + [low, high] of the gain's 95% interval (gain +- 0.02).
    segments = saved.errorbar.lines[2][0].get_segments()
    for dim, segment in zip(DIMS, segments):
        (_, low), (_, high) = sorted(segment.tolist(), key=lambda point: point[1])
        gain = MIXED[dim]
        assert low == pytest.approx(BASE_NDCG[dim] + gain - 0.02, abs=1e-6)
        assert high == pytest.approx(BASE_NDCG[dim] + gain + 0.02, abs=1e-6)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "+0.040*" in texts and "-0.050*" in texts and "+0.000" in texts  # * = significant
    assert any("paired-bootstrap interval" in t.get_text() for t in fig.texts)
    path = plot_evaluation(finetune_results(MIXED), tmp_path / "evaluation.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_no_error_bars_without_a_comparison():
    results = finetune_results()
    del results["comparison"], results["verdict"]
    base, saved = _bars(build_figure(results))
    assert saved.errorbar is None
    assert not any("interval" in t.get_text() for t in build_figure(results).texts)


def test_base_kept_chart_says_the_saved_model_is_the_base():
    fig = build_figure(finetune_results(base_kept=True))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["base: all-MiniLM-L6-v2", "saved model = base (finetuning did not beat it)"]
    assert "base model kept" in ax.get_title()
    assert all(bar.get_hatch() == "//" for bar in _bars(fig)[1])


def test_evaluate_chart_has_one_model_and_no_gains():
    fig = build_figure(evaluate_results())
    (bars,) = _bars(fig)
    assert bars.errorbar is None and len(bars) == len(DIMS)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "model: my-team/retriever-v3"
    ]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0.685", "0.675", "0.642", "0.524"]  # the values, no gain annotations


def test_curve_starts_at_the_base_model_and_marks_the_kept_step():
    results = finetune_results()
    fig = build_curve_figure(results)
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    assert list(line.get_xdata())[:2] == [0, 5] and line.get_ydata()[0] == pytest.approx(0.71)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["validation score", "base model (step 0): 0.7100"]
    assert [t.get_text() for t in ax.texts] == ["kept: step 20"]
    # A curve without step 0 gets the base score prepended.
    results["selection"]["curve"] = results["selection"]["curve"][1:]
    assert list(build_curve_figure(results).axes[0].get_lines()[0].get_xdata())[0] == 0


def test_curve_of_a_base_kept_run_and_of_an_evaluation():
    ax = build_curve_figure(finetune_results(base_kept=True)).axes[0]
    assert "no checkpoint beat the base" in ax.get_title() and not ax.texts
    assert build_curve_figure(evaluate_results()) is None
