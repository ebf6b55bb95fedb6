"""A run's outputs become visible together or not at all, one run per output folder at a time.

- `output_lock(OUTPUT)`: OUTPUT/.embedtune.lock holds the pid of the run (and its start time);
  a second run on the same folder is refused; a lock left by a dead process, or whose pid now
  belongs to another program, is taken over. Creating it is also the probe
  that the real output folder is writable (before any model is loaded).
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
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)

LOCK_NAME = ".embedtune.lock"
STAGING_NAME = ".staging"
PREVIOUS_NAME = ".previous"
SWAP_MARKER = ".swap-in-progress"
RESULTS_NAME = "results.json"


def _start_time(pid: int) -> str | None:
    """The process's start time (Linux /proc; None elsewhere): with the pid, it tells the run
    that wrote a lock from another program that later got the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None  # field 22: starttime


def _lock_text() -> str:
    start = _start_time(os.getpid())
    return f"{os.getpid()} {start}" if start else str(os.getpid())


def _lock_holder(text: str) -> tuple[int, str | None]:
    """(pid, start time or None) from a lock's text ("PID" or "PID START"); (0, None) if
    unreadable."""
    parts = text.split()
    try:
        pid = int(parts[0]) if parts else 0
    except ValueError:
        return 0, None
    return pid, parts[1] if len(parts) > 1 else None


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


@contextmanager
def output_lock(output: str | Path) -> Iterator[Path]:
    """Hold OUTPUT/.embedtune.lock for the run; refuse if another live process holds it."""
    from embedtune.output_folder import check_output_path

    check_output_path(output)
    folder = Path(output)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--output {folder}: cannot create the folder: {err}") from None
    lock = folder / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid, start = _lock_holder(lock.read_text(encoding="utf-8"))
            except OSError:
                pid, start = 0, None
            if _held_by_live_run(pid, start):
                raise ConfigError(
                    f"--output {folder} is in use by another embedtune run (pid {pid}); wait for "
                    "it to finish or give another --output"
                ) from None
            logger.warning(
                "Taking over %s left by a run that is gone (pid %s%s)",
                lock,
                pid,
                ", now another program's" if pid and _pid_alive(pid) else "",
            )
            lock.unlink(missing_ok=True)
            continue
        except OSError as err:
            raise ConfigError(f"--output {folder} is not writable: {err.strerror}") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(_lock_text())
        break
    else:  # pragma: no cover - two races in a row
        raise ConfigError(f"--output {folder}: could not take the lock {lock}")
    try:
        recover_interrupted_swap(folder)
        yield lock
    finally:
        lock.unlink(missing_ok=True)
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
