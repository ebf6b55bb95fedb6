"""A real 2-process `torchrun -m embedtune finetune` (gloo, CPU, tiny data): one job, one set of
outputs written by rank 0, one JSON on stdout, the distributed layout recorded."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from embedtune.results_schema import validate_results
from tests.conftest import REPO_ROOT, ZENML_QA, fixture_path

TINY = ["--max-seq-length", "32", "--seed", "7", "--max-train-pairs", "32", "--epochs", "1"]
TINY += ["--learning-rate", "1e-4", "--batch-size", "4", "--dims", "384,64", "--eval-every", "1"]
TINY += ["--no-baselines", "--num-negatives", "1", "--max-validation-queries", "4"]
OUTPUTS = {
    ".embedtune-run.json",  # what the run wrote (embedtune.output_folder)
    "checkpoints",
    "model",
    "results.json",
    "report.html",
    "evaluation.png",
    "per_query.json",
}


@pytest.mark.slow
def test_torchrun_two_processes_write_one_run(tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ]
    command += [
        "-m",
        "embedtune",
        "finetune",
        "--data",
        str(fixture_path(ZENML_QA / "pairs.jsonl")),
    ]
    command += ["--output", str(out), *TINY]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    summary = json.loads(done.stdout)  # exactly one JSON document: rank 1 printed nothing
    assert summary["kind"] == "finetune"
    assert "rank 0 of 2" in done.stderr and "backend gloo" in done.stderr

    assert {p.name for p in out.iterdir()} == OUTPUTS  # no lock, staging or second run left
    assert list(out.rglob("results.json")) == [out / "results.json"]
    assert list(out.rglob("report.html")) == [out / "report.html"]
    assert (out / "model" / "model.safetensors").is_file()
    results = json.loads((out / "results.json").read_text())
    validate_results(results)
    training = results["training"]
    assert training["world_size"] == 2 and training["distributed_backend"] == "gloo"
    assert training["per_device_batch_size"] == 4 and training["global_batch_size"] == 8
    assert training["gather_across_devices"] is True
    assert training["optimizer_steps"] >= 1
    for label in ("base", "finetuned"):
        for dim in ("384", "64"):
            scores = results[label][dim].values()
            assert scores and all(math.isfinite(v) for v in scores), (label, dim)
    assert training["hard_negative_mining"]["mined"] > 0  # mined on rank 0, broadcast
