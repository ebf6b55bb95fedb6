"""evaluation.png: a metric per Matryoshka dimension, each model a bar, values written on them.

In a finetune run the saved model's bars carry the 95% paired-bootstrap interval of the gain over
the base as error bars, and significant gains are starred. When finetuning did not beat the base
on validation, the saved model IS the base: its bars are hatched and the title says so. When the
run scored the baselines, BM25 (which has no embedding size) is a dashed horizontal line.

`build_figure(results)` returns the matplotlib Figure (tests inspect its artists);
`evaluation_png` renders it; `plot_evaluation` writes it atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from embedtune.io import atomic_file
from embedtune.reporting.figure_png import figure_png
from embedtune.reporting.results_view import DimRow, ResultsView
from embedtune.results_schema import PRIMARY_METRIC

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


def evaluation_png(
    results: dict[str, Any], metric: str = PRIMARY_METRIC, *, narrow: bool = False
) -> bytes:
    """The chart as PNG bytes (for the HTML report and visualizations); `narrow`: the layout
    for a phone-width page (report.html shows it below 560 px)."""
    return figure_png(build_figure(results, metric, narrow=narrow))


# Font sizes in points (the figure is drawn at DPI): the smallest stays legible once the page
# scales the image to its column (see tests/reporting/test_html_report.py).
DPI = 120
FONT = {"value": 8, "gain": 9, "tick": 9, "title": 10, "legend": 8, "note": 8}
NARROW_WIDTH = 4.4  # inches: 528 px, shown at ~380 px on a 400 px phone page


def build_figure(
    results: dict[str, Any], metric: str = PRIMARY_METRIC, *, narrow: bool = False
) -> Figure:
    """Bars per dim for each model; the saved model's bars carry the gain's interval.

    Every value label sits inside its bar, every gain label on one row above the tallest bar,
    interval and the BM25 line, and the legend below the axes: nothing is drawn over a label."""
    view = ResultsView(results)
    rows = view.rows(metric)
    series = _series(view, rows)
    with_intervals = view.is_finetune and all(row.low is not None for row in rows)
    guard = view.is_finetune and "guard" in results and not narrow  # a panel: the guard change
    width = NARROW_WIDTH if narrow else max(6.0, 2.2 + 1.6 * len(rows)) * (1.8 if guard else 1)
    fig = Figure(figsize=(width, 5.2 if narrow else 5.0), dpi=DPI)
    ax, *panels = fig.subplots(1, 2 if guard else 1, squeeze=False)[0]
    if guard:
        from embedtune.reporting.guard_chart import draw_guard_panel

        draw_guard_panel(panels[0], results)
    _draw_bars(ax, series, _error_bars(rows) if with_intervals else None, narrow=narrow)
    top = max(v for s in series for v in s.values)
    if with_intervals:
        top = max(top, *(row.base + row.high for row in rows))  # type: ignore[operator]
    bm25 = bm25_reference(results, metric)
    if bm25 is not None:
        ax.axhline(  # behind the bars: it never crosses a value written on one
            bm25,
            color=BM25_COLOR,
            linestyle="--",
            linewidth=1.4,
            label=f"{BM25_LABEL}: {bm25:.3f}",
            zorder=0.5,
        )
        top = max(top, bm25)
    gain_row = top + 0.03  # above every bar, interval and the BM25 line
    if view.is_finetune:
        _annotate_gains(ax, rows, gain_row)
    ax.set_xticks(
        range(len(rows)),
        [f"{row.dim}" if narrow else f"{row.dim} dims" for row in rows],
        fontsize=FONT["tick"],
    )
    if narrow:
        ax.set_xlabel("embedding size (dims)", fontsize=FONT["tick"])
    ax.tick_params(axis="y", labelsize=FONT["tick"])
    ax.set_ylabel(metric, fontsize=FONT["tick"])
    ax.set_ylim(0, gain_row + (0.09 if view.is_finetune else 0.04))
    ax.set_title(_title(view, metric, narrow=narrow), fontsize=FONT["title"])
    handles = len(ax.get_legend_handles_labels()[0])
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16 if narrow else -0.09),
        ncol=1 if narrow else min(handles, 3),
        fontsize=FONT["legend"],
        frameon=False,
    )
    ax.spines[["top", "right"]].set_visible(False)
    if with_intervals:
        note = INTERVAL_NOTE.replace("; ", ";\n") if narrow else INTERVAL_NOTE
        fig.text(0.01, 0.01, note, fontsize=FONT["note"], color="#555555")
    fig.tight_layout(rect=(0, (0.08 if narrow else 0.04) if with_intervals else 0, 1, 1))
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


def _draw_bars(
    ax: Axes, series: list[Series], yerr: list[list[float]] | None, *, narrow: bool = False
) -> None:
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
        labels = ax.bar_label(  # inside every bar, at the same place: never under a gain or a line
            bars,
            labels=[f"{v:.3f}" for v in item.values],
            fontsize=FONT["value"],
            label_type="center",
            color="white" if item.color == MODEL_COLOR else "#1d2329",
            rotation=90 if narrow and len(series) > 1 else 0,  # side by side in a thin bar
        )
        if item.hatch:  # a plain patch under the value, so the hatching does not cross it
            for label in labels:
                label.set_bbox({"facecolor": item.color, "edgecolor": "none", "pad": 1.5})


def _gain_color(row: DimRow) -> str:
    if row.significant is False:
        return TIE_COLOR  # an interval that includes 0: not a real win or loss
    return WIN_COLOR if (row.gain or 0.0) > 0 else LOSS_COLOR


def _annotate_gains(ax: Axes, rows: list[DimRow], y: float) -> None:
    """The gains on one row at height `y` (above the bars, intervals and BM25 line)."""
    for x, row in enumerate(rows):
        star = "*" if row.significant else ""
        ax.annotate(
            f"{row.gain:+.3f}{star}",
            (x, y),
            ha="center",
            va="bottom",
            fontsize=FONT["gain"],
            fontweight="bold",
            color=_gain_color(row),
        )


def _title(view: ResultsView, metric: str, *, narrow: bool = False) -> str:
    counts = f"{view.test_queries or '?'} test queries, corpus {view.corpus or '?'}"
    if narrow:
        title = f"{metric} by embedding size\n({counts})"
    else:
        title = f"Retrieval {metric} by embedding size ({counts})"
    if view.base_kept:
        title += (
            "\nbase model kept: no checkpoint\nbeat it on the validation queries"
            if narrow
            else "\nbase model kept: no checkpoint beat it on the validation queries"
        )
    return title
