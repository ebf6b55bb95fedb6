"""Same seed, data and settings on CPU give identical metrics and the same provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedtune.config import default_base_model, load_config
from embedtune.workflow import run_evaluate, run_finetune
from tests.conftest import ZENML_QA
from tests.reporting.results_helpers import assert_valid_results

ZENML_PAIRS = ZENML_QA / "pairs.jsonl"


def _tiny_pairs(path: Path, n: int = 24) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "query": f"where is setting {i} described?",
                    "document": f"Setting {i} is described in chapter {i % 7}, page {10 + i}.",
                }
            )
            + "\n"
            for i in range(n)
        )
    )
    return path


def _quality(epoch_metrics: list[dict]) -> list[dict]:
    """Per-epoch metrics without the timings (eval_runtime, samples per second)."""
    timing = ("runtime", "per_second")
    return [{k: v for k, v in m.items() if not k.endswith(timing)} for m in epoch_metrics]


def _differences(a, b, path: str = "") -> list[str]:
    """Paths at which two JSON values differ (a readable assertion message)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b))
            for d in _differences(a.get(k), b.get(k), f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _stable(provenance: dict) -> dict:
    return {k: v for k, v in provenance.items() if not k.startswith("git_")}


def _metrics(results: dict) -> dict:
    keys = ("base", "finetuned", "model", "comparison")
    return {k: results[k] for k in keys if k in results}


def test_evaluate_twice_gives_identical_results(tmp_path):
    data = _tiny_pairs(tmp_path / "pairs.jsonl")
    runs = []
    for name in ("a", "b"):
        config = load_config(data=str(data), output=str(tmp_path / name), max_seq_length=32)
        runs.append(run_evaluate(default_base_model(), config))
    assert not _differences(_metrics(runs[0]), _metrics(runs[1]))
    assert runs[0]["kind"] == "evaluate" and set(runs[0]["model"]) == {"384", "256", "128", "64"}
    assert _stable(runs[0]["provenance"]) == _stable(runs[1]["provenance"])
    assert runs[0]["provenance"]["seed"] == 42
    saved = assert_valid_results(tmp_path / "a" / "results.json")
    assert saved["provenance"]["data_fingerprint"] == runs[0]["provenance"]["data_fingerprint"]


@pytest.mark.slow
def test_two_training_runs_with_the_same_seed_are_identical(tmp_path):
    data = tmp_path / "pairs.jsonl"  # real texts, so the metrics are not all 1.0
    data.write_text("".join(ZENML_PAIRS.read_text(encoding="utf-8").splitlines(True)[:32]))
    saved = []
    for name in ("a", "b"):
        config = load_config(
            data=str(data),
            output=str(tmp_path / name),
            max_seq_length=32,
            epochs=1,
            batch_size=8,
            dims=[384, 64],
            eval_every=0.5,
            seed=7,
        )
        run_finetune(config)
        saved.append(assert_valid_results(tmp_path / name / "results.json"))
    a, b = saved
    assert not _differences(_metrics(a), _metrics(b))  # exact: every metric at every dim
    # The same validation curve, so the same model is selected.
    assert not _differences(a["selection"], b["selection"])
    assert a["verdict"] == b["verdict"]
    assert _quality(a["training"]["epoch_metrics"]) == _quality(b["training"]["epoch_metrics"])
    assert a["training"]["optimizer_steps"] == b["training"]["optimizer_steps"]
    assert a["data"] == b["data"]
    # (the git commit may move between the runs: other work is committed meanwhile)
    assert _stable(a["provenance"]) == _stable(b["provenance"])
    provenance = a["provenance"]
    assert provenance["seed"] == 7
    assert provenance["data_fingerprint"].startswith("sha256:")
    assert set(provenance["packages"]) >= {
        "torch",
        "transformers",
        "sentence-transformers",
        "datasets",
        "zenml",
        "embedtune",
    }
    assert provenance["git_commit"] is None or len(provenance["git_commit"]) == 40
    assert set(provenance) >= {"git_commit", "git_dirty"}  # the unit tests check the values
