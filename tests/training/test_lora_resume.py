"""`--resume` of a LoRA run killed with SIGKILL: the checkpoints hold only the adapter, which
Sentence Transformers' Trainer cannot reload (sentence-transformers#3402); embedtune's can."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from embedtune.training.lora import ADAPTER_WEIGHTS
from tests.reporting.results_helpers import assert_valid_results
from tests.training.test_resume import _complete_checkpoints, _pairs, kill_at_first_checkpoint

EPOCHS, BATCH = 3, 8


@pytest.mark.slow
def test_kill_9_then_resume_a_lora_run(tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text(_pairs(30))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "embedtune.cli", "finetune", "--data", str(data)]
    command += ["--output", str(out), "--test-fraction", "0.2", "--max-seq-length", "32"]
    command += ["--epochs", str(EPOCHS), "--batch-size", str(BATCH), "--dims", "384,64"]
    command += ["--no-hard-negatives", "--early-stopping-patience", "0", "--eval-every", "1.0"]
    command += ["--learning-rate", "1e-3", "--lora", "4"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    kill_at_first_checkpoint(command, env, tmp_path, out)
    assert not (out / "model").exists() and not (out / "results.json").exists()
    first = min(_complete_checkpoints(out / "checkpoints"), key=lambda p: p.name)
    assert (first / ADAPTER_WEIGHTS).is_file() and not (first / "model.safetensors").exists()

    resumed = subprocess.run(
        [*command, "--resume"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming from" in resumed.stderr
    assert "Loading the adapter from" in resumed.stderr  # the checkpoint's adapter, not a fresh one

    results = assert_valid_results(out / "results.json")
    training = results["training"]
    expected_steps = EPOCHS * math.ceil(training["model_selection"]["train_pairs"] / BATCH)
    assert training["optimizer_steps"] == expected_steps and training["resume"] is True
    assert [round(m["epoch"]) for m in training["epoch_metrics"]] == list(range(1, EPOCHS + 1))
    assert training["adapter"]["rank"] == 4
    assert (out / "model" / "model.safetensors").is_file()
    assert (out / "model" / "adapter" / ADAPTER_WEIGHTS).is_file()
