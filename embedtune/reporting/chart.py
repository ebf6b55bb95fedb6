"""evaluation.png: nDCG@10 per Matryoshka dimension, each model a bar, values written on them.

With a base-vs-finetuned comparison in the results (paired bootstrap), the finetuned bars carry the
95% interval of the gain as error bars, and significant gains are starred.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from embedtune.io import atomic_file  # noqa: E402

COLORS = {"base": "#9aa5b1", "finetuned": "#1f77b4", "model": "#1f77b4"}


def plot_evaluation(results: dict[str, Any], path: str | Path, metric: str = "ndcg@10") -> Path:
    with atomic_file(path) as tmp:
        tmp.write_bytes(evaluation_png(results, metric))
    return Path(path)


def evaluation_png(results: dict[str, Any], metric: str = "ndcg@10") -> bytes:
    """The chart as PNG bytes (for the HTML report and visualizations)."""
    dims = results["dims"]
    labels = [label for label in ("base", "finetuned", "model") if label in results]
    fig, ax = plt.subplots(figsize=(max(6.0, 2.2 + 1.6 * len(dims)), 4.8), dpi=120)
    width = 0.8 / len(labels)
    comparison = results.get("comparison") or {}
    intervals = {
        d: comparison[str(d)]
        for d in dims
        if str(d) in comparison and f"{metric}_delta" in comparison[str(d)]
    }
    for i, label in enumerate(labels):
        values = [results[label][str(d)][metric] for d in dims]
        xs = [x + (i - (len(labels) - 1) / 2) * width for x in range(len(dims))]
        yerr = None
        if label == "finetuned" and len(intervals) == len(dims):
            # The gain's interval, drawn around the finetuned value: base + [low, high].
            yerr = [
                [max(0.0, intervals[d][f"{metric}_delta"] - intervals[d]["ci95"][0]) for d in dims],
                [max(0.0, intervals[d]["ci95"][1] - intervals[d][f"{metric}_delta"]) for d in dims],
            ]
        bars = ax.bar(
            xs,
            values,
            width,
            label=label,
            color=COLORS[label],
            yerr=yerr,
            error_kw={"ecolor": "#333333", "capsize": 4, "elinewidth": 1.2},
        )
        ax.bar_label(
            bars,
            labels=[f"{v:.3f}" for v in values],
            padding=2,
            fontsize=8,
            label_type="center" if yerr else "edge",
            color="white" if yerr else "black",
        )
    if "base" in results and "finetuned" in results:
        for x, d in enumerate(dims):
            delta = results["finetuned"][str(d)][metric] - results["base"][str(d)][metric]
            star = "*" if intervals.get(d, {}).get("significant") else ""
            group_top = max(results[label][str(d)][metric] for label in labels)
            if d in intervals:
                group_top = max(
                    group_top, results["base"][str(d)][metric] + intervals[d]["ci95"][1]
                )
            ax.annotate(
                f"{delta:+.3f}{star}",
                (x, group_top + 0.03),
                ha="center",
                fontsize=9,
                fontweight="bold",
                color=(
                    "#6b7785"  # an interval that includes 0: not a real win or loss
                    if d in intervals and not intervals[d]["significant"]
                    else "#2ca02c"
                    if delta > 0
                    else "#d62728"
                ),
            )
    ax.set_xticks(range(len(dims)), [f"{d} dims" for d in dims])
    ax.set_ylabel(metric)
    top = max(results[label][str(d)][metric] for label in labels for d in dims)
    if intervals:
        top = max(
            top,
            *(results["base"][str(d)][metric] + intervals[d]["ci95"][1] for d in intervals),
        )
        fig.text(
            0.01,
            0.01,
            "error bars: 95% paired-bootstrap interval of the gain over base; "
            "* the interval excludes 0 (significant)",
            fontsize=7,
            color="#555555",
        )
    ax.set_ylim(0, min(1.05, top * 1.18 + 0.06))
    data = results.get("data", {})
    ax.set_title(
        f"Retrieval {metric} by embedding size "
        f"({data.get('test_queries', '?')} test queries, corpus {data.get('corpus', '?')})",
        fontsize=10,
    )
    ax.legend(loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout(rect=(0, 0.03 if intervals else 0, 1, 1))
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()
