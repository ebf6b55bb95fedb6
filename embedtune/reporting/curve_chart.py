"""The model-selection curve: validation score per evaluation, the base model as step 0.

The dashed line is the base model's score, the one every checkpoint had to beat; the marked point
is the checkpoint that was kept (none when the base was kept).
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from embedtune.reporting.chart import BASE_COLOR, LOSS_COLOR, MODEL_COLOR, WIN_COLOR
from embedtune.reporting.figure_png import figure_png
from embedtune.reporting.results_view import ResultsView


def build_curve_figure(results: dict[str, Any]) -> Figure | None:
    """None when the run has no validation curve (evaluate runs, no validation split)."""
    view = ResultsView(results)
    selection, points = view.selection, view.curve()
    if not selection or not points:
        return None
    fig = Figure(figsize=(7.0, 3.4), dpi=120)
    ax = fig.subplots()
    steps, scores = [p["step"] for p in points], [p["score"] for p in points]
    ax.plot(steps, scores, marker="o", color=MODEL_COLOR, label="validation score")
    if selection["base_score"] is not None:
        ax.axhline(
            selection["base_score"],
            color=BASE_COLOR,
            linestyle="--",
            label=f"base model (step 0): {selection['base_score']:.4f}",
        )
    best = selection["best_step"]
    if not view.base_kept and best is not None and best in steps:
        score = scores[steps.index(best)]
        ax.plot([best], [score], marker="*", markersize=14, color=WIN_COLOR, linestyle="none")
        ax.annotate(
            f"kept: step {best}",
            (best, score),
            textcoords="offset points",
            xytext=(-8, 6),
            ha="right",
        )
    title = f"Model selection on {selection['validation_queries']} validation queries"
    if view.base_kept:
        title += ": no checkpoint beat the base"
    ax.set_title(title, fontsize=10, color=LOSS_COLOR if view.base_kept else "black")
    ax.set_xlabel("optimizer step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.get_major_formatter().set_useOffset(False)
    values = scores + ([selection["base_score"]] if selection["base_score"] is not None else [])
    ax.set_ylim(min(values) - 0.01, max(values) + 0.01)  # a flat curve stays readable
    ax.set_ylabel(selection["metric"])
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def curve_png(results: dict[str, Any]) -> bytes | None:
    fig = build_curve_figure(results)
    return None if fig is None else figure_png(fig)
