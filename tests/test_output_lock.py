"""A lock that holds on shared disks (issue 22, item 5): OUTPUT/.embedtune.lock is a lease.

A run whose pid this process cannot see (another PID namespace, another host) is locked out for
as long as it renews its lock; after a kill -9 its lock is taken over only once a whole lease
has gone by unrenewed. A holder proven dead (same host and namespace) is taken over at once.
The lease is shortened through EMBEDTUNE_LOCK_LEASE_S so the tests wait seconds, not a minute.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from embedtune.errors import ConfigError
from embedtune.run_outputs import LEASE_ENV, LOCK_NAME, output_lock

LEASE = 2.0
HOLDER = (
    "import sys, time\n"
    "from embedtune.run_outputs import output_lock\n"
    "with output_lock(sys.argv[1]):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(120)\n"
)


def _pid_namespace_prefix() -> list[str] | None:
    """A command prefix that runs a process in a new PID namespace, if this machine allows one
    (plain `unshare` as root, else inside a user namespace), else None."""
    if shutil.which("unshare") is None:
        return None
    for prefix in (
        ["unshare", "--pid", "--fork"],
        ["unshare", "--user", "--map-root-user", "--pid", "--fork"],
    ):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return None


def _start_holder(folder, prefix: list[str] = (), lease: float = LEASE) -> subprocess.Popen:
    """Another embedtune process holding OUTPUT's lock (its own session: killpg kills it all)."""
    env = {**os.environ, LEASE_ENV: str(lease)}
    holder = subprocess.Popen(
        [*prefix, sys.executable, "-c", HOLDER, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert holder.stdout.readline().strip() == "held", "the holder never took the lock"
    return holder


def _kill_9(holder: subprocess.Popen) -> None:
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()


def _recorded_pid(folder) -> int:
    fields = dict(
        line.split("=", 1) for line in (folder / LOCK_NAME).read_text().splitlines() if "=" in line
    )
    return int(fields["pid"])


PREFIX = _pid_namespace_prefix()


@pytest.mark.skipif(PREFIX is None, reason="this machine allows no new PID namespace (unshare)")
def test_a_run_in_another_pid_namespace_is_locked_out_and_its_kill_9_waits_for_the_lease(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv(LEASE_ENV, str(LEASE))
    holder = _start_holder(tmp_path, PREFIX)
    try:
        assert _recorded_pid(tmp_path) != holder.pid  # its pid in its namespace, not ours
        with pytest.raises(ConfigError, match=r"in use by another embedtune run \(pid \d+ on host"):
            with output_lock(tmp_path):
                pass
        time.sleep(LEASE * 1.5)  # longer than a lease: the live holder keeps renewing its lock
        with pytest.raises(ConfigError, match="in another PID namespace.*--output"):
            with output_lock(tmp_path):
                pass
    finally:
        _kill_9(holder)
    # killed without releasing: within its lease the lock still holds
    with pytest.raises(ConfigError, match=f"once it has gone {LEASE:g} s without being renewed"):
        with output_lock(tmp_path):
            pass
    time.sleep(LEASE)
    started = time.monotonic()
    with caplog.at_level("WARNING"), output_lock(tmp_path):
        assert _recorded_pid(tmp_path) == os.getpid()
    assert LEASE <= time.monotonic() - started < LEASE * 3  # watched one lease, then took it
    assert "its lease ran out unrenewed" in caplog.text
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_killed_run_in_this_namespace_is_taken_over_at_once(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(LEASE_ENV, "30")  # no waiting for a lease when the holder is proven dead
    holder = _start_holder(tmp_path, lease=30)
    try:
        with pytest.raises(ConfigError, match=f"pid {holder.pid} on host"):
            with output_lock(tmp_path):
                pass
    finally:
        _kill_9(holder)
    assert (tmp_path / LOCK_NAME).exists()  # kill -9 left it behind
    started = time.monotonic()
    with caplog.at_level("WARNING"), output_lock(tmp_path):
        assert _recorded_pid(tmp_path) == os.getpid()
    assert time.monotonic() - started < 5
    assert f"left by a run that is gone (pid {holder.pid} on host" in caplog.text


def _foreign_record(folder, duration: float = LEASE) -> None:
    """The lock as a run on another host writes it (filelock's lease record, protocol 2)."""
    (folder / LOCK_NAME).write_text(
        "filelock/2\npid=4242\nhost=other-node\nmode=lease\n"
        f"token=0123456789abcdef0123456789abcdef\nduration={duration!r}\n"
    )


def test_a_lock_from_another_host_is_taken_over_only_after_its_lease(tmp_path, monkeypatch):
    """Works without namespaces: a record naming another host, renewed by this test."""
    monkeypatch.setenv(LEASE_ENV, str(LEASE))
    lock = tmp_path / LOCK_NAME
    _foreign_record(tmp_path)
    with pytest.raises(
        ConfigError, match=r"\(pid 4242 on host other-node\).*without being renewed"
    ):
        with output_lock(tmp_path):
            pass
    # An old mtime alone is not enough: a holder still renewing (a clock behind ours) keeps it.
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE / 4):
            os.utime(lock)

    os.utime(lock, (time.time() - 10 * LEASE,) * 2)
    renewer = threading.Thread(target=renew)
    renewer.start()
    try:
        with pytest.raises(ConfigError, match="it is renewing its lock"):
            with output_lock(tmp_path):
                pass
    finally:
        stop.set()
        renewer.join()
    os.utime(lock, (time.time() - 10 * LEASE,) * 2)
    with output_lock(tmp_path):
        assert _recorded_pid(tmp_path) == os.getpid()
    # Every run on a folder must agree on the lease.
    _foreign_record(tmp_path, duration=5.0)
    with pytest.raises(ConfigError, match=r"5.0 s lease, and this run uses 2 s"):
        with output_lock(tmp_path):
            pass
    monkeypatch.setenv(LEASE_ENV, "soon")
    with pytest.raises(ConfigError, match="EMBEDTUNE_LOCK_LEASE_S='soon'"):
        with output_lock(tmp_path):
            pass
