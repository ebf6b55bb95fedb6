"""Learning curve on the legal set: would more labelled pairs still help?

`embedtune.curve.run_curve` on a seeded reduction of ../shared/data/legal_rag_synthetic (the
same reduction as benchmarks/quality.py: 150 test queries, 400 training pairs, an 800-document
corpus), fractions 0.25, 0.5, 1 of the pairs left after the validation split, max_seq_length 128,
learning rate 2e-4, one epoch, validation every half epoch (fewer
evaluations on a shared CPU), otherwise the defaults (one mined hard negative, selection on
validation with the base as a candidate). Writes benchmarks/results/curve.json (the curve.json
content, plus the machine and its load) and prints the points and the verdict.

    nice -n 10 .venv/bin/python benchmarks/curve.py > benchmarks/results/curve.log 2>&1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import LEGAL, load, quiet, say, write_result
from quality import reduced_beir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fractions", default="0.25,0.5,1")
    parser.add_argument("--max-train-pairs", type=int, default=400)
    parser.add_argument("--max-test-queries", type=int, default=150)
    parser.add_argument("--max-corpus", type=int, default=800)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--eval-every", type=float, default=0.5, help="validation evaluations")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    quiet()
    from embedtune.config import load_config
    from embedtune.curve import parse_fractions, run_curve

    fractions = parse_fractions(args.fractions)
    load_before = load()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="embedtune-curve-") as workdir:
        data = reduced_beir(
            LEGAL,
            Path(workdir) / "legal",
            test_queries=args.max_test_queries,
            train_pairs=args.max_train_pairs,
            corpus=args.max_corpus,
            seed=args.seed,
        )
        config = load_config(
            data=str(data),
            max_seq_length=args.max_seq_length,
            learning_rate=args.learning_rate,
            epochs=args.epochs,
            eval_every=args.eval_every,
            seed=args.seed,
            output=str(Path(workdir) / "out"),
        )
        say(f"learning curve on {data}: fractions {fractions}")
        curve = run_curve(config, fractions)
    seconds = round(time.perf_counter() - started, 1)
    dims = [str(d) for d in curve["dims"]]
    print(f"{'pairs':>6} {'kept':>10}" + "".join(f"{d + ' dims':>12}" for d in dims))
    for point in curve["points"]:
        scores = "".join(f"{point['ndcg@10'][d]['value']:>12.4f}" for d in dims)
        print(f"{point['pairs']:>6} {point['selected']:>10}{scores}")
    for step in curve["steps"]:
        gains = "  ".join(
            f"{d}: {step['gain'][d]['ndcg@10_delta']:+.4f} "
            f"[{step['gain'][d]['ci95'][0]:+.4f}, {step['gain'][d]['ci95'][1]:+.4f}]"
            for d in dims
        )
        print(f"{step['from_pairs']} -> {step['to_pairs']} pairs: {gains}")
    for entry in curve["verdict"].values():
        print(entry["message"])
    write_result(
        "curve",
        {
            "settings": vars(args),
            "seconds": seconds,
            "load_before": load_before,
            "load_after": load(),
            "curve": curve,
        },
    )


if __name__ == "__main__":
    main()
