"""Does validation track test? Random distractors vs the base model's top candidates.

Issue 18, section 2: selection is only as good as its validation set. For every checkpoint of a
full sweep (both default candidate rates, every checkpoint kept, evaluated every quarter epoch),
this scores the same validation queries against two validation corpora, the former one (their
documents plus seeded random distractors) and today's (their documents plus the base model's top
candidates), and the test queries against the full test corpus; then reports, per corpus, the
correlation (Pearson and Spearman) across checkpoints between the validation gain over the base
and the test gain over the base (mean nDCG@10 over the dims, the selection metric), and which
checkpoint each would select and what that checkpoint scores on test.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/validation_tracking.py --datasets builtin,legal
"""

from __future__ import annotations

import argparse
import gc
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import LEGAL, load, quiet, say, write_result

SETS = {"legal": {"data": str(LEGAL)}, "builtin": {"data": None}}


def _mean(evaluation) -> float:
    from embedtune.evaluation.trainer_evaluator import mean_ndcg

    return mean_ndcg(evaluation)


def _spearman(a: list[float], b: list[float]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="builtin,legal")
    parser.add_argument("--max-train-pairs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="validation_tracking")
    args = parser.parse_args()
    quiet()

    from sentence_transformers import SentenceTransformer

    from embedtune.config import load_config
    from embedtune.evaluation.embedding_cache import DocumentEmbeddings, candidate_ranker
    from embedtune.training import sweep
    from embedtune.training.selection import carve_validation
    from embedtune.workflow import (
        evaluate,
        evaluate_test,
        load_base_model,
        load_data,
        resolve_sequence_length,
        train,
    )

    started = time.perf_counter()
    out: dict[str, Any] = {}
    for name in args.datasets.split(","):
        workdir = Path(tempfile.mkdtemp(prefix=f"embedtune-tracking-{name}-"))
        say(f"{name} (load {load()})")
        config = load_config(
            **SETS[name],
            max_train_pairs=args.max_train_pairs,
            seed=args.seed,
            eval_every=0.25,
            early_stopping_patience=0,
            save_total_limit=100,
            keep_checkpoints=True,
            output=str(workdir),
        )
        data = load_data(config)
        model = load_base_model(config)
        config, _ = resolve_sequence_length(config, data, model.tokenizer)
        model.max_seq_length = config.max_seq_length
        base_test, encoded = evaluate_test(model, data, config, keep_encoding=True)
        cache = DocumentEmbeddings.from_encoded(model, encoded, data)
        hard = carve_validation(data, config, ranker=candidate_ranker(model, cache, config))
        easy = carve_validation(data, config)
        corpora = {"random": easy.validation, "hard": hard.validation}
        base_val = {k: _mean(evaluate(model, v, config)) for k, v in corpora.items()}
        base_test_score = _mean(base_test)
        saved = sweep.HALVING_FRACTION
        sweep.HALVING_FRACTION = None  # the full sweep: every checkpoint of both rates
        try:
            train(config, model, data, workdir, carved=hard, embeddings=cache)
        finally:
            sweep.HALVING_FRACTION = saved
        del model, cache
        gc.collect()
        points = []
        for checkpoint in sorted(workdir.glob("checkpoints/lr-*/checkpoint-*")):
            # our own checkpoint: its optimizer.pt beside the weights is why load_model refuses
            # it; Sentence Transformers reads only the safetensors weights
            candidate = SentenceTransformer(str(checkpoint), device="cpu")
            candidate.max_seq_length = config.max_seq_length
            val = {
                k: _mean(evaluate(candidate, v, config)) - base_val[k] for k, v in corpora.items()
            }
            test = _mean(evaluate(candidate, data, config)) - base_test_score
            points.append(
                {
                    "checkpoint": f"{checkpoint.parent.name}/{checkpoint.name}",
                    "validation_gain": {k: round(v, 5) for k, v in val.items()},
                    "test_gain": round(test, 5),
                }
            )
            say(f"{name} {points[-1]}")
            del candidate
            gc.collect()
        tests = [p["test_gain"] for p in points]
        tracking = {}
        for kind in corpora:
            vals = [p["validation_gain"][kind] for p in points]
            chosen = int(np.argmax(vals))
            tracking[kind] = {
                "pearson": round(float(np.corrcoef(vals, tests)[0, 1]), 3),
                "spearman": round(_spearman(vals, tests), 3),
                "selected": points[chosen]["checkpoint"],
                "selected_test_gain": tests[chosen],
                "best_test_gain": max(tests),
                "base_validation": round(base_val[kind], 4),
                "validation_corpus": len(corpora[kind].corpus),
            }
        out[name] = {
            "base_test": round(base_test_score, 4),
            "validation_queries": len(hard.validation.queries),
            "max_seq_length": config.max_seq_length,
            "tracking": tracking,
            "points": points,
            "load_after": load(),
        }
        say(f"{name}: {tracking}")
        shutil.rmtree(workdir, ignore_errors=True)
        write_result(
            args.name,
            {
                "settings": vars(args),
                "metric": "mean nDCG@10 over the dims, gain over the base model",
                "datasets": out,
                "total_seconds": round(time.perf_counter() - started, 1),
            },
        )


if __name__ == "__main__":
    main()
