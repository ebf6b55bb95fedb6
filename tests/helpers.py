"""Helpers for the bad-input tests: small pair files and the CLI's error contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from embedtune.cli import main
from embedtune.data.sources import DataOptions, load_retrieval_data
from tests.conftest import LEGAL

# A finetuning run small enough for a test: the legal slice, 48 pairs, 32 tokens, one epoch.
TINY_RUN = {
    "data": str(LEGAL),
    "max_seq_length": 32,
    "max_train_pairs": 48,
    "max_test_queries": 20,
    "dims": [384, 64],
    "batch_size": 16,
    "epochs": 1,
    "eval_every": 0.5,
    "hard_negatives": False,
    "eval_batch_size": 32,
}


def pairs(n: int = 12) -> list[dict]:
    return [
        {
            "query": f"how does feature {i} work?",
            "document": f"Feature {i} works by combining step {i} with the setting named opt{i}.",
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict], columns=("query", "document")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def load(source: Path | str, **options):
    return load_retrieval_data(DataOptions(source=str(source), **options))


def cli_error(capsys, args: list[str], output: Path) -> str:
    """Run the CLI, expect exit code 2 and an untouched output folder; return stderr."""
    code = main([*args, "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "embedtune" in err and "error" in err
    assert not output.exists(), f"{output} was written before the error"
    return err


def assert_selection_contract(results: dict, output: Path, base_model_path: str) -> str:
    """What a finetune run promises whichever model it kept (tiny data may legitimately keep
    the base): selection and verdict agree, the validation curve starts with the base at step 0,
    and OUTPUT/model is the selected model. Returns "finetuned" or "base"."""
    import numpy as np
    import torch
    from safetensors.torch import load_file

    from embedtune.training.model_loading import load_model

    selection, verdict = results["selection"], results["verdict"]
    selected = selection["selected"]
    assert selected in ("finetuned", "base") and verdict["selected"] == selected
    curve, base_score = selection["curve"], selection["base_score"]
    assert base_score is not None and selection["validation_queries"] >= 1
    assert curve[0] == {"step": 0, "epoch": 0.0, "score": base_score}
    assert len(curve) >= 2 and all(p["step"] > 0 for p in curve[1:])
    assert [p["step"] for p in curve] == sorted(p["step"] for p in curve)
    texts = ["how do I configure the setting?", "The setting is configured in the file."]
    saved = load_model(str(output / "model"), max_seq_length=32).encode(texts)
    base = load_model(base_model_path, max_seq_length=32).encode(texts)
    if selected == "base":
        assert verdict["improved_on_validation"] is False
        assert "did not beat the base model" in verdict["message"]
        assert selection["best_score"] is None and selection["best_step"] is None
        assert all(p["score"] <= base_score for p in curve[1:])  # nothing beat step 0
        assert results["finetuned"] == results["base"]  # the same weights, evaluated once
        assert np.allclose(saved, base, atol=1e-6)
    else:
        assert verdict["improved_on_validation"] is True
        best = selection["best_score"]
        assert best > base_score
        assert abs(best - max(p["score"] for p in curve)) < 1e-6
        assert selection["best_step"] in [p["step"] for p in curve[1:]]
        assert not np.allclose(saved, base, atol=1e-4)
        # (a checkpoint folder holds the optimizer's pickles: compare its weights file directly)
        checkpoints = output / "checkpoints"
        if results["training"].get("learning_rate_sweep"):  # auto: one folder per rate
            checkpoints = checkpoints / f"lr-{results['training']['learning_rate']:g}"
        checkpoint = checkpoints / f"checkpoint-{selection['best_step']}"
        kept = load_file(checkpoint / "model.safetensors")
        shipped = load_file(output / "model" / "model.safetensors")
        assert kept.keys() == shipped.keys()
        assert all(torch.equal(kept[k], shipped[k]) for k in kept), "model/ is not the best step"
    return selected


def chat_completion(model: str, content: str) -> bytes:
    """An OpenAI chat-completions response body, for the local test servers."""
    import time

    return json.dumps(
        {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
    ).encode()
