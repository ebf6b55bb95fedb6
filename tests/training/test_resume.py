"""A run killed with SIGKILL leaves no complete-looking outputs, and `--resume` finishes it with
the optimizer step count of an uninterrupted run."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embedtune.training.finetune import last_complete_checkpoint
from tests.reporting.results_helpers import assert_valid_results

EPOCHS, BATCH = 4, 8


def _checkpoint(folder: Path, step: int, *, complete: bool) -> Path:
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"weights")
    if complete:
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def test_last_complete_checkpoint_skips_and_removes_cut_short_ones(tmp_path):
    assert last_complete_checkpoint(tmp_path / "none") is None
    good = _checkpoint(tmp_path, 3, complete=True)
    cut = _checkpoint(tmp_path, 6, complete=False)  # killed before trainer_state.json
    torn = _checkpoint(tmp_path, 9, complete=True)
    (torn / "trainer_state.json").write_text('{"global_step": 9, "log_hi')  # killed mid-write
    assert last_complete_checkpoint(tmp_path) == str(good)
    assert not cut.exists() and not torn.exists() and good.exists()


def _pairs(n: int) -> str:
    return "".join(
        json.dumps(
            {
                "query": f"how do I configure option {i}?",
                "document": f"Option {i} is configured in settings file {i}, section s{i}.",
            }
        )
        + "\n"
        for i in range(n)
    )


def _complete_checkpoints(folder: Path) -> list[Path]:
    found = []
    for state in folder.glob("checkpoint-*/trainer_state.json"):
        try:
            json.loads(state.read_text())
        except (OSError, ValueError):
            continue  # still being written
        found.append(state.parent)
    return found


def kill_at_first_checkpoint(
    command: list[str], env: dict[str, str], tmp_path: Path, out: Path
) -> subprocess.Popen:
    """Start the run, SIGKILL it as soon as a complete checkpoint exists; the killed process."""
    log = (tmp_path / "first.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
    deadline = time.monotonic() + 600
    try:
        while not _complete_checkpoints(out / "checkpoints"):
            assert process.poll() is None, (
                "the run ended before its first checkpoint: " + (tmp_path / "first.log").read_text()
            )
            assert time.monotonic() < deadline, "no checkpoint within 10 minutes"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        log.close()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    return process


@pytest.mark.slow
def test_kill_9_then_resume_finishes_with_the_same_step_count(tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text(_pairs(30))
    settings = tmp_path / "settings.yaml"
    # Fewer moving parts, same resume path. Early stopping off: the step count of an
    # uninterrupted run is then known in advance (epochs x steps per epoch), and one evaluation
    # (and checkpoint) per epoch.
    # One learning rate (not the auto sweep): one checkpoint folder to kill and resume in.
    settings.write_text(
        "hard_negatives: false\nearly_stopping_patience: 0\neval_every: 1.0\n"
        "learning_rate: 1.0e-4\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "embedtune.cli", "finetune", "--config", str(settings)]
    command += ["--data", str(data), "--output", str(out), "--test-fraction", "0.2"]
    command += ["--max-seq-length", "32", "--epochs", str(EPOCHS), "--batch-size", str(BATCH)]
    command += ["--dims", "384,64"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    process = kill_at_first_checkpoint(command, env, tmp_path, out)
    assert not (out / "model").exists(), "a killed run left model/"
    assert not (out / "results.json").exists(), "a killed run left results.json"
    lock = dict(
        line.split("=", 1) for line in (out / ".embedtune.lock").read_text().splitlines()[1:]
    )
    assert lock["pid"] == str(process.pid)  # left by the killed run (filelock's lease record)
    killed_at = max(int(p.name.split("-")[1]) for p in _complete_checkpoints(out / "checkpoints"))

    resumed = subprocess.run(
        [*command, "--resume"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming from" in resumed.stderr and "checkpoint-" in resumed.stderr

    assert "Taking over" in resumed.stderr and not (out / ".embedtune.lock").exists()

    results = assert_valid_results(out / "results.json")
    train_pairs = results["training"]["model_selection"]["train_pairs"]  # after validation
    expected_steps = EPOCHS * math.ceil(train_pairs / BATCH)  # what an uninterrupted run takes
    assert killed_at < expected_steps
    assert results["training"]["optimizer_steps"] == expected_steps
    assert results["training"]["resume"] is True
    # every epoch was evaluated once: the ones before the kill (restored from the checkpoint's
    # state) and the ones after
    epochs = [round(m["epoch"]) for m in results["training"]["epoch_metrics"]]
    assert epochs == list(range(1, EPOCHS + 1))
    assert (out / "model" / "model.safetensors").is_file()
    curve = results["selection"]["curve"]  # the base (step 0), then every epoch's evaluation
    assert [p["step"] for p in curve] == [0, *(e * expected_steps // EPOCHS for e in epochs)]


@pytest.mark.slow
def test_auto_killed_after_the_cut_resumes_the_leader_without_training_the_slices_again(tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text(_pairs(40))
    settings = tmp_path / "settings.yaml"
    settings.write_text("hard_negatives: false\nearly_stopping_patience: 0\neval_every: 0.5\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "embedtune.cli", "finetune", "--config", str(settings)]
    command += ["--data", str(data), "--output", str(out), "--test-fraction", "0.2"]
    command += ["--max-seq-length", "32", "--epochs", str(EPOCHS), "--batch-size", str(BATCH)]
    command += ["--dims", "384,64", "--learning-rate", "auto"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    record = out / "checkpoints" / "sweep.json"
    log = (tmp_path / "first.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
    deadline = time.monotonic() + 600
    try:  # SIGKILL once the leader has a checkpoint past the cut
        while True:
            assert process.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the leader never checkpointed past the cut"
            if record.is_file():
                sweep = json.loads(record.read_text())
                folder = out / "checkpoints" / f"lr-{sweep['leader']:g}"
                steps = [int(p.name.split("-")[1]) for p in _complete_checkpoints(folder)]
                if any(step > sweep["slice_steps"] for step in steps):
                    break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        log.close()
    resumed = subprocess.run(
        [*command, "--resume"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode in (0, 3), resumed.stderr[-3000:]
    assert "Resuming learning_rate auto: the leader was" in resumed.stderr
    assert "candidate 1 of 2" not in resumed.stderr  # no slice trained again
    results = assert_valid_results(out / "results.json")
    training = results["training"]
    train_pairs = training["model_selection"]["train_pairs"]
    assert training["optimizer_steps"] == EPOCHS * math.ceil(train_pairs / BATCH)
    assert training["learning_rate"] == sweep["leader"]
    assert [e["slice_score"] for e in training["learning_rate_sweep"]] == [
        round(sweep["scores"][str(r)], 6) for r in sweep["rates"]
    ]
