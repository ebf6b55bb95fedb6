"""General-domain guard and weight merging: what finetuning costs outside its domain, and what a
merge with the base (merge_base auto) wins back, with paired-bootstrap 95% intervals.

Two directions, each trained once (the merge reuses the training):
- legal -> builtin: finetune on the shared legal set (reduced as in quality.py: 200 train pairs,
  150 test queries, 800-document corpus), guard = the built-in Python documentation set.
- builtin -> legal: finetune on the built-in set, guard = the reduced legal set.
For each: base, finetuned (no merge) and merged (auto: validation + guard) scored on the in-domain
test queries and on the guard. max_seq_length 128, learning rate FIXED at 2e-4 (not auto: one rate
trains once, half the time of the sweep), auto on a 0.2 grid of base weights (the library scores
0.1 steps; every weight costs a validation evaluation on this shared 2-core machine), everything
else at its default. Run under `nice -n 10`:

    nice -n 10 .venv/bin/python benchmarks/guard.py > benchmarks/results/guard.log 2>&1
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from common import LEGAL, load, quiet, say, write_result
from quality import reduced_beir


def _ndcg(evaluation, dims: list[int]) -> dict[str, float]:
    return {str(d): round(evaluation.by_dim[d].metrics["ndcg@10"], 4) for d in dims}


def run_direction(
    name: str, settings: dict[str, Any], guard_source: str, workdir: Path, grid: tuple[float, ...]
):
    from embedtune.config import load_config
    from embedtune.evaluation.bootstrap import compare_tables, per_query_table
    from embedtune.guard.task import evaluate_guard, load_guard
    from embedtune.merging.linear import snapshot
    from embedtune.merging.run import merge_after_training
    from embedtune.training.selection import carve_validation
    from embedtune.workflow import evaluate, load_base_model, load_data, train

    config = load_config(**settings, guard_data=guard_source, output=str(workdir / name))
    data, guard = load_data(config), load_guard(config)
    dims = config.dims
    model = load_base_model(config)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    test = {"base": evaluate(model, data, config, show_progress_bar=False)}
    guard.base = evaluate_guard(model, guard, config)
    on_guard = {"base": guard.base}
    seconds["base_evaluations"] = round(time.perf_counter() - t, 1)
    say(f"{name}: base test {_ndcg(test['base'], dims)} guard {_ndcg(guard.base, dims)}")
    base_weights = snapshot(model)
    carved = carve_validation(data, config)
    t = time.perf_counter()
    outcome = train(config, model, data, workdir / name / "run", carved=carved)  # no merge
    seconds["train"] = round(time.perf_counter() - t, 1)
    improved = outcome.selected == "finetuned"
    t = time.perf_counter()
    test["finetuned"] = evaluate(model, data, config, show_progress_bar=False)
    on_guard["finetuned"] = evaluate_guard(model, guard, config)
    seconds["finetuned_evaluations"] = round(time.perf_counter() - t, 1)
    say(
        f"{name}: finetuned ({outcome.selected}) test {_ndcg(test['finetuned'], dims)} "
        f"guard {_ndcg(on_guard['finetuned'], dims)}"
    )
    t = time.perf_counter()
    merge = merge_after_training(
        model,
        base_weights,
        dataclasses.replace(config, merge_base="auto"),
        improved=improved,
        validation=carved.validation,
        guard=guard,
        grid=grid,
    )
    seconds["merge_auto"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    if merge is None or merge.block["base_weight"] == 0.0:
        test["merged"], on_guard["merged"] = test["finetuned"], on_guard["finetuned"]
    else:
        test["merged"] = evaluate(model, data, config, show_progress_bar=False)
        on_guard["merged"] = merge.guard_evaluation or evaluate_guard(model, guard, config)
    seconds["merged_evaluations"] = round(time.perf_counter() - t, 1)
    say(
        f"{name}: merged (base weight {merge.block['base_weight'] if merge else None}) "
        f"test {_ndcg(test['merged'], dims)} guard {_ndcg(on_guard['merged'], dims)}"
    )

    def comparisons(evaluations) -> dict[str, Any]:
        table = per_query_table(evaluations)
        return {
            "finetuned_vs_base": compare_tables(table, candidate="finetuned"),
            "merged_vs_base": compare_tables(table, candidate="merged"),
            "merged_vs_finetuned": compare_tables(table, base="finetuned", candidate="merged"),
        }

    result = {
        "train": str(settings.get("data") or "built-in documentation"),
        "guard": guard_source,
        "data": data.summary(),
        "guard_data": {"test_queries": len(guard.data.queries), "corpus": len(guard.data.corpus)},
        "dims": dims,
        "selected": outcome.selected,
        "in_domain": {
            "ndcg@10": {k: _ndcg(v, dims) for k, v in test.items()},
            "comparisons": comparisons(test),
        },
        "on_guard": {
            "ndcg@10": {k: _ndcg(v, dims) for k, v in on_guard.items()},
            "comparisons": comparisons(on_guard),
        },
        "merge": merge.block if merge else None,
        "seconds": seconds,
        "load": load(),
    }
    del model
    gc.collect()
    return result


def _print(name: str, result: dict[str, Any]) -> None:
    print(f"\n=== {name}: train {result['train']}, guard {result['guard']} ===")
    merge = result["merge"]
    print(f"merge base weight: {merge['base_weight'] if merge else None}")
    for where in ("in_domain", "on_guard"):
        block = result[where]
        print(f"-- {where} nDCG@10")
        for model, values in block["ndcg@10"].items():
            print(f"  {model:<10}" + "".join(f"{values[str(d)]:>9.4f}" for d in result["dims"]))
        for label, comparison in block["comparisons"].items():
            cells = []
            for d in result["dims"]:
                entry = comparison[str(d)]
                low, high = entry["ci95"]
                star = "*" if entry["significant"] else ""
                cells.append(f"{d}:{entry['ndcg@10_delta']:+.4f}[{low:+.4f},{high:+.4f}]{star}")
            print(f"  {label:<20} " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--directions", default="legal->builtin,builtin->legal")
    parser.add_argument("--max-train-pairs", type=int, default=200)
    parser.add_argument("--max-test-queries", type=int, default=150)
    parser.add_argument("--max-corpus", type=int, default=800)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--grid-step", type=float, default=0.2, help="base weights auto scores (library: 0.1)"
    )
    parser.add_argument("--name", default="guard")
    args = parser.parse_args()
    quiet()
    steps = round(1 / args.grid_step)
    grid = tuple(round(i / steps, 2) for i in range(steps + 1))
    workdir = Path(tempfile.mkdtemp(prefix="embedtune-guard-"))
    started = time.perf_counter()
    legal = reduced_beir(
        LEGAL,
        workdir / "legal",
        test_queries=args.max_test_queries,
        train_pairs=args.max_train_pairs,
        corpus=args.max_corpus,
        seed=args.seed,
    )
    common = {
        "max_train_pairs": args.max_train_pairs,
        "max_test_queries": args.max_test_queries,
        "max_seq_length": args.max_seq_length,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "baselines": False,
    }
    recorded = {**common, "merge_grid": list(grid)}
    plans = {
        "legal->builtin": ({**common, "data": str(legal)}, "default"),
        "builtin->legal": ({**common, "data": None}, str(legal)),
    }
    results: dict[str, Any] = {}
    try:
        for name in args.directions.split(","):
            settings, guard = plans[name]
            say(f"{name}: start (load {load()})")
            results[name] = run_direction(name, settings, guard, workdir, grid)
            _print(name, results[name])
            write_result(
                args.name,
                {
                    "partial": True,
                    "settings": recorded,
                    "directions": results,
                    "total_seconds": round(time.perf_counter() - started, 1),
                },
            )
    finally:
        write_result(
            args.name,
            {
                "partial": len(results) < len(args.directions.split(",")),
                "settings": recorded,
                "directions": results,
                "total_seconds": round(time.perf_counter() - started, 1),
            },
        )
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
