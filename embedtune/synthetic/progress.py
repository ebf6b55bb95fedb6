"""Progress of LLM query generation, saved batch by batch so a killed run can `--resume`.

The progress file sits beside the output folder (``.NAME.generate-progress.jsonl``, hidden): its
first line says what produced it (the LLM and the prompt settings), each further line is one
finished chunk, ``{"chunk_id", "query", "negative_query"}`` or ``{"chunk_id", "dropped": true}``
(the LLM's answer could not be parsed: asking again is not free, so it is not asked again).
Lines are appended and fsynced after every batch; a line cut short by a kill is ignored on
reading (and cut off before the next append). The file is removed once the dataset is saved.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)

KIND = "embedtune generate progress"


def progress_path(output: str | os.PathLike) -> Path:
    """Where the progress of a run writing to `output` is kept (beside it: the output folder
    itself is swapped in whole at the end)."""
    target = Path(output)
    return target.parent / f".{target.name}.generate-progress.jsonl"


class GenerateProgress:
    """The finished chunks of a run (``done``: chunk id -> record) and the file that keeps them."""

    def __init__(self, path: Path, settings: Mapping[str, Any]) -> None:
        self.path = path
        self.settings = dict(settings)
        self.done: dict[str, dict[str, Any]] = {}

    @classmethod
    def start(cls, path: Path, settings: Mapping[str, Any], *, resume: bool) -> GenerateProgress:
        """Continue the progress at `path` when `resume` (its settings must be these), else
        begin a new file (an existing one must have been refused or removed before)."""
        progress = cls(path, settings)
        if resume and path.is_file():
            progress._read()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            header = {"kind": KIND, "settings": progress.settings}
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(header) + "\n")
                _sync(handle)
        return progress

    def _read(self) -> None:
        with open(self.path, "rb") as handle:
            raw = handle.read()
        lines = raw.split(b"\n")
        complete = lines[:-1]  # the text after the last newline is a line cut short (or empty)
        try:
            header = json.loads(complete[0]) if complete else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("kind") != KIND:
            raise ConfigError(
                f"{self.path}: not a progress file of embedtune generate; remove it, or pass "
                "--overwrite to start over"
            )
        if header.get("settings") != self.settings:
            changed = sorted(
                k
                for k in set(self.settings) | set(header.get("settings") or {})
                if (header.get("settings") or {}).get(k) != self.settings.get(k)
            )
            raise ConfigError(
                f"{self.path}: the saved progress was made with other settings "
                f"({', '.join(changed)}); resume with the same settings, or pass --overwrite "
                "to start over"
            )
        for number, line in enumerate(complete[1:], start=2):
            try:
                record = json.loads(line)
            except ValueError:
                raise ConfigError(
                    f"{self.path}: line {number} is not JSON; remove the file, or pass "
                    "--overwrite to start over"
                ) from None
            self.done[record["chunk_id"]] = record
        if lines[-1]:  # cut off the partial line, so the next append starts on a fresh line
            with open(self.path, "r+b") as handle:
                handle.truncate(len(raw) - len(lines[-1]))
        logger.info("Resuming: %d chunks already done (%s)", len(self.done), self.path)

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Add finished chunks; on disk (fsynced) when this returns."""
        records = [dict(r) for r in records]
        if not records:
            return
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
            _sync(handle)
        self.done.update((r["chunk_id"], r) for r in records)


def _sync(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def check_progress(output: str | os.PathLike, *, resume: bool, overwrite: bool) -> None:
    """Before any work: progress of an unfinished run is continued (`resume`), dropped
    (`overwrite`), or else the run is refused, so that no finished work is lost silently."""
    path = progress_path(output)
    if not path.exists() or resume:
        return
    if overwrite:
        path.unlink()
        logger.info("Removed the progress of an earlier unfinished run (%s): --overwrite", path)
        return
    raise ConfigError(
        f"{path} holds the progress of an unfinished `embedtune generate` run into {output}: "
        "pass --resume to continue it, or --overwrite to start over"
    )


def remove_progress(output: str | os.PathLike) -> None:
    """After the dataset is saved: the progress is in it."""
    progress_path(output).unlink(missing_ok=True)
