"""SIGTERM is handled as Ctrl-C is (issue 19, item 16): the run's lock is released, nothing
half-written stays, and "interrupted" is printed (exit code 143)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.helpers import TINY_RUN

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_sigterm_releases_the_lock_and_says_interrupted(tmp_path, base_model_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY_RUN, "base_model": base_model_path, "epochs": 3}))
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PYTHONPATH"] = REPO_ROOT
    process = subprocess.Popen(
        [sys.executable, "-m", "embedtune", "finetune", "--config", str(config)]
        + ["--output", str(out)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = out / ".embedtune.lock"
    deadline = time.monotonic() + 300
    while not lock.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert lock.exists(), "the run never took its lock"
    time.sleep(2)  # well into the run: loading the data or the model
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    assert "embedtune: interrupted (SIGTERM)" in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not lock.exists()
    assert not (out / "results.json").exists() and not (out / "model").exists()
