"""evaluation.png: bars per dimension, the gain's 95% interval as error bars on the finetuned
bars, a star on significant gains. Checked on the matplotlib artists, not on PNG bytes."""

from __future__ import annotations

import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from embedtune.reporting.chart import build_figure, plot_evaluation
from tests.reporting.results_helpers import BASE_NDCG, DIMS, finetune_results

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
