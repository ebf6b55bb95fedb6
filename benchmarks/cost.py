"""The default job against a plain Sentence Transformers recipe: wall time and quality, side by side.

Issue 18's targets: the whole default job (`run_finetune` with every default) within 1.2x the
wall time of a plain 20-line recipe, with no significant loss to it (nor to the base) at any
Matryoshka dim; `learning_rate: auto` by successive halving choosing the full sweep's rate (or
one within its interval).

Per data set (1,000 seeded training pairs, every test query, the full corpus):
- **plain**: what a user writes from the Sentence Transformers docs: load the model, MatryoshkaLoss
  around MultipleNegativesRankingLoss (in-batch negatives only), batch 32, lr 5e-5, 3 epochs,
  warm-up 10%, no validation, the last step kept; then the base and the trained model evaluated on
  the test queries (the same evaluator as embedtune's). Timed from model load to the last score.
- **default**: `run_finetune(load_config(data=..., max_train_pairs=1000))`, every default,
  outputs written (model, report, chart), timed end to end; its per-dim timings come from its
  own results.json.
- **full-sweep** (optional, `--recipes`): the default job with halving off (every candidate rate
  trains the whole run), for the halving-vs-sweep check.
- **reference** (optional, `--recipes`): the seed's recipe (ZenML llm-complete-guide: batch 4 x
  accumulation 16, lr 2e-5, 4 epochs, in-batch negatives only, the last step kept), run as the
  plain one; its quality is what counts (defaults must never lose to it), not its time.
- **variations** (optional, `--recipes default:KEY=VALUE`, e.g. `default:epochs=3`): the default
  job with one setting changed, compared with the default job (list `default` too) and the base.

Quality: paired bootstrap over the test queries (95%, 2,000 resamples) of default vs plain, default
vs base, plain vs base (and default vs full-sweep). Run alone on the machine (timings!); the load
average is recorded before and after each job.

    HF_HUB_OFFLINE=1 nohup .venv/bin/python benchmarks/cost.py > benchmarks/results/cost.log 2>&1 &
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from common import LEGAL, SHARED_DATA, load, print_ndcg_tables, quiet, say, write_result

ARGUANA = SHARED_DATA / "arguana_genq"
PLAIN = {
    "batch_size": 32,
    "gradient_accumulation_steps": 1,
    "learning_rate": 5e-5,
    "epochs": 3,
    "warmup_ratio": 0.1,
}
# ZenML llm-complete-guide's recipe (the seed's): batch 4 x accumulation 16, lr 2e-5, 4 epochs,
# in-batch negatives only, the last step kept
REFERENCE = {
    "batch_size": 4,
    "gradient_accumulation_steps": 16,
    "learning_rate": 2e-5,
    "epochs": 4,
    "warmup_ratio": 0.1,
}
PLAIN_RECIPES = {"plain": PLAIN, "reference": REFERENCE}


def data_sources(names: list[str]) -> dict[str, dict[str, Any]]:
    table = {
        "legal": {"data": str(LEGAL)},
        "builtin": {"data": None},
        "arguana": {"data": str(ARGUANA), "ignore_identical_ids": True},
    }
    return {name: table[name] for name in names}


def plain_recipe(
    settings: dict[str, Any], pairs: int, seed: int, workdir: Path, recipe: dict = PLAIN
):
    """A plain Sentence Transformers recipe (PLAIN or REFERENCE), timed end to end.
    Returns (data, base eval, trained eval, seconds, parts)."""
    started = time.perf_counter()
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import (
        MatryoshkaLoss,
        MultipleNegativesRankingLoss,
    )

    from embedtune.config import load_config
    from embedtune.evaluation.retrieval import evaluate_retrieval
    from embedtune.workflow import load_data

    config = load_config(**settings, max_train_pairs=pairs, seed=seed, output=str(workdir))
    data = load_data(config)  # the same seeded pairs and test split as the default job
    model = SentenceTransformer(config.base_model, device="cpu")  # its own length (256)
    parts: dict[str, float] = {}

    def score():
        t = time.perf_counter()
        evaluation = evaluate_retrieval(
            model, data, config.dims, ignore_identical_ids=config.ignore_identical_ids
        )
        return evaluation, time.perf_counter() - t

    base, parts["base_evaluation"] = score()
    loss = MatryoshkaLoss(model, MultipleNegativesRankingLoss(model), config.dims)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(workdir / "plain"),
        num_train_epochs=recipe["epochs"],
        per_device_train_batch_size=recipe["batch_size"],
        gradient_accumulation_steps=recipe["gradient_accumulation_steps"],
        learning_rate=recipe["learning_rate"],
        warmup_steps=recipe["warmup_ratio"],
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        report_to="none",
        seed=seed,
        disable_tqdm=True,
    )
    train = data.train.select_columns(["query", "document"])
    t = time.perf_counter()
    SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=loss).train()
    parts["training"] = time.perf_counter() - t
    trained, parts["final_evaluation"] = score()
    seconds = time.perf_counter() - started
    return data, base, trained, seconds, {k: round(v, 1) for k, v in parts.items()}


def default_job(settings: dict[str, Any], pairs: int, seed: int, workdir: Path, **overrides):
    """run_finetune with every default; returns (results, per-query table, seconds)."""
    from embedtune.config import load_config
    from embedtune.workflow import run_finetune

    started = time.perf_counter()
    config = load_config(
        **settings, **overrides, max_train_pairs=pairs, seed=seed, output=str(workdir)
    )
    results = run_finetune(config)
    seconds = time.perf_counter() - started
    table = json.loads((workdir / "per_query.json").read_text(encoding="utf-8"))
    return results, table, seconds


def variation(recipe: str) -> dict[str, Any]:
    """`default:epochs=3` -> {"epochs": 3} (YAML-typed, as a config file would read it)."""
    if ":" not in recipe:
        return {}
    import yaml

    key, _, value = recipe.split(":", 1)[1].partition("=")
    return {key: yaml.safe_load(value)}


def summarize(entry: dict[str, Any], per_query: dict[str, Any], recipes: list[str]) -> None:
    """Mean nDCG@10 per model and dim, paired bootstraps, and the wall-time ratio, into entry."""
    from embedtune.evaluation.bootstrap import paired_bootstrap

    dims = sorted({int(d) for m in per_query.values() for d in m}, reverse=True)
    pairs = [
        ("default", "plain"),
        ("default", "reference"),
        ("default", "base_default"),
        ("reference", "base_256"),
        ("plain", "base_256"),
        ("default", "full-sweep"),
        ("full-sweep", "base_default"),
    ]
    for recipe in recipes:
        if ":" in recipe:
            pairs += [(recipe, "default"), (recipe, "base_default"), (recipe, "reference")]
    entry["dims"] = dims
    entry["comparisons"] = {
        f"{a}_vs_{b}": {
            str(d): paired_bootstrap(per_query[b][str(d)], per_query[a][str(d)]).as_dict("ndcg@10")
            for d in dims
        }
        for a, b in pairs
        if a in per_query and b in per_query
    }
    entry["ndcg@10"] = {
        label: {str(d): round(sum(v[str(d)]) / len(v[str(d)]), 4) for d in dims}
        for label, v in per_query.items()
    }
    if "plain" in entry["runs"] and "default" in entry["runs"]:
        entry["wall_time_ratio_default_to_plain"] = round(
            entry["runs"]["default"]["seconds"] / entry["runs"]["plain"]["seconds"], 3
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="legal,builtin,arguana")
    parser.add_argument(
        "--recipes",
        default="plain,default",
        help="plain,default,full-sweep,reference and variations default:KEY=VALUE",
    )
    parser.add_argument("--max-train-pairs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="cost")
    args = parser.parse_args()
    quiet()

    from embedtune.evaluation.bootstrap import per_query_table

    started = time.perf_counter()
    out: dict[str, Any] = {}
    recipes = args.recipes.split(",")

    def save(partial: bool) -> None:
        write_result(
            args.name,
            {
                "partial": partial,
                "settings": {"max_train_pairs": args.max_train_pairs, "seed": args.seed},
                "plain_recipe": PLAIN,
                "datasets": out,
                "total_seconds": round(time.perf_counter() - started, 1),
            },
        )

    for name, settings in data_sources(args.datasets.split(",")).items():
        workdir = Path(tempfile.mkdtemp(prefix=f"embedtune-cost-{name}-"))
        entry: dict[str, Any] = {"settings": settings, "runs": {}, "ndcg@10": {}}
        per_query: dict[str, Any] = {}  # model -> dim -> [per-query ndcg@10], aligned
        query_ids: list[str] | None = None
        try:
            for plain in [r for r in recipes if r in PLAIN_RECIPES]:
                say(f"{name} / {plain} (load {load()})")
                before = load()
                data, base, trained, seconds, parts = plain_recipe(
                    settings,
                    args.max_train_pairs,
                    args.seed,
                    workdir / f"{plain}-run",
                    PLAIN_RECIPES[plain],
                )
                table = per_query_table({"base_256": base, plain: trained})
                if query_ids is None:
                    query_ids = table["query_ids"]
                order = [table["query_ids"].index(q) for q in query_ids]
                for label, by_dim in table["models"].items():
                    per_query[label] = {
                        d: [cols["ndcg@10"][i] for i in order] for d, cols in by_dim.items()
                    }
                entry["runs"][plain] = {
                    "seconds": round(seconds, 1),
                    "parts": parts,
                    "load_before": before,
                    "load_after": load(),
                    "train_pairs": len(data.train),
                    "test_queries": len(query_ids),
                    "corpus": len(data.corpus),
                    "max_seq_length": 256,
                }
                say(f"{name} / {plain}: {seconds:.0f}s {parts}")
                del data, base, trained
                gc.collect()
                summarize(entry, per_query, recipes)
                out[name] = entry
                save(partial=True)
            for recipe in [r for r in recipes if r in ("default", "full-sweep") or ":" in r]:
                say(f"{name} / {recipe} (load {load()})")
                before = load()
                from embedtune.training import sweep

                saved = sweep.HALVING_FRACTION
                sweep.HALVING_FRACTION = None if recipe == "full-sweep" else saved
                try:
                    results, table, seconds = default_job(
                        settings,
                        args.max_train_pairs,
                        args.seed,
                        workdir / recipe.replace(":", "-").replace("=", "-"),
                        **variation(recipe),
                    )
                finally:
                    sweep.HALVING_FRACTION = saved
                ids = table["query_ids"]
                if query_ids is None:
                    query_ids = ids
                order = [ids.index(q) for q in query_ids]
                for label, by_dim in table["models"].items():
                    key = {"base": f"base_{recipe}", "finetuned": recipe}.get(label)
                    if key:
                        per_query[key] = {
                            d: [cols["ndcg@10"][i] for i in order] for d, cols in by_dim.items()
                        }
                training = results["training"]
                entry["runs"][recipe] = {
                    "seconds": round(seconds, 1),
                    "timings": results.get("timings"),
                    "load_before": before,
                    "load_after": load(),
                    "selected": results["selection"]["selected"],
                    "learning_rate": training.get("learning_rate"),
                    "learning_rate_sweep": training.get("learning_rate_sweep"),
                    "optimizer_steps": training.get("optimizer_steps"),
                    "max_seq_length": training.get("max_seq_length"),
                    "sequence_length": results.get("sequence_length"),
                    "selection": {
                        k: results["selection"].get(k)
                        for k in ("metric", "base_score", "best_score", "best_step")
                    },
                    "validation_queries": results["selection"].get("validation_queries"),
                    "validation_corpus": results["selection"].get("validation_corpus"),
                    "encoding_reuse": results.get("encoding_reuse"),
                }
                say(f"{name} / {recipe}: {seconds:.0f}s lr {training.get('learning_rate')}")
                shutil.rmtree(
                    workdir / recipe.replace(":", "-").replace("=", "-"), ignore_errors=True
                )
                gc.collect()
                summarize(entry, per_query, recipes)
                out[name] = entry
                save(partial=True)  # a killed run keeps every job it finished
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        summarize(entry, per_query, recipes)
        print(f"\n=== {name} ===")
        print_ndcg_tables(entry["dims"], entry["ndcg@10"], entry["comparisons"])
        if "wall_time_ratio_default_to_plain" in entry:
            print(f"wall time default / plain: {entry['wall_time_ratio_default_to_plain']}")
        out[name] = entry
        save(partial=True)  # a killed run still leaves the sets it finished
    save(partial=False)


if __name__ == "__main__":
    main()
