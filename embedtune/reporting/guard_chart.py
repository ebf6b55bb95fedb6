"""The guard and merge figures: in-domain gain beside the guard change (a panel of evaluation.png),
and the merge curve (validation and guard nDCG@10 per base weight) for report.html.

Both read only the results.json dict ("comparison", "guard", "merge").
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from embedtune.results_schema import PRIMARY_METRIC, read_comparison_entry

IN_DOMAIN_COLOR, GUARD_COLOR = "#1f77b4", "#8c564b"


def _changes(comparison: dict[str, Any], dims: list[str]) -> tuple[list[float], list[list[float]]]:
    deltas, errors = [], [[], []]
    for dim in dims:
        delta, low, high, _ = read_comparison_entry(comparison[dim])
        deltas.append(delta)
        errors[0].append(max(0.0, delta - low))
        errors[1].append(max(0.0, high - delta))
    return deltas, errors


def draw_guard_panel(ax: Axes, results: dict[str, Any]) -> None:
    """Per dim: the in-domain gain and the guard change (saved - base), each with its 95%
    interval; the guard tolerance as a dotted line below zero."""
    guard = results["guard"]
    dims = [str(d) for d in results["dims"]]
    width = 0.38
    for offset, (label, comparison, color) in enumerate(
        (
            ("in-domain gain", results["comparison"], IN_DOMAIN_COLOR),
            (f"guard change ({guard['test_queries']} queries)", guard["comparison"], GUARD_COLOR),
        )
    ):
        deltas, errors = _changes(comparison, dims)
        xs = [x + (offset - 0.5) * width for x in range(len(dims))]
        bars = ax.bar(
            xs,
            deltas,
            width,
            color=color,
            label=label,
            yerr=errors,
            error_kw={"ecolor": "#333333", "capsize": 3, "elinewidth": 1.0},
        )
        ax.bar_label(bars, labels=[f"{d:+.3f}" for d in deltas], fontsize=7, padding=2)
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.axhline(
        -guard["tolerance"],
        color=GUARD_COLOR,
        linestyle=":",
        linewidth=1.0,
        label=f"guard tolerance -{guard['tolerance']:g}",
    )
    ax.set_xticks(range(len(dims)), [f"{d} dims" for d in dims])
    ax.set_ylabel(f"{PRIMARY_METRIC} change vs base")
    ax.set_title("In-domain gain vs general-domain (guard) change", fontsize=10)
    ax.legend(loc="best", fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)


def build_merge_figure(results: dict[str, Any]) -> Figure | None:
    """Validation and guard nDCG@10 per base weight, the kept weight marked; None without an
    auto merge curve."""
    merge = results.get("merge")
    if not merge or not merge.get("curve"):
        return None
    curve = merge["curve"]
    fig = Figure(figsize=(7.0, 3.4), dpi=120)
    ax = fig.subplots()
    for key, label, color in (
        ("validation", "validation (in-domain)", IN_DOMAIN_COLOR),
        ("guard", "guard (general domain)", GUARD_COLOR),
    ):
        points = [(p["base_weight"], p[key]) for p in curve if p[key] is not None]
        if points:
            ax.plot(*zip(*points), marker="o", color=color, label=label)
    ax.axvline(
        merge["base_weight"],
        color="#2ca02c",
        linestyle="--",
        label=f"kept: base weight {merge['base_weight']:g}",
    )
    ax.set_xlabel("base weight (0 = finetuned, 1 = base)")
    ax.set_ylabel(merge["metric"])
    ax.set_title("Merge curve: the saved model is a weight interpolation", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def merge_curve_png(results: dict[str, Any]) -> bytes | None:
    from embedtune.reporting.figure_png import figure_png

    fig = build_merge_figure(results)
    return None if fig is None else figure_png(fig)
