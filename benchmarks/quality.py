"""Retrieval quality on several data sets: base vs the reference recipe vs embedtune recipes.

Defaults are chosen here, on every data set available offline, with paired-bootstrap 95%
intervals: a default must win or tie on EVERY data set and never lose significantly to the base
or to the reference recipe.

Data sets (BEIR folders; the same seeded subsets for every recipe; see benchmarks/README.md):
- legal: ../shared/data/legal_rag_synthetic (LLM questions on court-opinion chunks; split by chunk)
- builtin: embedtune's built-in Python documentation with offline queries (split by document)
- arguana: ../shared/data/arguana_genq (T5 doc2query training queries, HUMAN test queries; BEIR's
  ignore-identical-ids rule).
legal and arguana are sampled (--max-train-pairs, --max-test-queries) and their corpus reduced to
the sampled pairs' documents plus a seeded sample of the others (--max-corpus), because encoding
thousands of documents for every recipe does not fit this 2-core CPU's time budget; a smaller
corpus makes retrieval easier for every model alike (absolute scores are higher than on the full
corpus), the comparisons between recipes are what matters.

Recipes:
- reference: ZenML llm-complete-guide's recipe: batch 4 x gradient accumulation 16, MNRL under
  Matryoshka, no negatives, lr 2e-5, 4 epochs, all training pairs, the last epoch kept (no
  selection: this is plain training).
- lr2e-5 ... lr2e-4: embedtune's selection (validation queries carved from training, base as
  step 0, eval every 1/4 epoch, early stopping), batch 32, 1 mined hard negative, up to 2 epochs.
- hn0 / hn3: the same at --hn-lr with no / three mined negatives.
- auto: the default `learning_rate: auto` (5e-5 and 2e-4, the better on validation kept).
- lora16-auto: `--lora 16` with its default `learning_rate: auto` (5e-4 and 2e-3).

    HF_HUB_OFFLINE=1 nohup .venv/bin/python benchmarks/quality.py > benchmarks/results/quality_v2.log 2>&1 &
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from common import LEGAL, SHARED_DATA, load, print_ndcg_tables, quiet, say, write_result

ARGUANA = SHARED_DATA / "arguana_genq"
REFERENCE = {
    "batch_size": 4,
    "gradient_accumulation_steps": 16,
    "learning_rate": 2e-5,
    "epochs": 4,
    "hard_negatives": False,
}


def recipes(hn_lr: float) -> dict[str, dict[str, Any]]:
    ours = {"batch_size": 32, "epochs": 2, "hard_negatives": True, "num_negatives": 1}
    table: dict[str, dict[str, Any]] = {"reference": REFERENCE}
    for lr in ("2e-5", "5e-5", "1e-4", "2e-4"):
        table[f"lr{lr}"] = {**ours, "learning_rate": float(lr)}
    table["hn0"] = {**ours, "learning_rate": hn_lr, "hard_negatives": False}
    table["hn3"] = {**ours, "learning_rate": hn_lr, "num_negatives": 3}
    table["bs16"] = {**ours, "learning_rate": hn_lr, "batch_size": 16}
    table["by-document"] = {**ours, "learning_rate": hn_lr, "split": "by-document"}
    # The default under --lora: the LoRA candidate pair of `learning_rate: auto`.
    table["auto"] = {**ours, "learning_rate": "auto"}
    table["lora16-auto"] = {**ours, "learning_rate": "auto", "lora": 16}
    return table


def reduced_beir(
    source: Path, folder: Path, *, test_queries: int, train_pairs: int, corpus: int, seed: int
) -> Path:
    """A BEIR folder with sampled test queries, sampled train pairs and a reduced corpus: the
    sampled pairs' documents plus a seeded sample of the others, `corpus` documents in all."""
    rng = random.Random(seed)

    def qrels(name: str) -> list[tuple[str, str]]:
        lines = (source / "qrels" / name).read_text(encoding="utf-8").splitlines()[1:]
        return [tuple(line.split("\t")[:2]) for line in lines if line.strip()]

    docs = {
        row["_id"]: row for row in map(json.loads, (source / "corpus.jsonl").open(encoding="utf-8"))
    }
    query_ids = {
        json.loads(line)["_id"] for line in (source / "queries.jsonl").open(encoding="utf-8")
    }
    test = [(q, d) for q, d in qrels("test.tsv") if q in query_ids and d in docs]
    rng.shuffle(test)
    test = test[:test_queries]
    train = [(q, d) for q, d in qrels("train.tsv") if d in docs]
    rng.shuffle(train)
    train = train[:train_pairs]
    keep = {d for _, d in test} | {q for q, _ in test if q in docs} | {d for _, d in train}
    others = sorted(set(docs) - keep)
    rng.shuffle(others)
    keep |= set(others[: max(0, corpus - len(keep))])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qrels").mkdir(exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for doc_id in sorted(keep):
            out.write(json.dumps(docs[doc_id]) + "\n")
    wanted = {q for q, _ in test} | {q for q, _ in train}
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as out:
        for line in (source / "queries.jsonl").open(encoding="utf-8"):
            if json.loads(line)["_id"] in wanted:
                out.write(line)
    for name, rows in (("test.tsv", test), ("train.tsv", train)):
        text = "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in rows)
        (folder / "qrels" / name).write_text(text, encoding="utf-8")
    return folder


def datasets(args, workdir: Path) -> dict[str, dict[str, Any]]:
    def reduced(source: Path, name: str) -> str:
        return str(
            reduced_beir(
                source,
                workdir / name,
                test_queries=args.max_test_queries,
                train_pairs=args.max_train_pairs,
                corpus=args.max_corpus,
                seed=args.seed,
            )
        )

    table = {
        "legal": {"data": reduced(LEGAL, "legal")},
        "builtin": {"data": None},
        "arguana": {"data": reduced(ARGUANA, "arguana"), "ignore_identical_ids": True},
    }
    return {name: table[name] for name in args.datasets.split(",")}


def train_reference(config, data, workdir: str):
    """Plain training: all pairs, no validation, the last epoch kept."""
    from embedtune.training.finetune import finetune
    from embedtune.workflow import load_base_model

    model = load_base_model(config)
    summary = finetune(model, data.train, None, config, f"{workdir}/checkpoints")
    return model, {"selected": "finetuned", "optimizer_steps": summary.optimizer_steps}


def train_ours(config, data, workdir: str):
    from embedtune.workflow import load_base_model, train

    outcome = train(config, load_base_model(config), data, workdir)
    selection = {k: v for k, v in outcome.selection.items()}
    selection["optimizer_steps"] = outcome.summary.optimizer_steps
    selection["mining"] = outcome.summary.hard_negative_mining
    return outcome.model, selection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="legal,builtin,arguana")
    parser.add_argument("--recipes", default="lr5e-5,lr2e-4,reference,lr2e-5,hn0,hn3,lr1e-4")
    parser.add_argument("--hn-lr", type=float, default=5e-5, help="lr of the hn0/hn3/bs16 runs")
    parser.add_argument("--max-train-pairs", type=int, default=200)
    parser.add_argument("--max-test-queries", type=int, default=150)
    parser.add_argument("--max-corpus", type=int, default=800, help="legal and arguana corpus")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="quality_v2")
    args = parser.parse_args()
    quiet()

    from embedtune.config import load_config
    from embedtune.evaluation.bootstrap import compare_tables, per_query_table
    from embedtune.workflow import evaluate, load_base_model, load_data

    workdir = Path(tempfile.mkdtemp(prefix="embedtune-quality-"))
    started = time.perf_counter()
    sets = datasets(args, workdir)
    table = recipes(args.hn_lr)
    chosen = {name: table[name] for name in args.recipes.split(",")}
    common = {
        "max_train_pairs": args.max_train_pairs,
        "max_test_queries": args.max_test_queries,
        "max_seq_length": args.max_seq_length,
        "seed": args.seed,
    }
    state: dict[str, dict[str, Any]] = {}
    for name, settings in sets.items():
        config = load_config(**common, **settings, output=str(workdir / name))
        data = load_data(config)
        t = time.perf_counter()
        base = evaluate(load_base_model(config), data, config)
        say(f"{name}: {data.summary()} base ndcg@10 {_ndcg(base, config.dims)}")
        state[name] = {
            "settings": settings,
            "data": data,
            "dims": config.dims,
            "evaluations": {"base": base},
            "runs": {"base": {"eval_s": round(time.perf_counter() - t, 1)}},
        }
        gc.collect()

    def summarise(final: bool) -> None:
        out: dict[str, Any] = {}
        for name, entry in state.items():
            evaluations, dims = entry["evaluations"], entry["dims"]
            per_query = per_query_table(evaluations)
            comparisons = {
                f"{r}_vs_base": compare_tables(per_query, base="base", candidate=r)
                for r in evaluations
                if r != "base"
            }
            if "reference" in evaluations:
                comparisons.update(
                    {
                        f"{r}_vs_reference": compare_tables(
                            per_query, base="reference", candidate=r
                        )
                        for r in evaluations
                        if r not in ("base", "reference")
                    }
                )
            ndcg = {r: _ndcg(e, dims) for r, e in evaluations.items()}
            if final:
                print(f"\n=== {name} ===")
                print_ndcg_tables(dims, ndcg, comparisons)
            out[name] = {
                "data": {**entry["data"].summary(), "settings": entry["settings"]},
                "protocol": entry["data"].protocol,
                "dims": dims,
                "ndcg@10": ndcg,
                "metrics": {r: e.metrics() for r, e in evaluations.items()},
                "comparisons": comparisons,
                "runs": entry["runs"],
                "per_query_ndcg@10": {
                    "query_ids": per_query["query_ids"],
                    **{
                        r: {d: cols["ndcg@10"] for d, cols in by_dim.items()}
                        for r, by_dim in per_query["models"].items()
                    },
                },
            }
        write_result(
            args.name,
            {
                "partial": not final,
                "settings": {**common, "hn_lr": args.hn_lr, "max_corpus": args.max_corpus},
                "recipes": chosen,
                "datasets": out,
                "total_seconds": round(time.perf_counter() - started, 1),
            },
        )

    try:
        for recipe, overrides in chosen.items():
            for name, entry in state.items():
                config = load_config(
                    **common, **entry["settings"], **overrides, output=str(workdir / name)
                )
                if overrides.get("split") and overrides["split"] != entry["data"].protocol["split"]:
                    data = load_data(config)
                else:
                    data = entry["data"]
                say(f"{name} / {recipe}: {overrides} (load {load()})")
                t = time.perf_counter()
                trainer = train_reference if recipe == "reference" else train_ours
                model, selection = trainer(config, data, str(workdir / name / recipe))
                train_s = time.perf_counter() - t
                t = time.perf_counter()
                if selection["selected"] == "base":
                    evaluation = entry["evaluations"]["base"]
                else:
                    evaluation = evaluate(model, entry["data"], config)
                entry["evaluations"][recipe] = evaluation
                entry["runs"][recipe] = {
                    "train_s": round(train_s, 1),
                    "eval_s": round(time.perf_counter() - t, 1),
                    "load": load(),
                    **selection,
                }
                say(
                    f"{name} / {recipe}: ndcg@10 {_ndcg(evaluation, entry['dims'])} "
                    f"selected {selection['selected']} in {train_s:.0f}s"
                )
                del model
                gc.collect()
                shutil.rmtree(workdir / name / recipe, ignore_errors=True)
                summarise(final=False)  # a killed run still leaves what it measured
    finally:
        summarise(final=True)
        shutil.rmtree(workdir, ignore_errors=True)


def _ndcg(evaluation, dims: list[int]) -> dict[str, float]:
    return {str(d): round(evaluation.by_dim[d].metrics["ndcg@10"], 4) for d in dims}


if __name__ == "__main__":
    main()
