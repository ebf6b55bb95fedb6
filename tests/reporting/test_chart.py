"""evaluation.png: bars per dimension, the gain's 95% interval as error bars on the finetuned
bars, a star on significant gains; the base-kept and evaluate cases; the validation curve.
Checked on the matplotlib artists, not on PNG bytes."""

from __future__ import annotations

import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from embedtune.reporting.chart import build_figure, plot_evaluation
from embedtune.reporting.curve_chart import build_curve_figure
from tests.reporting.results_helpers import BASE_NDCG, DIMS, evaluate_results, finetune_results

# nDCG@10 gain per dim; results_helpers puts the 95% interval at gain +- 0.02, significant when
# it excludes 0: 384 and 256 are, 128 (interval from 0.0) and 64 are not.
GAINS = {384: 0.10, 256: 0.04, 128: 0.02, 64: 0.0}


def _bars(figure: Figure) -> list[BarContainer]:
    """The bar groups in drawing order: base first, the saved model last."""
    (ax,) = figure.axes
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def _error_extents(bars: BarContainer) -> list[tuple[float, float]]:
    """(low, high) of each error bar, from the LineCollection matplotlib draws."""
    assert bars.errorbar is not None, "no error bars on these bars"
    _, _, (vertical,) = bars.errorbar.lines
    return [(min(y for _, y in seg), max(y for _, y in seg)) for seg in vertical.get_segments()]


def test_chart_draws_intervals(tmp_path):
    results = finetune_results(GAINS)
    figure = build_figure(results)
    base, saved = _bars(figure)
    assert [b.get_height() for b in saved] == pytest.approx([BASE_NDCG[d] + GAINS[d] for d in DIMS])
    assert base.errorbar is None  # the interval belongs to the gain, drawn on the saved model
    # Each interval spans base + ci95 of the gain, at the saved model's bar.
    assert _error_extents(saved) == [
        pytest.approx((BASE_NDCG[d] + GAINS[d] - 0.02, BASE_NDCG[d] + GAINS[d] + 0.02))
        for d in DIMS
    ]
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert {"+0.100*", "+0.040*", "+0.020", "+0.000"} <= set(texts)  # stars: significant only
    assert any("95% paired-bootstrap interval" in t.get_text() for t in figure.texts)
    # The file written is this chart.
    assert plot_evaluation(results, tmp_path / "evaluation.png").read_bytes()[:4] == b"\x89PNG"


def test_chart_without_comparison_has_no_error_bars():
    results = finetune_results(GAINS)
    del results["comparison"]
    figure = build_figure(results)
    assert all(bars.errorbar is None for bars in _bars(figure))
    assert not any("interval" in t.get_text() for t in figure.texts)
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "+0.100" in texts and not any(t.endswith("*") for t in texts)


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


def _with_bm25(results: dict, ndcg: float) -> dict:
    from tests.baselines.test_results_block import _block

    block = _block()
    block["bm25"]["metrics"]["ndcg@10"] = ndcg
    return {**results, "baselines": block}


@pytest.mark.parametrize("narrow", [False, True], ids=["wide", "narrow"])
@pytest.mark.parametrize("kept", [False, True], ids=["finetuned", "base-kept"])
def test_labels_never_collide_with_the_bm25_line_bars_or_each_other(narrow, kept):
    """BM25 at the height of the gain labels (where it used to cross them): the gains sit on one
    row above every bar, interval and the line; every value sits inside its own bar."""
    results = finetune_results(base_kept=True) if kept else finetune_results(GAINS)
    figure = build_figure(_with_bm25(results, 0.70), narrow=narrow)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = figure.axes[0]
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith("BM25")]
    line_y = ax.transData.transform((0, 0.70))[1]
    gains = [t for t in ax.texts if t.get_text()[:1] in "+-"]
    values = [t for t in ax.texts if t not in gains]
    assert len(gains) == len(DIMS) and len(values) == 2 * len(DIMS)
    gain_boxes = [t.get_window_extent(renderer) for t in gains]
    assert len({round(box.y0, 1) for box in gain_boxes}) == 1, "gains on one row"
    bars = [bar for container in _bars(figure) for bar in container]
    highest = max(
        [bar.get_window_extent(renderer).y1 for bar in bars]
        + [y for c in _bars(figure) if c.errorbar for _, y in _error_extents_px(ax, c)]
    )
    for box in gain_boxes:
        assert box.y0 > line_y + 2 and box.y0 > highest + 2  # clear of the line and the bars
    for text, bar in zip(values, bars, strict=True):
        inside, box = bar.get_window_extent(renderer), text.get_window_extent(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, text.get_text()
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, text.get_text()
    assert line.get_zorder() < bars[0].get_zorder()  # behind the bars: never over a value
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :]), ax.texts[i].get_text()


def _error_extents_px(ax, container) -> list[tuple[float, float]]:
    return [
        tuple(ax.transData.transform((0, y))[1] for y in span) for span in _error_extents(container)
    ]


def test_narrow_chart_fits_a_phone_column_with_legible_text():
    """Shown at about 380 px on a 400 px page: drawn a little wider, no text under 8 points."""
    from embedtune.reporting.chart import DPI

    for results in (_with_bm25(finetune_results(GAINS), 0.70), evaluate_results()):
        figure = build_figure(results, narrow=True)
        width_px = figure.get_figwidth() * DPI
        assert 380 <= width_px <= 560
        texts = [*figure.texts, *figure.axes[0].texts, figure.axes[0].title]
        texts += figure.axes[0].get_legend().get_texts() + figure.axes[0].get_xticklabels()
        smallest = min(t.get_fontsize() for t in texts if t.get_text())
        assert smallest >= 8
        assert smallest * DPI / 72 * (380 / width_px) >= 9  # pixels on the phone
