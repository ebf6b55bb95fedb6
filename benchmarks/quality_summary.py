"""Markdown tables from one or more quality.py runs on the same data sets and seeds.

Runs of quality.py with the same settings evaluate the same test queries with identical base
scores, so recipes from different runs are compared by a paired bootstrap over the stored
per-query nDCG@10 (the same 2,000 resamples, seed 0, as embedtune's own comparison).

    .venv/bin/python benchmarks/quality_summary.py benchmarks/results/quality_v2.json \
        benchmarks/results/quality_v2_ref.json > benchmarks/results/quality_v2_summary.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from embedtune.evaluation.bootstrap import paired_bootstrap

DEFAULT_RECIPE = "lr5e-5"  # today's defaults (FinetuneConfig)


def merged(paths: list[str]) -> dict[str, dict]:
    """dataset -> {"dims", "query_ids", "scores": recipe -> dim -> per-query list, "runs"}."""
    out: dict[str, dict] = {}
    for path in paths:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        for name, entry in payload["datasets"].items():
            table = entry["per_query_ndcg@10"]
            target = out.setdefault(
                name,
                {"dims": entry["dims"], "query_ids": table["query_ids"], "scores": {}, "runs": {}},
            )
            if table["query_ids"] != target["query_ids"]:
                raise SystemExit(f"{path}: {name} has other test queries than the first run")
            for recipe, by_dim in table.items():
                if recipe != "query_ids":
                    target["scores"].setdefault(recipe, by_dim)
            target["runs"].update(entry["runs"])
    return out


def cell(base: list[float], other: list[float]) -> str:
    interval = paired_bootstrap(base, other)
    mark = "*" if interval.significant else ""
    return f"{interval.delta:+.3f} [{interval.low:+.3f}, {interval.high:+.3f}]{mark}"


def main(paths: list[str]) -> None:
    for name, entry in merged(paths).items():
        dims, scores = entry["dims"], entry["scores"]
        print(f"\n### {name}\n")
        print("| nDCG@10 | " + " | ".join(str(d) for d in dims) + " | kept | steps |")
        print("|---|" + "---:|" * len(dims) + "---|---:|")
        for recipe, by_dim in scores.items():
            values = [sum(by_dim[str(d)]) / len(by_dim[str(d)]) for d in dims]
            run = entry["runs"].get(recipe, {})
            kept = run.get("selected", "") if recipe != "base" else ""
            steps = run.get("best_step") or run.get("optimizer_steps") or ""
            print(
                f"| {recipe} | " + " | ".join(f"{v:.4f}" for v in values) + f" | {kept} | {steps} |"
            )
        for reference in ("base", "reference", DEFAULT_RECIPE):
            if reference not in scores:
                continue
            print(f"\nGain over {reference} (95% interval, * excludes 0):\n")
            print("| recipe | " + " | ".join(str(d) for d in dims) + " |")
            print("|---|" + "---|" * len(dims))
            for recipe, by_dim in scores.items():
                if recipe in ("base", reference):
                    continue
                cells = [cell(scores[reference][str(d)], by_dim[str(d)]) for d in dims]
                print(f"| {recipe} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
