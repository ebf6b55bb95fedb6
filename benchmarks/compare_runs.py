"""Paired bootstrap between models of different quality.py runs (same data, same test queries).

quality.py stores every model's per-query nDCG@10; this recomputes the 95% intervals of the gain
between any two of them, e.g. a tuned variant against the reference recipe of an earlier run:

    .venv/bin/python benchmarks/compare_runs.py \
        --run benchmarks/results/quality.json --run benchmarks/results/quality_lr.json \
        --pair reference:lr2e-4 --pair base:lr2e-4 --pair lr1e-4:lr2e-4 --name quality_combined
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import print_ndcg_tables, say, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", required=True, help="a quality.py results JSON")
    parser.add_argument("--pair", action="append", required=True, help="BASE:CANDIDATE")
    parser.add_argument("--name", default="quality_combined")
    args = parser.parse_args()

    from embedtune.evaluation.bootstrap import compare_tables

    models: dict[str, dict] = {}
    query_ids = None
    dims = None
    for path in args.run:
        run = json.loads(Path(path).read_text(encoding="utf-8"))
        per_query = run["per_query_ndcg@10"]
        if query_ids is None:
            query_ids, dims = per_query["query_ids"], run["dims"]
        elif per_query["query_ids"] != query_ids or run["dims"] != dims:
            raise SystemExit(f"{path}: different test queries or dims; not comparable")
        for name, by_dim in per_query.items():
            if name == "query_ids":
                continue
            if name in models and models[name] != by_dim:
                say(f"note: {name} differs between runs; keeping the first")
                continue
            models.setdefault(name, by_dim)
    table = {
        "dims": dims,
        "query_ids": query_ids,
        "models": {name: {d: {"ndcg@10": cols[d]} for d in cols} for name, cols in models.items()},
    }
    means = {
        name: {d: round(sum(v) / len(v), 4) for d, v in cols.items()}
        for name, cols in models.items()
    }
    comparisons = {}
    for pair in args.pair:
        base, candidate = pair.split(":")
        comparisons[f"{candidate}_vs_{base}"] = compare_tables(
            table, base=base, candidate=candidate
        )
    print_ndcg_tables(dims, means, comparisons)
    write_result(
        args.name,
        {"runs": args.run, "dims": dims, "ndcg@10": means, "comparisons": comparisons},
    )


if __name__ == "__main__":
    main()
