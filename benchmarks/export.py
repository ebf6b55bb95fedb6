"""Export: torch fp32 vs ONNX (fp32, int8) vs OpenVINO (fp32, int8) on the legal data: query
latency at batch 1 (p50/p95), corpus throughput, nDCG@10 per dim with the paired-bootstrap
interval of the difference against torch.

Targets (issue 13): an int8 export encodes queries >= 2.5x faster than torch fp32 at batch 1,
with an nDCG@10 loss <= 0.01 at every dim. The CPU is shared: timings are medians over rounds
that interleave the models, and the load average is recorded.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python benchmarks/export.py [--model DIR | --train-pairs N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import LEGAL, load, quiet, say, write_result
from quality import reduced_beir

VARIANTS = (("onnx", None), ("onnx", "int8"), ("openvino", None), ("openvino", "int8"))
LOSS_TARGET, SPEEDUP_TARGET = 0.01, 2.5


def train(data_dir: str, workdir: Path, args) -> str:
    from embedtune.config import load_config
    from embedtune.run_files import save_model_folder
    from embedtune.training.finetune import finetune
    from embedtune.workflow import load_base_model, load_data

    config = load_config(
        None,
        data=data_dir,
        output=str(workdir / "run"),
        max_seq_length=args.max_seq_length,
        epochs=1,
        learning_rate=5e-5,
        hard_negatives=False,
    )
    data = load_data(config)
    model = load_base_model(config)
    summary = finetune(model, data.train, None, config, str(workdir / "checkpoints"))
    say(f"trained {len(data.train)} pairs, {summary.optimizer_steps} steps")
    return str(save_model_folder(model, workdir / "model"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="a saved model (default: a short finetune)")
    parser.add_argument("--base", action="store_true", help="export the base model, no finetune")
    parser.add_argument("--train-pairs", type=int, default=800)
    parser.add_argument("--test-queries", type=int, default=300)
    parser.add_argument("--corpus", type=int, default=800)
    parser.add_argument("--dims", default="384,256,128,64")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-queries", type=int, default=100)
    parser.add_argument("--latency-documents", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--result", default="export", help="results/<name>.json")
    parser.add_argument(
        "--variants",
        default=",".join(f"{f}-{q}" if q else f for f, q in VARIANTS),
        help="exports to score and time against torch fp32 (onnx is always made: the source)",
    )
    args = parser.parse_args()
    quiet()

    import torch

    from embedtune.config import default_base_model
    from embedtune.data.sources import DataOptions, load_retrieval_data
    from embedtune.evaluation.evaluator import RetrievalEvaluator
    from embedtune.evaluation.retrieval import evaluated_query_ids
    from embedtune.export import export_model, load_exported
    from embedtune.export.latency import measure_latency
    from embedtune.export.reevaluate import compare_to_torch, evaluate_exported
    from embedtune.training.model_loading import load_model

    dims = [int(d) for d in args.dims.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="embedtune-bench-export-"))
    data_dir = str(
        reduced_beir(
            LEGAL,
            workdir / "legal",
            test_queries=args.test_queries,
            train_pairs=args.train_pairs,
            corpus=args.corpus,
            seed=args.seed,
        )
    )
    loads = {"start": load()}
    if args.model:
        model_dir, label = args.model, "given"
    elif args.base:
        model_dir, label = default_base_model(), "base"
    else:
        model_dir, label = train(data_dir, workdir, args), "finetuned (short)"
    data = load_retrieval_data(DataOptions(source=data_dir, require_train=False))
    say(f"{len(evaluated_query_ids(data))} test queries, {len(data.corpus)} documents; {label}")

    wanted = set(args.variants.split(","))
    exports: dict[str, Path] = {}
    records = {}
    for fmt, quantize in VARIANTS:
        name = fmt if quantize is None else f"{fmt}-{quantize}"
        if name not in wanted and name != "onnx":
            continue
        exports[name] = workdir / f"model-{name}"
        records[name] = export_model(
            model_dir,
            fmt,
            quantize,
            exports[name],
            from_onnx=None if name == "onnx" else exports["onnx"],
        )
        say(f"exported {name} in {records[name]['seconds']} s")

    threads = torch.get_num_threads()
    torch_model = load_model(model_dir, max_seq_length=args.max_seq_length, device="cpu")
    encoders = {"torch-fp32": torch_model}
    exports = {name: folder for name, folder in exports.items() if name in wanted}
    for name, folder in exports.items():
        encoders[name] = load_exported(folder, max_seq_length=args.max_seq_length, threads=threads)

    evaluator = RetrievalEvaluator(dims=tuple(dims))
    torch_eval = evaluator.evaluate(torch_model, data)
    say("torch:", {d: round(torch_eval.by_dim[d].metrics["ndcg@10"], 4) for d in dims})
    quality = {}
    for name in exports:
        exported = evaluate_exported(encoders[name], data, evaluator)
        quality[name] = compare_to_torch(torch_eval, exported, name=name)
        say(name, {d: quality[name]["vs_torch"][d] for d in quality[name]["vs_torch"]})

    query_ids = evaluated_query_ids(data)
    queries = [data.queries[q] for q in query_ids][: args.latency_queries]
    documents = list(data.corpus.values())[: args.latency_documents]
    loads["before_latency"] = load()
    latency = measure_latency(
        encoders,
        queries,
        documents,
        rounds=args.rounds,
        texts=f"{len(queries)} test queries, {len(documents)} corpus documents",
    )
    loads["end"] = load()

    print(
        f"\n{'model':<14} {'q p50 ms':>9} {'q p95 ms':>9} {'x torch':>8} {'docs/s':>8}  nDCG@10 "
        "(exported - torch [95% CI]) per dim"
    )
    targets = {}
    for name, figures in latency["models"].items():
        line = (
            f"{name:<14} {figures['query_ms_p50']:>9.2f} {figures['query_ms_p95']:>9.2f} "
            f"{figures['query_speedup']:>8.2f} {figures['corpus_docs_per_second']:>8.1f}  "
        )
        if name in quality:
            entries = quality[name]["vs_torch"]
            line += "  ".join(
                f"{d}: {quality[name]['exported'][d]:.4f} {e['ndcg@10_delta']:+.4f} "
                f"[{e['ci95'][0]:+.4f}, {e['ci95'][1]:+.4f}]"
                for d, e in entries.items()
            )
            if name.endswith("int8"):
                speed_ok = figures["query_speedup"] >= SPEEDUP_TARGET
                loss_ok = quality[name]["largest_drop"] <= LOSS_TARGET
                targets[name] = {
                    "query_speedup": figures["query_speedup"],
                    "speedup_met": speed_ok,
                    "largest_ndcg10_drop": quality[name]["largest_drop"],
                    "loss_met": loss_ok,
                    "met": speed_ok and loss_ok,
                }
        else:
            line += "  ".join(
                f"{d}: {torch_eval.by_dim[int(d)].metrics['ndcg@10']:.4f}" for d in map(str, dims)
            )
        print(line)
    print(f"\ntargets (>= {SPEEDUP_TARGET}x at batch 1, loss <= {LOSS_TARGET}):", targets)
    write_result(
        args.result,
        {
            "data": {
                "source": str(LEGAL),
                "reduced": {
                    "test_queries": args.test_queries,
                    "train_pairs": args.train_pairs,
                    "corpus": args.corpus,
                    "seed": args.seed,
                },
                "test_queries": len(query_ids),
                "corpus": len(data.corpus),
            },
            "model": model_dir if args.model else label,
            "settings": {
                "max_seq_length": args.max_seq_length,
                "dims": dims,
                "threads": threads,
                "rounds": args.rounds,
            },
            "exports": {
                name: {k: v for k, v in r.items() if k != "files"} for name, r in records.items()
            },
            "quality": quality,
            "latency": latency,
            "targets": targets,
            "load_average": loads,
        },
    )


if __name__ == "__main__":
    main()
