"""Read local .json/.jsonl/.csv/.parquet files row by row, so errors can name the row."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import sys
from collections import Counter
from pathlib import Path

from embedtune.errors import DataError

SUPPORTED_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet")

_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def require_regular_file(path: Path) -> None:
    """Refuse anything but a regular file (or a folder, which reading reports) without opening it.

    Reading a FIFO blocks until a writer appears and /dev/zero never ends, so they are refused
    from their `stat` alone. Symlinks are followed: a link to a FIFO is a FIFO.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataError("file not found", path=str(path)) from None
    except OSError as err:  # permission on a parent, a symlink loop, an I/O error
        raise DataError(
            f"cannot read: {err.strerror or err}",
            path=str(path),
            hint="check the path and its permissions",
        ) from None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = next((name for test, name in _SPECIAL_FILES if test(mode)), "not a regular file")
    raise DataError(
        f"not a regular file: it is {kind}; embedtune reads only regular files (a pipe or a "
        "device can block forever or never end)",
        path=str(path),
        hint="save the data to a file first and pass that file's path",
    )


def decode_file(path: Path) -> str:
    """The text of a UTF-8 file, or a DataError saying where it is not."""
    require_regular_file(path)
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


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(value: object) -> str | None:
    """The escape (\\udXXX) of the first lone UTF-16 surrogate in a parsed JSON value."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            return f"\\u{ord(value[err.start]):04x}"
        return None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        return next(filter(None, map(_lone_surrogate, value)), None)
    return None


def _refuse_lone_surrogates(row: dict, path: Path, number: int) -> None:
    """JSON may escape half of a UTF-16 pair alone: Python accepts it, Arrow cannot store it,
    so it is refused here, naming its row and field, instead of failing later without them."""
    for key, value in row.items():
        escape = _lone_surrogate(key) or _lone_surrogate(value)
        if escape:
            raise DataError(
                f"invalid text: the JSON escape {escape} is half of a UTF-16 surrogate pair "
                "without its other half, so it is not a character",
                path=str(path),
                row=number,
                column=key,
                hint="the writer split a character (often an emoji) in two; fix or remove that "
                "escape, or re-export the data from its source",
            )


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
        if _SURROGATE_ESCAPE.search(text):
            for number, row in enumerate(rows, start=1):
                _refuse_lone_surrogates(row, path, number)
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
        if _SURROGATE_ESCAPE.search(line):
            _refuse_lone_surrogates(row, path, number)
        rows.append(row)
    return rows


_OTHER_DELIMITERS = ((";", "semicolon", "sep=';'"), ("\t", "tab", "sep='\\t'"))


def _check_header(header: list[str], path: Path) -> None:
    """Refuse headers that would silently misread every row: other delimiters, repeated names."""
    if len(header) == 1:
        for char, name, sep in _OTHER_DELIMITERS:
            if char in header[0]:
                raise DataError(
                    f"the header {header[0]!r} has no commas but {header[0].count(char)} "
                    f"{name}(s): the file looks {name}-separated, and embedtune reads "
                    "comma-separated CSV",
                    path=str(path),
                    row=1,
                    hint=f"re-save it with commas, e.g. pandas.read_csv(path, {sep})"
                    ".to_csv(path, index=False), or as JSON Lines",
                )
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        name = repeated[0]
        positions = [i for i, column in enumerate(header, start=1) if column == name]
        raise DataError(
            f"the header repeats the column name {name!r} (columns "
            f"{', '.join(map(str, positions))}); only one of them could be read",
            path=str(path),
            row=1,
            column=name,
            hint="give each column a unique name",
        )


def _read_csv(path: Path) -> list[dict]:
    text = decode_file(path)
    # newline="" keeps line breaks inside quoted fields; long documents exceed csv's default
    # 128 KiB field limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as err:
        raise DataError(f"invalid CSV header: {err}", path=str(path), row=1) from None
    if header is not None:
        _check_header(list(header), path)
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
    require_regular_file(path)
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
