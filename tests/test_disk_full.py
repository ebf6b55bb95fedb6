"""A disk that fills up during a run (issue 19, item 6): a clear error naming the output and
about how much a run needs (exit 2), the half-written outputs removed, the lock released; not a
traceback from safetensors. Needs a small file system: a tmpfs, mounted when the tests run as
root (skipped otherwise)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from embedtune.cli import main
from tests.helpers import TINY_RUN


@pytest.fixture
def small_disk(tmp_path):
    """A 40 MB tmpfs: room for the data and the lock, not for a checkpoint of MiniLM."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_a_clear_error(tmp_path, capsys, base_model_path, small_disk):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY_RUN, "base_model": base_model_path}))
    out = small_disk / "out"
    code = main(["finetune", "--config", str(config), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err[-3000:]
    assert f"embedtune: error: no space left on the device of {out}" in err
    assert "a finetune run of this model needs about" in err and "MB free" in err
    # "--- Logging error ---" blocks come from a handler an earlier test in this process bound
    # to its own (now closed) captured stderr: the logging module's diagnostics, not this run's
    own = re.sub(r"--- Logging error ---.*?\nArguments: [^\n]*\n", "", err, flags=re.DOTALL)
    assert "Traceback" not in own
    assert not (out / ".staging").exists() and not (out / ".embedtune.lock").exists()
    assert not (out / "results.json").exists()
