"""A run's outputs become visible together or not at all, one run per output folder at a time.

- `output_lock(OUTPUT)`: OUTPUT/.embedtune.lock is a lease (filelock's `SoftFileLease`) naming
  the run's pid, host and PID namespace; a second run on the same folder is refused, also from
  another host or container that shares the volume; a lock whose holder is provably gone is
  taken over at once, any other only after its lease ran out unrenewed. Creating it is also the
  probe that the real output folder is writable (before any model is loaded).
- `StagedOutputs`: model/, results.json, report.html, evaluation.png and per_query.json are built
  in OUTPUT/.staging and swapped in at the end. The old results.json goes first and the new one
  comes last, so a results.json on disk always describes the model and report beside it; a swap cut
  short by a kill leaves no results.json (an unfinished run, never a mislabelled one) and a marker
  that the next run reports and cleans up.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)

LOCK_NAME = ".embedtune.lock"
STAGING_NAME = ".staging"
PREVIOUS_NAME = ".previous"
SWAP_MARKER = ".swap-in-progress"
RESULTS_NAME = "results.json"


# How long a lock's holder may go without renewing it before another run takes it over (the
# holder renews it every third of that). Every run sharing a folder must use the same value:
# EMBEDTUNE_LOCK_LEASE_S changes it (tests shorten it; a file system slow to show another host's
# writes may need more).
LOCK_LEASE_S = 60.0
LEASE_ENV = "EMBEDTUNE_LOCK_LEASE_S"


def lock_lease_seconds() -> float:
    """The lease of OUTPUT/.embedtune.lock in seconds (LOCK_LEASE_S unless EMBEDTUNE_LOCK_LEASE_S)."""
    text = os.environ.get(LEASE_ENV, "").strip()
    if not text:
        return LOCK_LEASE_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ConfigError(
            f"{LEASE_ENV}={text!r}: give the lock's lease as a positive number of seconds"
        )
    return value


def _start_time(pid: int) -> str | None:
    """The process's start time (Linux /proc; None elsewhere): with the pid, it tells the run
    that wrote a lock from another program that later got the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None  # field 22: starttime


_LEGACY_LOCK = re.compile(r"\s*(\d+)(?:\s+(\d+))?\s*")  # "PID" or "PID START"


def _legacy_holder(lock: Path) -> tuple[int, str | None] | None:
    """(pid, start time or None) of a lock written by embedtune before leases (its text "PID"
    or "PID START"); None for any other lock."""
    try:
        match = _LEGACY_LOCK.fullmatch(lock.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def _held_by_live_run(pid: int, start: str | None) -> bool:
    """The lock's process is alive and is the one that wrote it (not a later process that
    reuses its pid)."""
    if not pid or pid == os.getpid() or not _pid_alive(pid):
        return False
    if start is None:
        return True  # a lock without a start time (older embedtune, not Linux): trust the pid
    now = _start_time(pid)
    return now is None or now == start


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _take_legacy_lock_over(folder: Path, lock: Path) -> None:
    """A lock from an embedtune before leases: refused while its pid runs, else removed."""
    holder = _legacy_holder(lock)
    if holder is None:
        return
    pid, start = holder
    if _held_by_live_run(pid, start):
        raise ConfigError(
            f"--output {folder} is in use by another embedtune run (pid {pid}); wait for "
            "it to finish or give another --output"
        )
    logger.warning(
        "Taking over %s left by a run that is gone (pid %s%s)",
        lock,
        pid,
        ", now another program's" if pid and _pid_alive(pid) else "",
    )
    lock.unlink(missing_ok=True)


def _own_pid_namespace() -> str:
    """This process's PID namespace as filelock marks it in a lock's host ("" for the initial
    namespace, or where /proc does not say)."""
    try:
        inode = Path("/proc/self/ns/pid").stat().st_ino
    except OSError:
        return ""
    return "" if inode == 0xEFFFFFFC else f"{inode:x}"  # the kernel's initial PID namespace


def _holder_text(owner: Any) -> str:
    """'pid 12 on host node-a' (', in another PID namespace' for a container or sandbox on this
    host, whose pid means nothing here)."""
    if owner is None:
        return "a run whose lock record cannot be read"
    host, _, namespace = owner.hostname.partition("?pidns-")  # filelock's namespace mark
    where = f"pid {owner.pid} on host {host}"
    if host == socket.gethostname() and namespace != _own_pid_namespace():
        where += ", in another PID namespace"
    return where


def _lease_age(lock: Path) -> float | None:
    """Seconds since the lock was last renewed (its mtime, which the holder touches)."""
    try:
        return max(0.0, time.time() - lock.stat().st_mtime)
    except OSError:
        return None


@contextmanager
def output_lock(output: str | Path) -> Iterator[Path]:
    """Hold OUTPUT/.embedtune.lock for the run; refuse if another run holds it.

    Why a lease and not a PID check or an OS lock: on a volume shared by pods or hosts (NFS,
    a Kubernetes PVC) a pid means nothing outside its host and PID namespace, so a PID check
    takes a live run's lock over; flock/fcntl locks are not honoured by every shared file
    system. filelock's `SoftFileLease` needs only an atomic exclusive create: its record names
    the holder's pid, host and PID namespace (and start time), so a holder proven dead (same
    host and namespace, pid gone or reused) is taken over at once; any other holder renews the
    lock's mtime every third of the lease from a background thread, and only a lock seen
    unrenewed for a whole lease (`lock_lease_seconds`) is taken over, a kill -9 elsewhere
    included. A run finding a lock renewed within the lease is refused without waiting; one
    finding an older lock watches it for one lease first (a peer's clock may differ from ours).
    """
    from filelock import LeaseSettingsMismatch, SoftFileLease, Timeout

    from embedtune.output_folder import check_output_path

    check_output_path(output)
    lease_s = lock_lease_seconds()
    folder = Path(output)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--output {folder}: cannot create the folder: {err}") from None
    lock = folder / LOCK_NAME

    def lost(compromise: Any) -> None:  # the heartbeat thread found the lock gone or replaced
        logger.error(
            "%s: this run lost its lock (%s): another run may now write the same folder",
            lock,
            compromise.reason,
        )

    lease = SoftFileLease(
        lock, lease_duration=lease_s, on_compromise=lost, thread_local=False, mode=0o644
    )

    def refused(owner: Any, extra: str) -> ConfigError:
        return ConfigError(
            f"--output {folder} is in use by another embedtune run ({_holder_text(owner)}); "
            f"wait for it to finish or give another --output{extra}"
        )

    try:
        _take_legacy_lock_over(folder, lock)
        before = lease.owner if lock.exists() else None
        try:  # one try: a free folder, or a holder proven dead (same host and PID namespace)
            lease.acquire(blocking=False)
            if before is not None:
                logger.warning(
                    "Taking over %s left by a run that is gone (%s)", lock, _holder_text(before)
                )
        except Timeout:
            owner, age = lease.owner, _lease_age(lock)
            if age is not None and age < lease_s:
                raise refused(
                    owner,
                    " (if that run was killed, its lock is taken over once it has gone "
                    f"{lease_s:g} s without being renewed)",
                ) from None
            logger.warning(
                "%s was last renewed %s s ago by %s; watching it for %g s (its lease) before "
                "taking it over",
                lock,
                "?" if age is None else f"{age:.0f}",
                _holder_text(owner),
                lease_s,
            )
            try:
                lease.acquire(timeout=lease_s * 4 / 3 + 1, poll_interval=min(1.0, lease_s / 10))
            except Timeout:
                raise refused(lease.owner or owner, " (it is renewing its lock)") from None
            logger.warning(
                "Took over %s from %s: its lease ran out unrenewed", lock, _holder_text(owner)
            )
    except LeaseSettingsMismatch:
        owner = lease.owner
        raise ConfigError(
            f"--output {folder} is locked by another embedtune run ({_holder_text(owner)}) with a "
            f"{owner.lease_duration if owner else '?'} s lease, and this run uses {lease_s:g} s "
            f"({LEASE_ENV}): every run on one folder must use the same lease"
        ) from None
    except OSError as err:  # not a Timeout: those are handled above
        raise ConfigError(f"--output {folder} is not writable: {err.strerror or err}") from None
    try:
        recover_interrupted_swap(folder)
        yield lock
    finally:
        lease.release(force=True)
        if created and not any(folder.iterdir()):  # a run refused early leaves nothing behind
            folder.rmdir()


def recover_interrupted_swap(folder: Path) -> None:
    """Clean up after a run killed while swapping its outputs in; say what happened."""
    marker = folder / SWAP_MARKER
    staging, previous = folder / STAGING_NAME, folder / PREVIOUS_NAME
    if marker.exists():
        logger.warning(
            "%s: an earlier run was interrupted while replacing its outputs; its results.json "
            "was not written, so the files there are an unfinished run. Cleaning up.",
            folder,
        )
        marker.unlink(missing_ok=True)
    for leftover in (staging, previous):
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)


class StagedOutputs:
    """Build a run's outputs in OUTPUT/.staging, then `commit()` them into OUTPUT."""

    def __init__(self, output: str | Path, *, fresh: bool = True) -> None:
        """`fresh=False` continues a staging folder an earlier step began (ZenML pipeline)."""
        self.output = Path(output)
        self.staging = self.output / STAGING_NAME
        if fresh:
            shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True, exist_ok=True)

    def commit(self) -> list[str]:
        """Swap every staged entry in; results.json last. Returns the names replaced."""
        from embedtune.output_folder import _files_under, _kind_of_results, write_run_marker

        marker = self.output / SWAP_MARKER
        previous = self.output / PREVIOUS_NAME
        entries = sorted(p.name for p in self.staging.iterdir())
        if RESULTS_NAME in entries:  # the finished-run mark goes in last
            entries.remove(RESULTS_NAME)
            entries.append(RESULTS_NAME)
        staged_results = self.staging / RESULTS_NAME
        written = [
            Path(f).relative_to(STAGING_NAME).as_posix()
            for name in entries
            for f in _files_under(self.output, f"{STAGING_NAME}/{name}")
        ]
        kind = _kind_of_results(staged_results) if staged_results.is_file() else None
        # first: the record of what embedtune wrote, so a swap cut short is still its run
        write_run_marker(self.output, kind if kind != "unknown" else None, written)
        marker.write_text(json.dumps({"pid": os.getpid(), "entries": entries}))
        shutil.rmtree(previous, ignore_errors=True)
        previous.mkdir()
        replaced = []
        old_results = self.output / RESULTS_NAME
        if old_results.exists():  # first: the old results must not describe the new files
            os.replace(old_results, previous / RESULTS_NAME)
            replaced.append(RESULTS_NAME)
        for name in entries:
            target = self.output / name
            if target.exists() and name != RESULTS_NAME:
                os.replace(target, previous / name)
                replaced.append(name)
            _move(self.staging / name, target)
        shutil.rmtree(previous, ignore_errors=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        marker.unlink(missing_ok=True)
        return replaced

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as err:  # pragma: no cover - staging is inside OUTPUT: same file system
        if err.errno != errno.EXDEV:
            raise
        shutil.move(str(source), str(target))


def check_base_model_outside_output(base_model: str, output: str | Path) -> None:
    """A base model inside the run's own output would be replaced by the run (and results.json
    would then name the finetuned weights as the base): refuse."""
    base = Path(base_model).expanduser()
    if not base.exists():
        return  # a hub id
    base, out = base.resolve(), Path(output).expanduser().resolve()
    if base == out or out in base.parents:
        raise ConfigError(
            f"--base-model {base_model} is inside --output {output}: the run would replace the "
            "model it starts from. Copy it elsewhere first, or give another --output"
        )
