"""Helpers for the bad-input tests: small pair files and the CLI's error contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from embedtune.cli import main
from embedtune.data.sources import DataOptions, load_retrieval_data


def pairs(n: int = 12) -> list[dict]:
    return [
        {
            "query": f"how does feature {i} work?",
            "document": f"Feature {i} works by combining step {i} with the setting named opt{i}.",
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict], columns=("query", "document")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def load(source: Path | str, **options):
    return load_retrieval_data(DataOptions(source=str(source), **options))


def cli_error(capsys, args: list[str], output: Path) -> str:
    """Run the CLI, expect exit code 2 and an untouched output folder; return stderr."""
    code = main([*args, "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "embedtune" in err and "error" in err
    assert not output.exists(), f"{output} was written before the error"
    return err
