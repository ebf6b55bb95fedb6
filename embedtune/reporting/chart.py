"""evaluation.png: nDCG@10 per Matryoshka dimension, each model a bar, values written on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from embedtune.io import atomic_file  # noqa: E402

COLORS = {"base": "#9aa5b1", "finetuned": "#1f77b4", "model": "#1f77b4"}


def plot_evaluation(results: dict[str, Any], path: str | Path, metric: str = "ndcg@10") -> Path:
    dims = results["dims"]
    labels = [label for label in ("base", "finetuned", "model") if label in results]
    fig, ax = plt.subplots(figsize=(2.2 + 1.6 * len(dims), 4.8), dpi=120)
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        values = [results[label][str(d)][metric] for d in dims]
        xs = [x + (i - (len(labels) - 1) / 2) * width for x in range(len(dims))]
        bars = ax.bar(xs, values, width, label=label, color=COLORS[label])
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], padding=2, fontsize=8)
    if "base" in results and "finetuned" in results:
        for x, d in enumerate(dims):
            delta = results["finetuned"][str(d)][metric] - results["base"][str(d)][metric]
            ax.annotate(
                f"{delta:+.3f}",
                (x, 0.02),
                ha="center",
                fontsize=9,
                fontweight="bold",
                color="#2ca02c" if delta > 0 else "#d62728",
            )
    ax.set_xticks(range(len(dims)), [f"{d} dims" for d in dims])
    ax.set_ylabel(metric)
    top = max(results[label][str(d)][metric] for label in labels for d in dims)
    ax.set_ylim(0, min(1.0, top * 1.18 + 0.02))
    data = results.get("data", {})
    ax.set_title(
        f"Retrieval {metric} by embedding size "
        f"({data.get('test_queries', '?')} test queries, corpus {data.get('corpus', '?')})",
        fontsize=10,
    )
    ax.legend(loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)
