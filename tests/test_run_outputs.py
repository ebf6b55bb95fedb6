"""Issue 10: runs never destroy or mislabel outputs (lock, staged swap, base model inside output,
resume only the same run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from embedtune.config import load_config
from embedtune.errors import ConfigError
from embedtune.run_outputs import (
    LOCK_NAME,
    SWAP_MARKER,
    StagedOutputs,
    output_lock,
)
from embedtune.training.resume_guard import check_resume, write_run_record
from embedtune.workflow import run_finetune


def test_a_second_run_on_the_same_output_is_refused(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK_NAME).write_text(str(sleeper.pid))
        with pytest.raises(
            ConfigError, match=f"in use by another embedtune run \\(pid {sleeper.pid}\\)"
        ):
            with output_lock(tmp_path):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK_NAME).write_text(str(dead.pid))
    with output_lock(tmp_path) as lock:
        assert f"\npid={os.getpid()}\n" in lock.read_text()  # now a lease record (test_output_lock)
    assert not (tmp_path / LOCK_NAME).exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_lock_whose_pid_now_belongs_to_another_program_is_taken_over(tmp_path, caplog):
    """Issue 19, item 16: the lock records the run's start time; a live process with the same
    pid but another start time is not "another embedtune run" (here: a lock written by
    embedtune before leases; filelock checks the same for today's)."""
    from embedtune.run_outputs import _start_time

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        start = _start_time(other.pid)
        (tmp_path / LOCK_NAME).write_text(f"{other.pid} {start}")
        with pytest.raises(ConfigError, match="in use by another embedtune run"):
            with output_lock(tmp_path):
                pass
        (tmp_path / LOCK_NAME).write_text(f"{other.pid} {int(start) - 1}")  # an earlier process
        with caplog.at_level("WARNING"), output_lock(tmp_path) as lock:
            assert f"\npid={os.getpid()}\n" in lock.read_text()
        assert "now another program's" in caplog.text
        assert not (tmp_path / LOCK_NAME).exists()
    finally:
        other.kill()
        other.wait()


def test_an_unwritable_output_is_refused_before_any_work():
    with pytest.raises(ConfigError, match="--output /proc/embedtune"):
        with output_lock("/proc/embedtune"):
            pass


def _old_run(folder):
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "weights").write_text("old")
    (folder / "results.json").write_text(json.dumps({"run": "old"}))


def test_outputs_appear_together_and_results_last(tmp_path):
    _old_run(tmp_path)
    staged = StagedOutputs(tmp_path)
    (staged.staging / "model").mkdir()
    (staged.staging / "model" / "weights").write_text("new")
    (staged.staging / "results.json").write_text(json.dumps({"run": "new"}))
    assert staged.commit() == ["results.json", "model"]
    assert (tmp_path / "model" / "weights").read_text() == "new"
    assert json.loads((tmp_path / "results.json").read_text()) == {"run": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".embedtune-run.json",  # what the run wrote: the next run replaces only these
        "model",
        "results.json",
    ]
    record = json.loads((tmp_path / ".embedtune-run.json").read_text())
    assert record["files"] == ["model/weights", "results.json"]


def test_a_swap_cut_short_leaves_no_mislabelled_results(tmp_path, monkeypatch):
    _old_run(tmp_path)
    staged = StagedOutputs(tmp_path)
    (staged.staging / "model").mkdir()
    (staged.staging / "model" / "weights").write_text("new")
    (staged.staging / "results.json").write_text(json.dumps({"run": "new"}))
    real_replace = os.replace

    def killed_before_results(src, dst):
        if str(dst).endswith("results.json") and ".staging" in str(src):
            raise KeyboardInterrupt  # the run is killed between the two moves
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_before_results)
    with pytest.raises(KeyboardInterrupt):
        staged.commit()
    monkeypatch.setattr(os, "replace", real_replace)
    # The new model is there, but no results.json claims anything about it.
    assert (tmp_path / "model" / "weights").read_text() == "new"
    assert not (tmp_path / "results.json").exists()
    assert (tmp_path / SWAP_MARKER).exists()
    with output_lock(tmp_path):  # the next run reports and cleans the leftovers
        pass
    assert not (tmp_path / SWAP_MARKER).exists()
    assert not (tmp_path / ".staging").exists() and not (tmp_path / ".previous").exists()


def test_base_model_inside_the_output_is_refused(tmp_path, base_model_path):
    import shutil

    inside = tmp_path / "out" / "model"
    shutil.copytree(base_model_path, inside)
    config = load_config(base_model=str(inside), output=str(tmp_path / "out"))
    with pytest.raises(ConfigError, match="is inside --output .*would replace the model it starts"):
        run_finetune(config)  # refused before any data is read or model loaded
    assert not (tmp_path / "out" / "results.json").exists()


def test_resume_refuses_other_data_or_a_changed_learning_rate(tmp_path, caplog):
    config = load_config(output=str(tmp_path), learning_rate=1e-4)
    write_run_record(tmp_path, config, "fingerprint-a")
    check_resume(tmp_path, config, "fingerprint-a")  # the same run: fine
    with pytest.raises(ConfigError, match="the data \\(its fingerprint differs"):
        check_resume(tmp_path, config, "fingerprint-b")
    faster = load_config(output=str(tmp_path), learning_rate=2e-4)
    with pytest.raises(ConfigError, match="learning_rate: 0.0001 -> 0.0002"):
        check_resume(tmp_path, faster, "fingerprint-a")
    bigger_eval = load_config(output=str(tmp_path), learning_rate=1e-4, eval_batch_size=8)
    check_resume(tmp_path, bigger_eval, "fingerprint-a")
    assert "eval_batch_size" in caplog.text


def test_resume_refuses_checkpoints_without_a_record(tmp_path):
    (tmp_path / "checkpoint-5").mkdir()
    with pytest.raises(ConfigError, match="nothing proves"):
        check_resume(tmp_path, load_config(output=str(tmp_path / "o")), "f")
