"""Evaluation speed: 4 Matryoshka dims vs 1 with embedtune, vs Sentence Transformers' per-dim evaluators.

embedtune encodes queries and corpus once at full dimension and slices per dimension; Sentence
Transformers' recipe (a SequentialEvaluator of InformationRetrievalEvaluator(truncate_dim=d), one
per dimension) encodes everything once per dimension. Same model, data and batch size; the metrics
are checked to agree.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/eval_speed.py
"""

from __future__ import annotations

import argparse
import random
import time

from common import LEGAL, load, quiet, say, write_result


def subset(data, queries: int, corpus: int, seed: int = 0):
    """`queries` test queries, their relevant documents, and other documents up to `corpus`."""
    from embedtune.data.retrieval_data import RetrievalData

    rng = random.Random(seed)
    qids = sorted(data.queries)
    rng.shuffle(qids)
    qids = sorted(qids[:queries])
    relevant = {q: data.relevant[q] for q in qids}
    needed = set().union(*relevant.values())
    others = sorted(set(data.corpus) - needed)
    rng.shuffle(others)
    keep = needed | set(others[: max(0, corpus - len(needed))])
    return RetrievalData(
        data.train,
        {q: data.queries[q] for q in qids},
        {d: data.corpus[d] for d in sorted(keep)},
        relevant,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(LEGAL))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--corpus", type=int, default=1000)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    quiet()

    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
        SequentialEvaluator,
    )

    from embedtune.config import default_base_model
    from embedtune.data.beir import load_beir
    from embedtune.evaluation.retrieval import evaluate_retrieval
    from embedtune.training.model_loading import load_model

    data = subset(load_beir(args.data), args.queries, args.corpus)
    model = load_model(default_base_model(), max_seq_length=args.max_seq_length)
    dims = [384, 256, 128, 64]
    say(f"{len(data.queries)} queries, {len(data.corpus)} documents, load {load()}")
    model.encode(["warm up"] * 8)

    timings: dict[str, float] = {}
    loads: dict[str, list[float]] = {"start": load()}

    t = time.perf_counter()
    one = evaluate_retrieval(model, data, [384], batch_size=args.batch_size)
    timings["embedtune_1_dim_s"] = round(time.perf_counter() - t, 2)
    say("embedtune, 1 dim:", timings["embedtune_1_dim_s"], "s")

    t = time.perf_counter()
    ours = evaluate_retrieval(model, data, dims, batch_size=args.batch_size)
    timings["embedtune_4_dims_s"] = round(time.perf_counter() - t, 2)
    say("embedtune, 4 dims:", timings["embedtune_4_dims_s"], "s")

    evaluators = [
        InformationRetrievalEvaluator(
            data.queries,
            data.corpus,
            data.relevant,
            mrr_at_k=[10],
            ndcg_at_k=[10],
            accuracy_at_k=[1],
            precision_recall_at_k=[1, 10],
            map_at_k=[100],
            truncate_dim=d,
            batch_size=args.batch_size,
            name=f"d{d}",
            write_csv=False,
        )
        for d in dims
    ]
    t = time.perf_counter()
    theirs = SequentialEvaluator(evaluators)(model)
    timings["st_sequential_4_dims_s"] = round(time.perf_counter() - t, 2)
    say("Sentence Transformers, SequentialEvaluator of 4:", timings["st_sequential_4_dims_s"], "s")
    loads["end"] = load()

    agreement = {
        str(d): {
            "embedtune": round(ours.by_dim[d].metrics["ndcg@10"], 6),
            "sentence_transformers": round(
                next(
                    v
                    for k, v in theirs.items()
                    if k.startswith(f"d{d}_") and k.endswith("cosine_ndcg@10")
                ),
                6,
            ),
        }
        for d in dims
    }
    ratios = {
        "embedtune_4_dims_over_1_dim": round(
            timings["embedtune_4_dims_s"] / timings["embedtune_1_dim_s"], 3
        ),
        "st_sequential_over_embedtune_4_dims": round(
            timings["st_sequential_4_dims_s"] / timings["embedtune_4_dims_s"], 3
        ),
    }
    target = ratios["embedtune_4_dims_over_1_dim"] <= 1.2
    print("\n", timings, "\n", ratios, "\n target (4 dims <= 1.2x 1 dim):", target)
    print(" nDCG@10 agreement:", agreement)
    assert one.by_dim[384].metrics == ours.by_dim[384].metrics
    write_result(
        "eval_speed",
        {
            "data": {"source": args.data, "queries": len(data.queries), "corpus": len(data.corpus)},
            "settings": {"max_seq_length": args.max_seq_length, "batch_size": args.batch_size},
            "dims": dims,
            "timings": timings,
            "ratios": ratios,
            "target_4_dims_le_1.2x_1_dim": target,
            "ndcg@10_agreement": agreement,
            "load_average": loads,
        },
    )


if __name__ == "__main__":
    main()
