"""Read local .json/.jsonl/.csv/.parquet files row by row, so errors can name the row."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from embedtune.errors import DataError

SUPPORTED_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet")


def decode_file(path: Path) -> str:
    """The text of a UTF-8 file, or a DataError saying where it is not."""
    try:
        raw = path.read_bytes()
    except OSError as err:  # a folder, no permission, an I/O error
        raise DataError(
            f"cannot read: {err.strerror or err}",
            path=str(path),
            hint="check the path and its permissions",
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"not valid UTF-8 (byte {err.start}, line {line})",
            path=str(path),
            row=line,
            hint="re-save the file as UTF-8",
        ) from None


def _read_json(path: Path) -> list[dict]:
    text = decode_file(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"invalid JSON: {err.msg}", path=str(path), row=err.lineno) from None
        bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
        if bad is not None:
            raise DataError("expected a JSON object per row", path=str(path), row=bad + 1)
        return rows
    # JSON lines (the usual layout of .json files written by `datasets`). Split on "\n" only:
    # str.splitlines would also split inside texts holding U+2028, U+0085 and friends, which
    # JSON writers leave unescaped.
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"invalid JSON line: {err.msg}",
                path=str(path),
                row=number,
                hint="use JSON Lines (one object per line) or a JSON array of objects",
            ) from None
        if not isinstance(row, dict):
            raise DataError("expected a JSON object on each line", path=str(path), row=number)
        rows.append(row)
    return rows


def _read_csv(path: Path) -> list[dict]:
    text = decode_file(path)
    # newline="" keeps line breaks inside quoted fields; long documents exceed csv's default
    # 128 KiB field limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    number = 1
    try:
        for number, row in enumerate(reader, start=2):  # row 1 is the header
            if None in row:
                raise DataError(
                    "more fields than the header has columns",
                    path=str(path),
                    row=number,
                    hint="quote fields that contain commas",
                )
            rows.append(row)
    except csv.Error as err:
        raise DataError(f"invalid CSV: {err}", path=str(path), row=number + 1) from None
    return rows


def _read_parquet(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as err:  # pyarrow raises several types for corrupt files
        raise DataError(f"cannot read parquet: {err}", path=str(path)) from None


def read_rows(path: str | Path) -> list[dict]:
    """Rows of a local table file as dicts. Raises DataError for missing/unknown/unreadable files."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    suffix = path.suffix.lower()
    readers = {".json": _read_json, ".jsonl": _read_json, ".csv": _read_csv}
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix not in readers:
        raise DataError(
            f"unknown format {suffix or '(no suffix)'!r}",
            path=str(path),
            hint=f"use one of {', '.join(SUPPORTED_SUFFIXES)}, a save_to_disk folder or a BEIR folder",
        )
    return readers[suffix](path)
