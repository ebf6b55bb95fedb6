"""Retrieval quality: base vs the reference recipe vs embedtune's default recipe.

Data: ../shared/data/legal_rag_synthetic (BEIR, re-split by chunk: no test chunk is trained on);
the same seeded subset of training pairs for every recipe, all 665 test queries against all 2,316
chunks. nDCG@10 per Matryoshka dimension, with paired-bootstrap 95% intervals of every gain.

Recipes (1 epoch each, same data, seed, sequence length, lr schedule):
- reference: ZenML llm-complete-guide's settings: batch 4 x gradient accumulation 16, MNRL,
  no negatives (MNRL sees 3 in-batch negatives per query; accumulation adds none), lr 2e-5
  (pinned: embedtune's default lr is no longer the reference's).
- ours: FinetuneConfig defaults (what `embedtune finetune` runs).
- ours_no_hn: the defaults without hard-negative mining (ablation).
More with --variant NAME:key=value,key=value (FinetuneConfig fields on top of the defaults).

    HF_HUB_OFFLINE=1 nohup .venv/bin/python benchmarks/quality.py > benchmarks/results/quality.log 2>&1 &
"""

from __future__ import annotations

import argparse
import gc
import shutil
import tempfile
import time
from typing import Any

from common import LEGAL, load, print_ndcg_tables, quiet, say, write_result

RECIPES: dict[str, dict[str, Any]] = {
    "reference": {
        "batch_size": 4,
        "gradient_accumulation_steps": 16,
        "learning_rate": 2e-5,
        "loss": "mnrl",
        "hard_negatives": False,
    },
    "ours": {},
    "ours_no_hn": {"hard_negatives": False},
}


def parse_value(text: str) -> Any:
    import yaml

    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return yaml.safe_load(text)  # true/false/null/strings


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, settings = text.partition(":")
    values = {}
    for item in filter(None, settings.split(",")):
        key, _, value = item.partition("=")
        values[key.strip()] = parse_value(value.strip())
    return name.strip(), values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(LEGAL))
    parser.add_argument("--max-train-pairs", type=int, default=1000)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--recipes", default="reference,ours,ours_no_hn")
    parser.add_argument("--variant", action="append", default=[], help="NAME:key=value,...")
    parser.add_argument("--name", default="quality", help="results file name")
    args = parser.parse_args()
    quiet()

    from embedtune.evaluation.bootstrap import compare_tables, per_query_table
    from embedtune.config import load_config
    from embedtune.workflow import evaluate, load_base_model, load_data, train

    recipes = {name: RECIPES[name] for name in filter(None, args.recipes.split(","))}
    recipes.update(parse_variant(v) for v in args.variant)
    common_settings = {
        "data": args.data,
        "max_train_pairs": args.max_train_pairs,
        "max_seq_length": args.max_seq_length,
        "epochs": args.epochs,
    }
    started = time.perf_counter()
    loads = {"start": load()}
    base_config = load_config(**common_settings)
    data = load_data(base_config)
    say("data:", data.summary())
    base, dims = load_base_model(base_config)
    t = time.perf_counter()
    evaluations = {"base": evaluate(base, data, dims, base_config)}
    timings: dict[str, dict[str, float]] = {"base": {"eval_s": round(time.perf_counter() - t, 1)}}
    say("base ndcg@10:", _ndcg(evaluations["base"], dims))
    del base
    gc.collect()

    def summarise(final: bool) -> None:
        done = [name for name in recipes if name in evaluations]
        table = per_query_table(evaluations)
        ndcg = {name: _ndcg(evaluation, dims) for name, evaluation in evaluations.items()}
        comparisons = {
            f"{name}_vs_base": compare_tables(table, base="base", candidate=name) for name in done
        }
        if "ours" in done:
            for other in done:
                if other != "ours":
                    comparisons[f"ours_vs_{other}"] = compare_tables(
                        table, base=other, candidate="ours"
                    )
        targets = {}
        if "ours" in done:
            vs_base = comparisons["ours_vs_base"]
            targets["ours_beats_base_every_dim_interval_above_0"] = all(
                vs_base[str(d)]["ci95"][0] > 0 for d in dims
            )
            targets["ours_at_smallest_dim_ge_base_at_full"] = (
                ndcg["ours"][str(dims[-1])] >= ndcg["base"][str(dims[0])]
            )
            if "reference" in done:
                targets["ours_beats_reference_every_dim"] = all(
                    ndcg["ours"][str(d)] > ndcg["reference"][str(d)] for d in dims
                )
                targets["ours_beats_reference_every_dim_significant"] = all(
                    comparisons["ours_vs_reference"][str(d)]["ci95"][0] > 0 for d in dims
                )
        if final:
            print()
            print_ndcg_tables(dims, ndcg, comparisons)
            print("\ntargets:", targets)
            loads["end"] = load()
        write_result(
            args.name,
            {
                "partial": not final,
                "data": {**data.summary(), "source": args.data},
                "settings": common_settings,
                "recipes": {name: recipes[name] for name in recipes},
                "configs": configs,
                "dims": dims,
                "ndcg@10": ndcg,
                "metrics": {name: ev.metrics() for name, ev in evaluations.items()},
                "comparisons": comparisons,
                "targets": targets,
                "timings": timings,
                "load_average": loads,
                "total_seconds": round(time.perf_counter() - started, 1),
                "per_query_ndcg@10": {
                    "query_ids": table["query_ids"],
                    **{
                        name: {d: cols["ndcg@10"] for d, cols in by_dim.items()}
                        for name, by_dim in table["models"].items()
                    },
                },
            },
        )

    configs: dict[str, dict[str, Any]] = {}
    workdir = tempfile.mkdtemp(prefix="embedtune-quality-")
    try:
        for name, overrides in recipes.items():
            config = load_config(**common_settings, **overrides)
            configs[name] = {k: v for k, v in config.public_dict().items() if k != "extra"}
            say(f"training {name}: {overrides or 'defaults'} (load {load()})")
            t = time.perf_counter()
            model, summary = train(config, data, dims, f"{workdir}/{name}")
            train_s = time.perf_counter() - t
            t = time.perf_counter()
            evaluations[name] = evaluate(model, data, dims, config)
            timings[name] = {
                "train_s": round(train_s, 1),
                "trainer_train_s": summary.train_seconds,
                "samples_per_s": summary.samples_per_second,
                "optimizer_steps": summary.optimizer_steps,
                "eval_s": round(time.perf_counter() - t, 1),
                "mining": summary.hard_negative_mining,
            }
            say(f"{name} ndcg@10:", _ndcg(evaluations[name], dims), timings[name])
            loads[name] = load()
            del model
            gc.collect()
            summarise(final=False)  # a killed run still leaves what it measured
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    summarise(final=True)


def _ndcg(evaluation, dims: list[int]) -> dict[str, float]:
    return {str(d): round(evaluation.by_dim[d].metrics["ndcg@10"], 4) for d in dims}


if __name__ == "__main__":
    main()
