"""LoRA (r = 8, 16, 32) vs full finetuning on the legal set: quality, parameters, memory, speed.

The same reduced legal BEIR folder as benchmarks/quality.py (seeded: 200 training pairs, 150 test
queries, an 800-document corpus, max_seq_length 128). Every recipe trains the same steps (plain
training: 2 epochs, batch 32, MNRL under Matryoshka, no mined negatives, no validation selection,
the last weights kept), so the figures compare the training methods and nothing else. LoRA
needs a larger learning rate than full finetuning: full at 2e-4 (embedtune's better full rate on
legal), LoRA at 1e-3 (`--recipes ...,lora16-lr2e-4` adds LoRA at the full rate).

Each recipe runs in its own process (peak RSS is the process's; `ru_maxrss`), under the same
settings; the parent scores the test queries with paired-bootstrap intervals against the base
and against full finetuning.

    HF_HUB_OFFLINE=1 nohup nice -n 10 .venv/bin/python benchmarks/lora.py \
        > benchmarks/results/lora.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import LEGAL, load, print_ndcg_tables, quiet, say, write_result

RECIPES: dict[str, dict[str, Any]] = {
    "full": {"learning_rate": 2e-4},
    "lora8": {"learning_rate": 1e-3, "lora": 8},
    "lora16": {"learning_rate": 1e-3, "lora": 16},
    "lora32": {"learning_rate": 1e-3, "lora": 32},
    "lora16-lr2e-4": {"learning_rate": 2e-4, "lora": 16},  # not run by default (time)
}
TRAINING = {
    "batch_size": 32,
    "epochs": 2,
    "hard_negatives": False,
    "early_stopping_patience": 0,
    "warmup_ratio": 0.1,
}


def worker(args) -> None:
    """One recipe: train, evaluate on the test queries, write the evaluation and the costs."""
    quiet()
    from embedtune.config import load_config
    from embedtune.training.finetune import finetune
    from embedtune.training.lora import add_lora, finish_lora
    from embedtune.workflow import evaluate, load_base_model, load_data

    settings = {**json.loads(args.settings), "data": args.data, "output": args.workdir}
    config = load_config(**settings)
    data = load_data(config)
    model = load_base_model(config)
    result: dict[str, Any] = {}
    if args.recipe == "base":
        evaluation = evaluate(model, data, config, show_progress_bar=False)
    else:
        adapter = add_lora(model, config)
        summary = finetune(model, data.train, None, config, f"{args.workdir}/checkpoints")
        finish_lora(model, adapter, f"{args.workdir}/checkpoints")
        evaluation = evaluate(model, data, config, show_progress_bar=False)
        result = {
            "trainable_parameters": summary.trainable_parameters,
            "total_parameters": summary.total_parameters,
            "optimizer_steps": summary.optimizer_steps,
            "train_seconds": summary.train_seconds,
            "seconds_per_step": round(summary.train_seconds / summary.optimizer_steps, 2),
            "adapter": adapter,
        }
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["evaluation"] = evaluation.to_dict()
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


def run_recipe(name: str, settings: dict[str, Any], data: str, workdir: Path) -> dict[str, Any]:
    out = workdir / f"{name}.json"
    command = [sys.executable, __file__, "--worker", name, "--data", data, "--out", str(out)]
    command += ["--settings", json.dumps(settings), "--workdir", str(workdir / name)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    result = json.loads(out.read_text(encoding="utf-8"))
    result["process_seconds"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", default="full,lora8,lora16,lora32")
    parser.add_argument("--max-train-pairs", type=int, default=200)
    parser.add_argument("--max-test-queries", type=int, default=150)
    parser.add_argument("--max-corpus", type=int, default=800)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="lora")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.recipe = args.worker
        worker(args)
        return
    quiet()
    from quality import reduced_beir

    from embedtune.evaluation.bootstrap import compare_tables, per_query_table
    from embedtune.evaluation.retrieval import RetrievalEvaluation

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="embedtune-lora-"))
    data = str(
        reduced_beir(
            LEGAL,
            workdir / "legal",
            test_queries=args.max_test_queries,
            train_pairs=args.max_train_pairs,
            corpus=args.max_corpus,
            seed=args.seed,
        )
    )
    common = {"max_seq_length": args.max_seq_length, "seed": args.seed, **TRAINING}
    runs: dict[str, dict[str, Any]] = {}
    evaluations: dict[str, RetrievalEvaluation] = {}
    for name in ["base", *args.recipes.split(",")]:
        settings = {**common, **RECIPES.get(name, {})}
        say(f"{name}: {RECIPES.get(name, 'no training')} (load {load()})")
        result = run_recipe(name, settings, data, workdir)
        evaluations[name] = RetrievalEvaluation.from_dict(result.pop("evaluation"))
        runs[name] = {**result, "load": load()}
        dims = evaluations[name].dims
        ndcg = {d: round(evaluations[name].by_dim[d].metrics["ndcg@10"], 4) for d in dims}
        say(f"{name}: ndcg@10 {ndcg}; {json.dumps({k: v for k, v in result.items()})}")

    dims = evaluations["base"].dims
    table = per_query_table(evaluations)
    comparisons = {
        f"{r}_vs_base": compare_tables(table, base="base", candidate=r)
        for r in evaluations
        if r != "base"
    }
    if "full" in evaluations:
        comparisons.update(
            {
                f"{r}_vs_full": compare_tables(table, base="full", candidate=r)
                for r in evaluations
                if r.startswith("lora")
            }
        )
    ndcg = {
        r: {str(d): round(e.by_dim[d].metrics["ndcg@10"], 4) for d in dims}
        for r, e in evaluations.items()
    }
    print_ndcg_tables(dims, ndcg, comparisons)
    write_result(
        args.name,
        {
            "settings": {
                **common,
                "max_train_pairs": args.max_train_pairs,
                "max_test_queries": args.max_test_queries,
                "max_corpus": args.max_corpus,
                "loss": "mnrl (Matryoshka)",
                "selection": "none: plain training, last weights kept",
            },
            "recipes": {r: RECIPES.get(r, {}) for r in evaluations},
            "dims": dims,
            "ndcg@10": ndcg,
            "comparisons": comparisons,
            "runs": runs,
            "total_seconds": round(time.perf_counter() - started, 1),
        },
    )


if __name__ == "__main__":
    main()
