"""Deployment matrix and baselines: quality x bytes x search time per Matryoshka dim and precision
(float32, int8, binary + rescoring), and BM25 / hybrid against the dense model.

One encoding of the test queries and the corpus feeds every cell, the dense evaluation and the
hybrid. Target (issue 13): binary + rescoring at the full dim keeps >= 95% of float32 nDCG@10 at
1/32 of the bytes.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/deployment.py [--model DIR]
"""

from __future__ import annotations

import argparse

from common import LEGAL, load, quiet, say, write_result


def print_matrix(matrix: dict) -> None:
    print(
        f"{'dim':>5} {'precision':<9} {'bytes':>6} {'nDCG@10':>8} {'vs float32 full [95% CI]':>30}"
        f" {'R@10':>6} {'R@100':>6} {'ms/q':>7} pareto"
    )
    for cell in matrix["cells"]:
        entry = cell["vs_reference"]["ndcg@10"]
        low, high = entry["ci95"]
        interval = f"{entry['ndcg@10_delta']:+.4f} [{low:+.4f}, {high:+.4f}]"
        print(
            f"{cell['dim']:>5} {cell['precision']:<9} {cell['bytes_per_document']:>6}"
            f" {cell['ndcg@10']:>8.4f} {interval:>30} {cell['recall@10']:>6.3f}"
            f" {cell['recall@100']:>6.3f} {cell['search_ms_per_query']:>7.3f}"
            f" {'*' if cell['pareto'] else ''}"
        )
    print("best:", matrix["best"])
    print("recommended:", matrix["recommended"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(LEGAL))
    parser.add_argument("--model", default=None, help="a saved model folder (default: the base)")
    parser.add_argument("--dims", default="384,256,128,64")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rescore-multiplier", type=int, default=4)
    args = parser.parse_args()
    quiet()

    from embedtune.baselines.block import baseline_block
    from embedtune.config import default_base_model
    from embedtune.data.sources import DataOptions, load_retrieval_data
    from embedtune.deployment.encoded import encode_task, evaluate_encoded
    from embedtune.deployment.matrix import matrix_from_encoded
    from embedtune.training.model_loading import load_model

    dims = [int(d) for d in args.dims.split(",")]
    model_path = args.model or default_base_model()
    data = load_retrieval_data(DataOptions(source=args.data, require_train=False))
    model = load_model(model_path, max_seq_length=args.max_seq_length)
    say(f"{len(data.queries)} queries, {len(data.corpus)} documents, load {load()}")
    loads = {"start": load()}

    encoded = encode_task(model, data, batch_size=args.batch_size)
    say(f"encoded once in {encoded.seconds:.1f} s")
    matrix = matrix_from_encoded(encoded, data, dims, rescore_multiplier=args.rescore_multiplier)
    dense = evaluate_encoded(encoded, data, dims)
    label = "finetuned" if args.model else "base"
    baselines = baseline_block(data, dense, encoded=encoded, dense_label=label)
    loads["end"] = load()

    print_matrix(matrix)
    print(
        "\nBM25 nDCG@10 "
        f"{baselines['bm25']['metrics']['ndcg@10']:.4f}; hybrid (RRF) nDCG@10 "
        + ", ".join(f"{d}: {m['ndcg@10']:.4f}" for d, m in baselines["hybrid"]["metrics"].items())
    )
    print("verdict:", baselines["verdict"]["message"])

    full = max(dims)
    binary = next(c for c in matrix["cells"] if (c["dim"], c["precision"]) == (full, "binary"))
    target = {
        "binary_rescored_full_dim_retained": binary["retained"],
        "bytes_ratio": f"1/{4 * full // binary['bytes_per_document']}",
        "met": bool(binary["retained"] is not None and binary["retained"] >= 0.95),
    }
    print("target (binary + rescoring keeps >= 95% of float32 nDCG@10 at 1/32 bytes):", target)
    write_result(
        "deployment",
        {
            "data": {
                "source": args.data,
                "queries": matrix["test_queries"],
                "corpus": matrix["corpus"],
            },
            "model": model_path,
            "model_label": label,
            "settings": {
                "max_seq_length": args.max_seq_length,
                "batch_size": args.batch_size,
                "rescore_multiplier": args.rescore_multiplier,
            },
            "matrix": matrix,
            "baselines": baselines,
            "target_binary_95pct": target,
            "load_average": loads,
        },
    )


if __name__ == "__main__":
    main()
