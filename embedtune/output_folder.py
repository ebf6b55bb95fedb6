"""One output folder, one kind of run: an evaluation never replaces a finetune run's outputs,
and no run ever replaces a file embedtune did not write.

Call `check_output_folder` before any work. Every run records what it wrote in
OUTPUT/.embedtune-run.json (`RUN_MARKER`: the kind and every file; `write_run_marker`, called
by the swap in embedtune.run_outputs); a results.json of an earlier version still identifies a
run. A non-empty folder that is no embedtune run is refused unless `overwrite`, and even then if
it holds a file or folder a run writes (model/, results.json, ...): that file is the user's. A
folder holding a run of another kind is refused unless `overwrite`; a folder holding a run of
the same kind is reused, and the user is told which files the new run replaces when it
completes (every file is swapped in atomically, results.json last). A file the user added among
a recorded run's files (OUTPUT/model/notes.txt) is refused in every case.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from embedtune.errors import ConfigError
from embedtune.results_schema import (
    EVALUATE,
    FINETUNE,
    FINETUNED,
    MODEL,
    MODEL_DIR,
    OUTPUT_FILES,
)

logger = logging.getLogger(__name__)

RUN_KINDS = (FINETUNE, EVALUATE)
CHECKPOINTS_DIR = "checkpoints"
DEPLOYMENT_NAME = "deployment.json"
RUN_FILES = (*OUTPUT_FILES.values(), MODEL_DIR, CHECKPOINTS_DIR)
RUN_MARKER = ".embedtune-run.json"  # the kind of run and every file it wrote
# embedtune's own bookkeeping (embedtune.run_outputs): never a user's file
BOOKKEEPING = (RUN_MARKER, ".embedtune.lock", ".staging", ".previous", ".swap-in-progress")
RUN_RECORD = "embedtune_run.json"  # checkpoints/ record (embedtune.training.resume_guard)
LISTED = 5  # user files named in a refusal


def check_output_path(output: str | Path | None, flag: str = "--output") -> None:
    """An empty path would mean the working directory: refused (as `--data ""` is); so is a
    path that is not UTF-8 or has a name over the file system's limit (found before any work,
    not at the first checkpoint save)."""
    if output is None:
        return
    if not str(output).strip():
        raise ConfigError(f"{flag} is empty: give a folder path (e.g. {flag} outputs/run)")
    try:
        str(output).encode("utf-8")
    except UnicodeEncodeError:  # bytes that are no UTF-8 (surrogate-escaped by Python)
        shown = os.fsencode(str(output)).decode("utf-8", "backslashreplace")
        raise ConfigError(
            f"{flag} {shown}: the path is not valid UTF-8, which the model and report files "
            "cannot record; give a folder whose name is UTF-8"
        ) from None
    try:
        os.stat(output)
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            raise ConfigError(
                f"{flag} {str(output)[:80]}...: a name in the path is longer than the file "
                "system allows; give a shorter path"
            ) from None


def _written_names(output: Path) -> list[str]:
    """The top-level names a run may write or replace in `output`."""
    names = [name for name in (*RUN_FILES, DEPLOYMENT_NAME) if os.path.lexists(output / name)]
    from embedtune.config import EXPORTS

    exports = (f"{MODEL_DIR}-{name}" for name in EXPORTS)  # --export folders (model-onnx, ...)
    names += [name for name in exports if os.path.lexists(output / name)]
    return names


def _files_under(output: Path, name: str) -> list[str]:
    """Every file (and symlink) under OUTPUT/name, as paths relative to OUTPUT."""
    top = output / name
    if top.is_symlink() or not top.is_dir():
        return [name]
    found = []
    for root, dirs, files in os.walk(top):
        rel = Path(root).relative_to(output)
        found += [(rel / f).as_posix() for f in files]
        found += [(rel / d).as_posix() for d in dirs if (Path(root) / d).is_symlink()]
    return found


def _is_export_folder(folder: Path) -> bool:
    from embedtune.results_schema import EXPORT_RECORD

    return (folder / EXPORT_RECORD).is_file()


def read_run_marker(output: str | Path) -> dict | None:
    """OUTPUT/.embedtune-run.json, or None when there is none (or it is not embedtune's)."""
    try:
        marker = json.loads((Path(output) / RUN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("written_by") != "embedtune":
        return None
    files = marker.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return marker


def write_run_marker(output: str | Path, kind: str | None, new_files: list[str]) -> None:
    """Record in OUTPUT/.embedtune-run.json that `new_files` (relative paths) are embedtune's,
    with the files an earlier run recorded that are still there; `kind` None keeps the
    recorded one. Written before the swap begins, so a swap cut short is still recognised."""
    from embedtune.io import write_json_atomic

    output = Path(output)
    old = read_run_marker(output) or {}
    kept = [f for f in old.get("files", []) if os.path.lexists(output / f)]
    if not old and _legacy_kind(output) is not None:  # a run from before the marker
        kept = [f for name in _written_names(output) for f in _files_under(output, name)]
    kind = kind or old.get("kind") or _legacy_kind(output)
    record = {"written_by": "embedtune", "kind": kind, "files": sorted({*kept, *new_files})}
    write_json_atomic(output / RUN_MARKER, record)


def _legacy_kind(output: Path) -> str | None:
    """The kind of a run written before RUN_MARKER existed (its results.json, or its
    checkpoints/ with the run record or checkpoint folders), else None."""
    results = output / OUTPUT_FILES["results"]
    if results.is_file():
        return _kind_of_results(results)
    checkpoints = output / CHECKPOINTS_DIR
    if checkpoints.is_dir() and (
        (checkpoints / RUN_RECORD).is_file() or any(checkpoints.glob("**/checkpoint-*"))
    ):
        return FINETUNE  # killed or still running
    return None


def user_files(output: str | Path) -> list[str]:
    """Files in the names a run writes (model/, results.json, ...) that no embedtune run
    recorded: the user's. In a folder without a run every such file is the user's."""
    output = Path(output)
    if not output.is_dir():
        return []
    marker = read_run_marker(output)
    if marker is None and _legacy_kind(output) is not None:
        return []  # an earlier version's run: its files are taken as the run's
    owned = set(marker["files"]) if marker else set()
    found = []
    for name in _written_names(output):
        if name == CHECKPOINTS_DIR and marker and (output / name / RUN_RECORD).is_file():
            continue  # training writes checkpoints as it goes: the folder is the run's
        if name.startswith(f"{MODEL_DIR}-") and _is_export_folder(output / name):
            continue  # `embedtune export` wrote it beside the model (its export record)
        found += [f for f in _files_under(output, name) if f not in owned]
    return sorted(found)


def foreign_entries(output: str | Path) -> list[str]:
    """The entries of a folder that holds no embedtune run (empty: nothing there)."""
    output = Path(output)
    if not output.is_dir() or existing_run(output) is not None:
        return []
    return sorted(
        p.name
        for p in output.iterdir()  # .embedtune.lock.break.*: filelock taking a lock over
        if p.name not in BOOKKEEPING and not p.name.startswith(".embedtune.lock.")
    )


def _named(files: list[str]) -> str:
    more = f" and {len(files) - LISTED} more" if len(files) > LISTED else ""
    return ", ".join(files[:LISTED]) + more


@dataclass(frozen=True)
class ExistingRun:
    """What an output folder already holds."""

    kind: str  # "finetune", "evaluate", or "unknown" (a results.json embedtune cannot place)
    finished: bool  # results.json, written last, is there
    files: tuple[str, ...]  # the run's files and folders that a new run replaces

    def describe(self) -> str:
        state = "finished" if self.finished else "unfinished"
        return f"a {state} {self.kind} run ({', '.join(self.files)})"


def _kind_of_results(path: Path) -> str:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    if not isinstance(results, dict):
        return "unknown"
    kind = results.get("kind")
    if kind in RUN_KINDS:
        return kind
    if FINETUNED in results:  # results.json written before "kind" was recorded
        return FINETUNE
    if MODEL in results:
        return EVALUATE
    return "unknown"


def existing_run(output: str | Path) -> ExistingRun | None:
    """The embedtune run in `output` (its RUN_MARKER, else an earlier version's results.json or
    checkpoints), or None when there is none."""
    output = Path(output)
    if not output.is_dir():
        return None
    files = tuple(name for name in RUN_FILES if (output / name).exists())
    finished = (output / OUTPUT_FILES["results"]).is_file()
    marker = read_run_marker(output)
    if marker is not None:
        kind = marker.get("kind") if marker.get("kind") in RUN_KINDS else "unknown"
        return ExistingRun(kind, finished, files)
    kind = _legacy_kind(output)
    return None if kind is None else ExistingRun(kind, finished, files)


def check_output_folder(output: str | Path, kind: str, *, overwrite: bool = False) -> None:
    """Refuse (ConfigError) to write a `kind` run into a folder that holds another kind of run,
    unless `overwrite`; log what a run of the same kind will replace."""
    if kind not in RUN_KINDS:
        raise ValueError(f"kind must be one of {RUN_KINDS}, got {kind!r}")
    check_output_path(output)
    theirs = user_files(output)
    if theirs:
        raise ConfigError(
            f"--output {output} holds files embedtune did not write that the run would replace "
            f"({_named(theirs)}); move them out of the folder, or give another --output "
            "(--overwrite never replaces a file of yours)"
        )
    found = existing_run(output)
    if found is None:
        foreign = foreign_entries(output)
        if foreign and not overwrite:
            raise ConfigError(
                f"--output {output} is not empty and holds no embedtune run ({_named(foreign)}); "
                "give a new or empty folder, or add --overwrite to write beside those files "
                "(they are kept)"
            )
        return
    if found.kind != kind and not overwrite:
        raise ConfigError(
            f"--output {output} holds {found.describe()}; `embedtune {kind}` would replace it. "
            "Give another --output, or add --overwrite to replace it"
        )
    if found.kind != kind:
        kept = [name for name in found.files if name in (MODEL_DIR, CHECKPOINTS_DIR)]
        logger.warning(
            "--overwrite: %s holds %s; the %s run replaces its results%s",
            output,
            found.describe(),
            kind,
            f" ({', '.join(kept)} stay from the old run)" if kind == EVALUATE and kept else "",
        )
    elif found.finished:
        logger.warning(
            "%s holds %s: the new %s run replaces its files when it completes",
            output,
            found.describe(),
            kind,
        )
