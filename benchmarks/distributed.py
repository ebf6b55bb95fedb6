"""One process with batch 2B vs two processes (torchrun, gloo, CPU) with batch B, same data and seed.

Two parts, both on the same reduced legal task (../shared/data/legal_rag_synthetic: seeded train
pairs, test queries and a reduced corpus, as in quality.py):

1. rank 0 alone or sharded: under `torchrun --nproc_per_node 2`, the base model's test evaluation
   and hard-negative mining timed two ways: once on rank 0 while rank 1 waits (then broadcast),
   and once on rank 0 with every encoding sharded across both ranks (Sentence Transformers'
   distributed_evaluation, what embedtune does). Two rounds, alternating; the best of each.
2. quality and wall-clock: `embedtune finetune --batch-size 2B` as one process (both cores:
   OMP_NUM_THREADS=2) and `torchrun --nproc_per_node 2 -m embedtune finetune --batch-size B`
   (one core each) with cross-device negatives, so both train against 2B in-batch candidates.
   nDCG@10 per dim side by side with the paired-bootstrap 95% interval of each against the base
   and of the two-process model against the one-process model (expected: a tie).

The CPU is shared (7 people, 2 cores): the load averages are recorded; run it under nice:

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python benchmarks/distributed.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import LEGAL, REPO, load, print_ndcg_tables, say, write_result

SEED = 42
DIMS = "384,256,128,64"
FINETUNE = ["--max-seq-length", "64", "--epochs", "1", "--learning-rate", "1e-4"]
FINETUNE += ["--dims", DIMS, "--seed", str(SEED), "--no-baselines", "-q"]


def torchrun(nproc: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone"] + [
        "--nproc_per_node",
        str(nproc),
    ]


def run(command: list[str], *, threads: int) -> float:
    """Run `command` from the repository root; its wall-clock seconds."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
    return round(seconds, 1)


# -- part 1: under torchrun ----------------------------------------------------------------------


def encode_worker(data: str, output: str, rounds: int) -> None:
    """Time base evaluation and mining on rank 0 alone vs sharded; rank 0 writes `output`."""
    from common import quiet

    quiet()
    from embedtune import distributed, workflow
    from embedtune.config import load_config
    from embedtune.training import train_and_select
    from embedtune.training.selection import carve_validation

    distributed.init()
    config = load_config(
        None, data=data, max_seq_length=64, seed=SEED, dims=DIMS, output=tempfile.mkdtemp()
    )
    data_ = workflow.load_data(config)
    model = workflow.load_base_model(config)
    carved = carve_validation(data_, config)
    main = distributed.is_main_process()
    timings: dict[str, dict[str, list[float]]] = {}

    def timed(name: str, strategy: str, work) -> Any:
        distributed.barrier()
        start = time.perf_counter()
        result = work()
        distributed.barrier()
        timings.setdefault(strategy, {}).setdefault(name, []).append(
            round(time.perf_counter() - start, 2)
        )
        return result

    def rank0_evaluation() -> Any:
        evaluation = workflow.evaluate_test(model, data_, config)[0] if main else None
        return distributed.broadcast(evaluation)

    def sharded_evaluation() -> Any:
        return distributed.on_main(model, lambda: workflow.evaluate_test(model, data_, config)[0])

    def rank0_mining() -> Any:
        mined = train_and_select.mine_negatives(model, carved.train, config) if main else None
        return distributed.broadcast(
            None if mined is None else distributed.portable(mined[0].train)
        )

    def sharded_mining() -> Any:
        return train_and_select.mine_on_main(model, carved.train, config)

    scores = {}
    for _ in range(rounds):
        for strategy, evaluate, mine in (
            ("rank0_only", rank0_evaluation, rank0_mining),
            ("sharded", sharded_evaluation, sharded_mining),
        ):
            evaluation = timed("base_evaluation", strategy, evaluate)
            scores[strategy] = evaluation.by_dim[config.dims[0]].metrics["ndcg@10"]
            timed("hard_negative_mining", strategy, mine)
    if main:
        Path(output).write_text(
            json.dumps({"timings": timings, "ndcg@10": scores, "test_queries": len(data_.queries),
                        "corpus": len(data_.corpus), "train_pairs": len(carved.train.train)}),
            encoding="utf-8",
        )  # fmt: skip


# -- part 2 --------------------------------------------------------------------------------------


def finetune_runs(data: str, batch: int, workdir: Path) -> dict[str, Any]:
    runs = {
        f"one_process_batch_{2 * batch}": (
            [sys.executable, "-m", "embedtune", "finetune", "--batch-size", str(2 * batch)],
            2,
        ),
        f"two_processes_batch_{batch}": (
            [*torchrun(2), "-m", "embedtune", "finetune", "--batch-size", str(batch)],
            1,
        ),
    }
    out: dict[str, Any] = {}
    for name, (command, threads) in runs.items():
        folder = workdir / name
        say(f"{name}: training ({threads} thread(s) per process), load {load()}")
        seconds = run(
            [*command, "--data", data, "--output", str(folder), *FINETUNE], threads=threads
        )
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        table = json.loads((folder / "per_query.json").read_text(encoding="utf-8"))
        training = results["training"]
        out[name] = {
            "wall_seconds": seconds,
            "train_seconds": training["train_seconds"],
            "total_seconds": results.get("total_seconds"),
            "optimizer_steps": training["optimizer_steps"],
            "world_size": training.get("world_size"),
            "per_device_batch_size": training.get("per_device_batch_size"),
            "global_batch_size": training.get("global_batch_size"),
            "distributed_backend": training.get("distributed_backend"),
            "selected": results["selection"]["selected"],
            "base": {d: results["base"][d]["ndcg@10"] for d in results["base"]},
            "finetuned": {d: results["finetuned"][d]["ndcg@10"] for d in results["finetuned"]},
            "vs_base": results["comparison"],
            "table": table,
            "load_after": load(),
        }
        say(f"{name}: {seconds}s wall, nDCG@10 {out[name]['finetuned']}")
    return out


def side_by_side(runs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """nDCG@10 per model and dim; gains with intervals (each vs base, two vs one process)."""
    from embedtune.evaluation.bootstrap import compare_tables

    (one, first), (two, second) = runs.items()
    if first["table"]["query_ids"] != second["table"]["query_ids"]:
        raise SystemExit("the two runs evaluated different test queries")
    models = {
        "base": first["table"]["models"]["base"],
        one: first["table"]["models"]["finetuned"],
        two: second["table"]["models"]["finetuned"],
    }
    table = {"dims": first["table"]["dims"], "query_ids": first["table"]["query_ids"]}
    table["models"] = models
    ndcg = {"base": first["base"], one: first["finetuned"], two: second["finetuned"]}
    comparisons = {
        f"{one}_vs_base": compare_tables(table, base="base", candidate=one),
        f"{two}_vs_base": compare_tables(table, base="base", candidate=two),
        f"{two}_vs_{one}": compare_tables(table, base=one, candidate=two),
    }
    return ndcg, comparisons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # part 1, under torchrun
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--train-pairs", type=int, default=200)
    parser.add_argument("--test-queries", type=int, default=100)
    parser.add_argument("--corpus", type=int, default=600)
    parser.add_argument("--batch", type=int, default=16, help="B: per-process batch of 2 ranks")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.worker == "encode":
        encode_worker(args.data, args.json, args.rounds)
        return

    from quality import reduced_beir

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="embedtune-distributed-") as tmp:
        workdir = Path(tmp)
        data = str(
            reduced_beir(
                LEGAL,
                workdir / "legal",
                test_queries=args.test_queries,
                train_pairs=args.train_pairs,
                corpus=args.corpus,
                seed=SEED,
            )
        )
        say(f"part 1: rank 0 alone vs sharded (torchrun, 2 x 1 thread), load {load()}")
        timing_file = workdir / "encode.json"
        part1_seconds = run(
            [*torchrun(2), __file__, "--worker", "encode", "--data", data, "--json",
             str(timing_file), "--rounds", str(args.rounds)],
            threads=1,
        )  # fmt: skip
        encode = json.loads(timing_file.read_text(encoding="utf-8"))
        best = {
            strategy: {name: min(values) for name, values in phases.items()}
            for strategy, phases in encode["timings"].items()
        }
        say(f"part 1 ({part1_seconds}s): best seconds {best}")
        say(f"part 2: 1 process x batch {2 * args.batch} vs 2 processes x batch {args.batch}")
        runs = finetune_runs(data, args.batch, workdir)
    ndcg, comparisons = side_by_side(runs)
    print_ndcg_tables([int(d) for d in DIMS.split(",")], ndcg, comparisons)
    for run_ in runs.values():
        run_.pop("table")
    write_result(
        "distributed",
        {
            "data": {
                "source": "legal_rag_synthetic (reduced as in quality.py)",
                "train_pairs": args.train_pairs,
                "test_queries": args.test_queries,
                "corpus": args.corpus,
                "seed": SEED,
            },
            "settings": " ".join(FINETUNE),
            "note": "shared 2-core CPU (7 people): timings vary with the load recorded",
            "rank0_vs_sharded": {**encode, "best_seconds": best, "wall_seconds": part1_seconds},
            "runs": runs,
            "ndcg@10": ndcg,
            "comparisons": comparisons,
            "seconds": round(time.perf_counter() - started, 1),
            "load_end": load(),
        },
    )


if __name__ == "__main__":
    main()
