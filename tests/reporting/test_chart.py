"""evaluation.png: bars per dimension, the gain's 95% interval as error bars on the finetuned
bars, a star on significant gains. Checked on the matplotlib artists, not on PNG bytes."""

from __future__ import annotations

import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from embedtune.reporting.chart import plot_evaluation

METRICS = ("ndcg@10", "mrr@10", "map@100", "recall@1", "recall@5", "recall@10", "recall@100")


def _scores(value: float) -> dict[str, float]:
    return {m: value for m in METRICS}


def _results(with_comparison: bool = True) -> dict:
    results = {
        "dims": [384, 64],
        "base": {"384": _scores(0.60), "64": _scores(0.50)},
        "finetuned": {"384": _scores(0.70), "64": _scores(0.51)},
        "data": {"train_pairs": 1000, "test_queries": 665, "corpus": 2316},
    }
    if with_comparison:
        results["comparison"] = {
            "384": {"ndcg@10_delta": 0.10, "ci95": [0.07, 0.13], "significant": True},
            "64": {"ndcg@10_delta": 0.01, "ci95": [-0.02, 0.04], "significant": False},
        }
    return results


@pytest.fixture
def drawn(monkeypatch) -> list[Figure]:
    """The figures the chart code saves (the real savefig still runs and writes the PNG)."""
    figures: list[Figure] = []
    savefig = Figure.savefig

    def spy(self, *args, **kwargs):
        figures.append(self)
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return figures


def _bars(figure: Figure) -> dict[str, BarContainer]:
    (ax,) = figure.axes
    return {c.get_label(): c for c in ax.containers if isinstance(c, BarContainer)}


def _error_extents(bars: BarContainer) -> list[tuple[float, float]]:
    """(low, high) of each error bar, from the LineCollection matplotlib draws."""
    assert bars.errorbar is not None, "no error bars on these bars"
    _, _, (vertical,) = bars.errorbar.lines
    return [(min(y for _, y in seg), max(y for _, y in seg)) for seg in vertical.get_segments()]


def test_chart_draws_intervals(tmp_path, drawn):
    path = plot_evaluation(_results(), tmp_path / "evaluation.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    (figure,) = drawn
    bars = _bars(figure)
    assert set(bars) == {"base", "finetuned"}
    assert [b.get_height() for b in bars["finetuned"]] == pytest.approx([0.70, 0.51])
    assert bars["base"].errorbar is None  # the interval belongs to the gain, on the finetuned bar
    # Each interval spans base + ci95 of the gain, at the finetuned bar's position.
    assert _error_extents(bars["finetuned"]) == [
        pytest.approx((0.60 + 0.07, 0.60 + 0.13)),
        pytest.approx((0.50 - 0.02, 0.50 + 0.04)),
    ]
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert "+0.100*" in texts and "+0.010" in texts  # only the significant gain is starred
    assert any("95% paired-bootstrap interval" in t.get_text() for t in figure.texts)


def test_chart_without_comparison_has_no_error_bars(tmp_path, drawn):
    plot_evaluation(_results(with_comparison=False), tmp_path / "evaluation.png")
    (figure,) = drawn
    bars = _bars(figure)
    assert bars["finetuned"].errorbar is None and bars["base"].errorbar is None
    assert not any("interval" in t.get_text() for t in figure.texts)
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert "+0.100" in texts and not any(t.endswith("*") for t in texts)
