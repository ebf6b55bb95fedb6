"""evaluation.png: a metric per Matryoshka dimension, each model a bar, values written on them.

In a finetune run the saved model's bars carry the 95% paired-bootstrap interval of the gain over
the base as error bars, and significant gains are starred. When finetuning did not beat the base
on validation, the saved model IS the base: its bars are hatched and the title says so. When the
run scored the baselines, BM25 (which has no embedding size) is a dashed horizontal line.

`build_figure(results)` returns the matplotlib Figure (tests inspect its artists);
`evaluation_png` renders it; `plot_evaluation` writes it atomically.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from embedtune.io import atomic_file
from embedtune.reporting.results_schema import PRIMARY_METRIC
from embedtune.reporting.results_view import DimRow, ResultsView

BASE_COLOR, MODEL_COLOR = "#9aa5b1", "#1f77b4"
WIN_COLOR, LOSS_COLOR, TIE_COLOR = "#2ca02c", "#d62728", "#6b7785"
BM25_COLOR = "#ff7f0e"
BM25_LABEL = "BM25 (reference)"
INTERVAL_NOTE = (
    "error bars: 95% paired-bootstrap interval of the gain over base; "
    "* the interval excludes 0 (significant)"
)


@dataclass
class Series:
    label: str  # the legend entry
    values: list[float]
    color: str
    hatch: str | None = None


def plot_evaluation(
    results: dict[str, Any], path: str | Path, metric: str = PRIMARY_METRIC
) -> Path:
    with atomic_file(path) as tmp:
        tmp.write_bytes(evaluation_png(results, metric))
    return Path(path)


def evaluation_png(results: dict[str, Any], metric: str = PRIMARY_METRIC) -> bytes:
    """The chart as PNG bytes (for the HTML report and visualizations)."""
    return figure_png(build_figure(results, metric))


def figure_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def build_figure(results: dict[str, Any], metric: str = PRIMARY_METRIC) -> Figure:
    """Bars per dim for each model; the saved model's bars carry the gain's interval."""
    view = ResultsView(results)
    rows = view.rows(metric)
    series = _series(view, rows)
    with_intervals = view.is_finetune and all(row.low is not None for row in rows)
    guard = view.is_finetune and "guard" in results  # a second panel: the guard change
    fig = Figure(figsize=(max(6.0, 2.2 + 1.6 * len(rows)) * (1.8 if guard else 1), 4.8), dpi=120)
    ax, *panels = fig.subplots(1, 2 if guard else 1, squeeze=False)[0]
    if guard:
        from embedtune.reporting.guard_chart import draw_guard_panel

        draw_guard_panel(panels[0], results)
    _draw_bars(ax, series, _error_bars(rows) if with_intervals else None)
    top = max(v for s in series for v in s.values)
    if with_intervals:
        top = max(top, *(row.base + row.high for row in rows))  # type: ignore[operator]
    bm25 = bm25_reference(results, metric)
    if bm25 is not None:
        ax.axhline(
            bm25, color=BM25_COLOR, linestyle="--", linewidth=1.4, label=f"{BM25_LABEL}: {bm25:.3f}"
        )
        top = max(top, bm25)
    if view.is_finetune:
        _annotate_gains(ax, rows)
    ax.set_xticks(range(len(rows)), [f"{row.dim} dims" for row in rows])
    ax.set_ylabel(metric)
    ax.set_ylim(0, min(1.05, top * 1.18 + 0.06))
    ax.set_title(_title(view, metric), fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    if with_intervals:
        fig.text(0.01, 0.01, INTERVAL_NOTE, fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03 if with_intervals else 0, 1, 1))
    return fig


def bm25_reference(results: dict[str, Any], metric: str = PRIMARY_METRIC) -> float | None:
    """BM25's score when the run scored the baselines, else None."""
    block = results.get("baselines")
    if not block:
        return None
    value = block["bm25"]["metrics"].get(metric)
    return None if value is None else float(value)


def _series(view: ResultsView, rows: list[DimRow]) -> list[Series]:
    if not view.is_finetune:
        return [Series(f"model: {view.model_name}", [r.score for r in rows], MODEL_COLOR)]
    base = Series(f"base: {view.model_name}", [r.base for r in rows], BASE_COLOR)  # type: ignore[misc]
    if view.base_kept:
        saved = Series(
            "saved model = base (finetuning did not beat it)",
            [r.score for r in rows],
            MODEL_COLOR,
            hatch="//",
        )
    else:
        saved = Series("finetuned (saved)", [r.score for r in rows], MODEL_COLOR)
    return [base, saved]


def _error_bars(rows: list[DimRow]) -> list[list[float]]:
    """The gain's interval drawn around the finetuned value: base + [low, high]."""
    return [
        [max(0.0, row.gain - row.low) for row in rows],  # type: ignore[operator]
        [max(0.0, row.high - row.gain) for row in rows],  # type: ignore[operator]
    ]


def _draw_bars(ax: Axes, series: list[Series], yerr: list[list[float]] | None) -> None:
    width = 0.8 / len(series)
    for i, item in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        errors = yerr if i == len(series) - 1 else None  # the last series is the saved model
        bars = ax.bar(
            [x + offset for x in range(len(item.values))],
            item.values,
            width,
            label=item.label,
            color=item.color,
            hatch=item.hatch,
            edgecolor="white" if item.hatch else None,
            yerr=errors,
            error_kw={"ecolor": "#333333", "capsize": 4, "elinewidth": 1.2},
        )
        ax.bar_label(
            bars,
            labels=[f"{v:.3f}" for v in item.values],
            padding=2,
            fontsize=8,
            label_type="center" if errors else "edge",
            color="white" if errors else "black",
        )


def _gain_color(row: DimRow) -> str:
    if row.significant is False:
        return TIE_COLOR  # an interval that includes 0: not a real win or loss
    return WIN_COLOR if (row.gain or 0.0) > 0 else LOSS_COLOR


def _annotate_gains(ax: Axes, rows: list[DimRow]) -> None:
    for x, row in enumerate(rows):
        group_top = max(row.score, row.base or 0.0)
        if row.high is not None:
            group_top = max(group_top, (row.base or 0.0) + row.high)
        star = "*" if row.significant else ""
        ax.annotate(
            f"{row.gain:+.3f}{star}",
            (x, group_top + 0.03),
            ha="center",
            fontsize=9,
            fontweight="bold",
            color=_gain_color(row),
        )


def _title(view: ResultsView, metric: str) -> str:
    title = (
        f"Retrieval {metric} by embedding size "
        f"({view.test_queries or '?'} test queries, corpus {view.corpus or '?'})"
    )
    if view.base_kept:
        title += "\nbase model kept: no checkpoint beat it on the validation queries"
    return title
