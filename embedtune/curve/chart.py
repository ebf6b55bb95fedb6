"""curve.png: nDCG@10 on the test queries vs training pairs, one line per Matryoshka dim.

The base model is the point at 0 pairs; every point carries its 95% bootstrap interval as an
error bar; the legend says each dim's verdict from the last step. A point where no checkpoint
beat the base on validation (the base was kept) is drawn hollow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from embedtune.io import atomic_file
from embedtune.reporting.figure_png import figure_png

DODGE = 0.012  # horizontal offset between dims, as a share of the largest pair count
NOTE = (
    "bars: each point's 95% bootstrap interval; the verdict (legend) uses the paired interval "
    "of the last step's gain; hollow: the base was kept"
)
DIM_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def build_curve_figure(curve: dict[str, Any]) -> Figure:
    metric, points = curve["metric"], curve["points"]
    pairs = [point["pairs"] for point in points]
    fig = Figure(figsize=(7.0, 4.2), dpi=120)
    ax = fig.subplots()
    dims = [str(d) for d in curve["dims"]]
    for i, dim in enumerate(dims):
        color = DIM_COLORS[i % len(DIM_COLORS)]
        shift = (i - (len(dims) - 1) / 2) * DODGE * max(pairs)  # bars side by side, not stacked
        xs = [x + shift for x in pairs]
        values = [point[metric][dim]["value"] for point in points]
        lows = [v - point[metric][dim]["interval"][0] for v, point in zip(values, points)]
        highs = [point[metric][dim]["interval"][1] - v for v, point in zip(values, points)]
        outcome = curve["verdict"][dim]["outcome"]
        ax.errorbar(
            xs,
            values,
            yerr=[[max(0.0, x) for x in lows], [max(0.0, x) for x in highs]],
            marker="o",
            capsize=3,
            color=color,
            label=f"{dim} dims ({outcome})",
        )
        hollow = [
            (x, v)
            for x, v, p in zip(xs, values, points, strict=True)
            if p["selected"] == "base" and p["pairs"] > 0
        ]
        if hollow:
            ax.plot(*zip(*hollow), "o", mfc="white", color=color, zorder=5)
    queries = curve["data"].get("test_queries")
    ax.set_title(f"Learning curve: {metric} on {queries} test queries (95% intervals)", fontsize=10)
    ax.set_xlabel("training pairs (0: the base model)")
    ax.set_ylabel(metric)
    ax.set_xticks(pairs)
    ax.yaxis.get_major_formatter().set_useOffset(False)
    ax.legend(loc="best", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.text(0.01, 0.01, NOTE, fontsize=7, color="#5f6b77")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_curve(curve: dict[str, Any], path: str | Path) -> Path:
    with atomic_file(path) as tmp:
        tmp.write_bytes(figure_png(build_curve_figure(curve)))
    return Path(path)
